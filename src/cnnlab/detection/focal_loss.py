"""RetinaNet's focal loss (Lin et al., 2017): cross-entropy that down-weights easy examples.

With ``p = sigmoid(x)`` and ``p_t = p`` for positives, ``1 - p`` for negatives::

    FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t)

``gamma = 0`` and no alpha give binary cross-entropy; ``gamma = 2``, ``alpha = 0.25`` are the
paper's defaults. A well-classified example (``p_t = 0.9``) weighs ``(0.1)^2 = 1/100`` of its
cross-entropy, so the many easy background anchors no longer swamp the loss.

The arithmetic is ``torchvision.ops.sigmoid_focal_loss`` (exactly this formula, with
``binary_cross_entropy_with_logits`` for a stable ``log p_t``); cnnlab checks the arguments first.
"""

from __future__ import annotations

from torch import Tensor
from torchvision import ops

from cnnlab.core.validate import number, one_of
from cnnlab.detection._checks import check_tensor, host_values

_REDUCTIONS = ("none", "mean", "sum")


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
    one_of("reduction", reduction, _REDUCTIONS)
    if alpha is not None:
        alpha = number("alpha", alpha, minimum=0, maximum=1)
    gamma = number("gamma", gamma, minimum=0)
    inputs = check_tensor(inputs, "inputs")
    targets = check_tensor(targets, "targets", finite=False)  # the range check refuses nan
    if inputs.shape != targets.shape:
        raise ValueError(
            f"inputs and targets must have the same shape, got {tuple(inputs.shape)} and "
            f"{tuple(targets.shape)}"
        )
    values = host_values(targets)
    if values is not None and not ((values >= 0) & (values <= 1)).all():  # False for nan
        bad = values[~((values >= 0) & (values <= 1))][0]
        raise ValueError(f"targets must lie in [0, 1], got {bad.item()}")
    return ops.sigmoid_focal_loss(
        inputs, targets, -1.0 if alpha is None else alpha, gamma, reduction
    )
