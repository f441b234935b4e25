"""Input validation shared by the detection functions: what a valid box tensor is.

Boxes are ``(x1, y1, x2, y2)`` floats with ``x1 <= x2`` and ``y1 <= y2`` (torchvision's
convention); every public function checks its inputs here and raises ``ValueError`` saying what
was wrong, the value given, and what is allowed.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def check_tensor(value: object, name: str) -> Tensor:
    """``value`` itself when it is a floating-point tensor with only finite entries."""
    if not isinstance(value, Tensor):
        raise ValueError(
            f"{name} must be a torch.Tensor, got {type(value).__name__}; "
            "wrap arrays with torch.as_tensor(...)"
        )
    if not value.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if value.numel() and not bool(torch.isfinite(value).all()):
        bad = torch.nonzero(~torch.isfinite(value))[0].tolist()
        raise ValueError(
            f"{name} must be finite, got {value[tuple(bad)].item()} at index {tuple(bad)}"
        )
    return value


def check_boxes(boxes: object, name: str = "boxes", *, positive: bool = False) -> Tensor:
    """Check an ``(N, 4)`` tensor of ``(x1, y1, x2, y2)`` boxes and return it.

    Args:
        boxes: the candidate tensor.
        name: how the error message calls it.
        positive: require ``x2 > x1`` and ``y2 > y1`` (a log of the width follows), instead of
            ``x2 >= x1`` and ``y2 >= y1``.

    Raises:
        ValueError: not a floating tensor of shape (N, 4), a non-finite entry, or a box whose
            corners are swapped (or, with ``positive``, a box of zero width or height).
    """
    boxes = check_tensor(boxes, name)
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), got {tuple(boxes.shape)}")
    for lo, hi, size in ((0, 2, "width"), (1, 3, "height")):
        extent = boxes[:, hi] - boxes[:, lo]
        bad = extent <= 0 if positive else extent < 0
        if bool(bad.any()):
            i = int(torch.nonzero(bad)[0])
            rule = ">" if positive else ">="
            axis = "x" if lo == 0 else "y"
            raise ValueError(
                f"{name}[{i}] = {boxes[i].tolist()} has {size} {extent[i].item():g}; boxes are "
                f"(x1, y1, x2, y2) with {axis}2 {rule} {axis}1"
            )
    return boxes


def check_same_length(a: Tensor, a_name: str, b: Tensor, b_name: str) -> None:
    """Raise unless ``a`` and ``b`` have the same number of rows."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{a_name} and {b_name} must have the same length, got {a.shape[0]} and {b.shape[0]}"
        )


def check_iou_threshold(value: object) -> float:
    """``value`` as a float when it lies in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"iou_threshold must be a number in [0, 1], got {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"iou_threshold must be in [0, 1], got {value!r}")
    return float(value)


def check_weights(weights: object) -> tuple[float, float, float, float]:
    """The box-coder weights ``(wx, wy, ww, wh)``: four positive finite numbers."""
    try:
        values = tuple(float(w) for w in weights)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(f"weights must be four positive numbers, got {weights!r}") from None
    if len(values) != 4 or not all(math.isfinite(w) and w > 0 for w in values):
        raise ValueError(f"weights must be four positive finite numbers, got {weights!r}")
    return values  # type: ignore[return-value]


def pair(value: object, name: str) -> tuple[int, int]:
    """An int or a pair of ints, each positive, as ``(h, w)``."""
    items = (value, value) if not isinstance(value, (tuple, list)) else tuple(value)
    if len(items) != 2 or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in items
    ):
        raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}")
    return items[0], items[1]  # type: ignore[return-value]
