"""Unstructured magnitude pruning: zero the smallest weights of every conv and linear layer.

The masks are those of ``torch.nn.utils.prune.l1_unstructured`` (the tests compare them): in each
layer the ``round(amount * n)`` weights of smallest magnitude are zeroed. Han et al., "Learning
both Weights and Connections for Efficient Neural Networks" (NeurIPS 2015). The weights stay dense
tensors: the file and the dense kernels' time do not shrink, only the count of non-zero weights
(sparse storage or sparse kernels would be needed to cash it in; structured pruning,
:mod:`cnnlab.compress.channel_prune`, removes whole channels instead).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from cnnlab.core.validate import number

#: The layers whose weights are pruned.
PRUNABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def magnitude_mask(weight: torch.Tensor, amount: float) -> torch.Tensor:
    """1 where a weight survives, 0 for the ``round(amount * n)`` smallest ``|w|``.

    Ties at the threshold are broken by position (a stable sort), which agrees with
    ``l1_unstructured`` whenever the magnitudes are distinct.

    Shape:
        weight: any; returns the same shape, dtype of ``weight``.
    """
    amount = number("amount", amount, minimum=0, maximum=1)
    n_prune = round(amount * weight.numel())  # Python's round, as torch.nn.utils.prune
    order = torch.argsort(weight.detach().abs().reshape(-1), stable=True)
    mask = torch.ones(weight.numel(), dtype=weight.dtype, device=weight.device)
    mask[order[:n_prune]] = 0
    return mask.reshape(weight.shape)


def prunable_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The conv and linear layers of ``model`` by qualified name."""
    return {n: m for n, m in model.named_modules() if isinstance(m, PRUNABLE)}


def magnitude_masks(model: nn.Module, amount: float) -> dict[str, torch.Tensor]:
    """One :func:`magnitude_mask` per conv/linear weight, by layer name.

    Raises:
        ValueError: the model has no conv or linear layer.
    """
    layers = prunable_layers(model)
    if not layers:
        raise ValueError(f"{type(model).__name__} has no conv or linear layer to prune")
    return {name: magnitude_mask(layer.weight, amount) for name, layer in layers.items()}


@torch.no_grad()
def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Multiply each named layer's weight by its mask, in place; return ``model``."""
    for name, mask in masks.items():
        model.get_submodule(name).weight.mul_(mask)
    return model


def prune_unstructured(
    model: nn.Module, amount: float
) -> tuple[nn.Module, dict[str, torch.Tensor]]:
    """A copy of ``model`` with the smallest ``amount`` of each conv/linear weight set to zero.

    Returns:
        The pruned copy and its masks (to keep pruned weights at zero while fine-tuning).
    """
    amount = number("amount", amount, minimum=0, maximum=1, exclusive_maximum=True)
    masks = magnitude_masks(model, amount)
    return apply_masks(copy.deepcopy(model), masks), masks


def sparsity(model: nn.Module) -> float:
    """The share of zero weights over all conv and linear layers."""
    weights = [m.weight for m in prunable_layers(model).values()]
    total = sum(w.numel() for w in weights)
    return sum(int((w == 0).sum()) for w in weights) / max(total, 1)
