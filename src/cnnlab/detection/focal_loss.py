"""RetinaNet's focal loss (Lin et al., 2017): cross-entropy that down-weights easy examples.

With ``p = sigmoid(x)`` and ``p_t = p`` for positives, ``1 - p`` for negatives::

    FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t)

``gamma = 0`` and no alpha give binary cross-entropy; ``gamma = 2``, ``alpha = 0.25`` are the
paper's defaults. A well-classified example (``p_t = 0.9``) weighs ``(0.1)^2 = 1/100`` of its
cross-entropy, so the many easy background anchors no longer swamp the loss.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from cnnlab.core.names import unknown_name_message
from cnnlab.detection._checks import check_tensor

_REDUCTIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "none": lambda loss: loss,
    "mean": torch.mean,
    "sum": torch.sum,
}


def sigmoid_focal_loss(
    inputs: Tensor,
    targets: Tensor,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    reduction: str = "none",
) -> Tensor:
    """The focal loss of logits ``inputs`` against binary (or soft) ``targets``.

    Args:
        inputs: logits, any shape.
        targets: labels in [0, 1], same shape as ``inputs``.
        alpha: weight of the positives in [0, 1] (negatives get ``1 - alpha``), or ``None`` for
            no weighting (torchvision spells that ``alpha=-1``; a negative alpha is an error here).
        gamma: focusing parameter (>= 0).
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Shape:
        inputs: (*), targets: (*) -> (*) for ``"none"``, else a scalar.
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(unknown_name_message("reduction", str(reduction), _REDUCTIONS))
    if alpha is not None and (
        isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1
    ):
        raise ValueError(f"alpha must be in [0, 1] or None (no weighting), got {alpha!r}")
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not gamma >= 0:
        raise ValueError(f"gamma must be a number >= 0, got {gamma!r}")
    inputs = check_tensor(inputs, "inputs")
    targets = check_tensor(targets, "targets")
    if inputs.shape != targets.shape:
        raise ValueError(
            f"inputs and targets must have the same shape, got {tuple(inputs.shape)} and "
            f"{tuple(targets.shape)}"
        )
    if targets.numel() and bool(((targets < 0) | (targets > 1)).any()):
        raise ValueError("targets must lie in [0, 1]")
    p = torch.sigmoid(inputs)
    ce = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * (1 - p_t) ** gamma
    if alpha is not None:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return _REDUCTIONS[reduction](loss)
