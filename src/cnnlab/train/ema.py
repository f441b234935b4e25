"""An exponential moving average of the weights: torch's ``AveragedModel``.

``ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)``,
updated after every optimizer step: the first update copies the weights, then
``w_ema = decay * w_ema + (1 - decay) * w`` for every parameter and buffer (BatchNorm statistics
too). Validation, ``best.pt``'s ``model`` and ``cnnlab eval`` use the averaged weights; a
checkpoint also keeps the raw weights and the update count, so a resumed run continues both
exactly. On CUDA, ``AveragedModel`` reads its update count on the host at each update (one small
synchronisation per step, torch's own).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from cnnlab.core.validate import number

__all__ = ["WeightEMA"]


class WeightEMA:
    """The moving average of a model's weights (parameters and buffers).

    Args:
        model: the trained model (its current weights start the average at the first update).
        decay: the weight of the old average, in (0, 1) (0.999 keeps about the last 1000 steps).
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = number(
            "ema", decay, minimum=0, maximum=1, exclusive_minimum=True, exclusive_maximum=True
        )
        self.averaged = AveragedModel(
            model, multi_avg_fn=get_ema_multi_avg_fn(self.decay), use_buffers=True
        )

    @property
    def module(self) -> nn.Module:
        """The model holding the averaged weights."""
        return self.averaged.module

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """One step of the average towards ``model``'s current weights."""
        self.averaged.update_parameters(model)

    def state_dict(self) -> dict[str, Any]:
        """The update count (the weights are saved as the checkpoint's ``model``)."""
        return {"n_averaged": self.averaged.n_averaged.detach().clone()}

    def load(self, weights: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """Restore the averaged weights and the update count."""
        self.module.load_state_dict(weights)
        self.averaged.n_averaged.copy_(state["n_averaged"])
