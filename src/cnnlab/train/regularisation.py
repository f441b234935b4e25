"""Regularisation the loop adds to a step: the L1 penalty and Gaussian input noise.

Weight decay (L2) is the optimizer's ``weight_decay``; gradient clipping is torch's
``clip_grad_norm_``; label smoothing is the loss's. What is left is written here.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.optim import param_groups

__all__ = ["add_input_noise", "l1_penalty", "penalised_weights"]


def penalised_weights(model: nn.Module) -> list[nn.Parameter]:
    """The weights an L1 penalty applies to: every trainable parameter but biases and the
    parameters of normalisation layers (the rule of ``create_optimizer``'s
    ``exclude_bias_and_norm``)."""
    groups = param_groups(model, exclude_bias_and_norm=True)
    return [p for group in groups if "weight_decay" not in group for p in group["params"]]


def l1_penalty(weights: list[torch.Tensor]) -> torch.Tensor:
    """``sum |w|`` over every element of ``weights``; its gradient is ``sign(w)``.

    Shape:
        returns a scalar on the weights' device (0 for no weights).
    """
    if not weights:
        return torch.zeros(())
    return torch.stack([w.abs().sum() for w in weights]).sum()


def add_input_noise(inputs: torch.Tensor, sigma: float) -> torch.Tensor:
    """``inputs + sigma * N(0, 1)``, drawn from torch's global generator (training only).

    Shape:
        inputs: any; returns the same shape and dtype.
    """
    return inputs + sigma * torch.randn_like(inputs)
