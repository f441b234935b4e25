"""Input checks shared by the detection functions: what a valid box tensor is, and when we look.

Boxes are ``(x1, y1, x2, y2)`` floats with ``x1 <= x2`` and ``y1 <= y2`` (torchvision's
convention); every public function checks its inputs here and raises ``ValueError`` (an
:class:`~cnnlab.core.validate.InvalidArgument` for plain arguments) saying what was wrong, the
value given, and what is allowed.

The policy on *values*: checking that entries are finite, that corners are ordered or that a
batch index exists needs the numbers on the host. On the CPU that costs a few microseconds, so
it is always done. On an accelerator it would stop the host until the device catches up, on
every call of a training loop, so for tensors that are not on the CPU only what is free is
checked (type, dtype, shape, lengths); their values are the caller's contract, as in
torchvision. To check boxes that live on a GPU, check a CPU copy once where they are made.
Plain Python arguments (thresholds, sizes, weights) are always checked.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from cnnlab.core import validate
from cnnlab.core.validate import InvalidArgument


def has_values(tensor: Tensor) -> bool:
    """Whether ``tensor`` has values at all: meta tensors (``cnnlab summary``'s default trace)
    have shapes only. Where a detector selects boxes by their values (thresholds, NMS), a
    meta tensor keeps every candidate up to the step's cap instead: the cost of the bound."""
    return not tensor.is_meta


def values_checked(tensor: Tensor) -> bool:
    """Whether the values of ``tensor`` are checked: only on the CPU, where it is free."""
    return tensor.is_cpu and tensor.numel() > 0


def host_values(tensor: Tensor) -> np.ndarray | None:
    """The values of a CPU tensor as a NumPy view (no copy), or None where they go unchecked.

    The checks run in NumPy: on the small arrays of box code its per-call cost is a few times
    below torch's, so checking 50 boxes costs microseconds, not tens of them. Dtypes NumPy lacks
    (bfloat16, float8) are copied to float64, which holds them exactly.
    """
    if not values_checked(tensor):
        return None
    if tensor.requires_grad:
        tensor = tensor.detach()
    try:
        return tensor.numpy()
    except (TypeError, RuntimeError):
        return tensor.to(torch.float64).resolve_neg().numpy()


def _raise_non_finite(values: np.ndarray, name: str) -> None:
    at = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
    raise ValueError(f"{name} must be finite, got {values[at].item()} at index {at}")


def _check_type(value: object, name: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise ValueError(
            f"{name} must be a torch.Tensor, got {type(value).__name__}; "
            "wrap arrays with torch.as_tensor(...)"
        )
    if not value.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


def check_tensor(value: object, name: str, *, finite: bool = True) -> Tensor:
    """``value`` itself when it is a floating-point tensor (with finite entries, on the CPU).

    ``finite=False`` checks the type alone, for a caller whose own check of the values also
    refuses NaN and infinities (a range check), so that each value is read once.
    """
    value = _check_type(value, name)
    values = host_values(value) if finite else None
    if values is not None and not np.isfinite(values).all():
        _raise_non_finite(values, name)
    return value


# Per box format: the (low, high) column pairs whose order is checked, and how to say the rule.
_LAYOUTS = {
    "xyxy": ((0, 1), (2, 3), "(x1, y1, x2, y2) with x2 {rule} x1 and y2 {rule} y1"),
    "xywh": (None, (2, 3), "(x, y, w, h) with w {rule} 0 and h {rule} 0"),
    "cxcywh": (None, (2, 3), "(cx, cy, w, h) with w {rule} 0 and h {rule} 0"),
}


def check_boxes(
    boxes: object, name: str = "boxes", *, positive: bool = False, fmt: str = "xyxy"
) -> Tensor:
    """Check an ``(N, 4)`` tensor of boxes in format ``fmt`` and return it.

    The shape and dtype are always checked; finiteness and the order of the corners (a width
    and a height that are not negative) on the CPU only (see the module docstring).

    Args:
        boxes: the candidate tensor.
        name: how the error message calls it.
        positive: require widths and heights ``> 0`` (a log of the width follows), instead of
            ``>= 0``.
        fmt: ``"xyxy"``, ``"xywh"`` or ``"cxcywh"``.

    Raises:
        ValueError: not a floating tensor of shape (N, 4), a non-finite entry, or a box of
            negative (with ``positive``, also zero) width or height.
    """
    boxes = _check_type(boxes, name)
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), got {tuple(boxes.shape)}")
    values = host_values(boxes)
    if values is None:
        return boxes
    low, high, layout = _LAYOUTS[fmt]
    lo = 0.0 if low is None else values[:, low]
    hi = values[:, high]
    ordered = hi > lo if positive else hi >= lo  # NaN compares False; nothing can overflow
    if ordered.all() and np.isfinite(values).all():
        return boxes
    if not np.isfinite(values).all():
        _raise_non_finite(values, name)
    i, axis = (int(k) for k in np.argwhere(~ordered)[0])
    extent = (hi - lo)[i, axis]
    rule = ">" if positive else ">="
    raise ValueError(
        f"{name}[{i}] = {values[i].tolist()} has {('width', 'height')[axis]} {extent.item():g}; "
        f"{fmt} boxes are {layout.format(rule=rule)}"
    )


def check_same_length(a: Tensor, a_name: str, b: Tensor, b_name: str) -> None:
    """Raise unless ``a`` and ``b`` have the same number of rows."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{a_name} and {b_name} must have the same length, got {a.shape[0]} and {b.shape[0]}"
        )


def check_iou_threshold(value: object) -> float:
    """``value`` as a float when it lies in [0, 1]."""
    return validate.number("iou_threshold", value, minimum=0, maximum=1)


def _items(values: object) -> tuple[object, ...]:
    """The entries of a sequence, array or tensor argument (a tensor's as Python numbers)."""
    if isinstance(values, Tensor):
        return tuple(values.tolist()) if values.dim() == 1 else (values,)
    if isinstance(values, (str, bytes)):
        return (values,)
    try:
        return tuple(values)  # type: ignore[arg-type]
    except TypeError:
        return (values,)


def check_weights(weights: object) -> tuple[float, float, float, float]:
    """The box-coder weights ``(wx, wy, ww, wh)``: four positive finite numbers."""
    items = _items(weights)
    if len(items) != 4:
        raise InvalidArgument(
            "weights", f"weights must be four positive numbers (wx, wy, ww, wh), got {weights!r}"
        )
    wx, wy, ww, wh = (
        validate.number(f"weights[{i}]", w, minimum=0, exclusive_minimum=True)
        for i, w in enumerate(items)
    )
    return wx, wy, ww, wh


def positive_numbers(name: str, values: object) -> list[float]:
    """A non-empty sequence (or array, or 1-D tensor) of positive finite numbers, as floats."""
    items = _items(values)
    if not items:
        raise InvalidArgument(
            name, f"{name} must be a non-empty sequence of positive numbers, got {values!r}"
        )
    return [
        validate.number(f"{name}[{i}]", v, minimum=0, exclusive_minimum=True)
        for i, v in enumerate(items)
    ]
