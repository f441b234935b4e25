"""Input checks shared by the scores, with one wording and one policy on when values are read.

Types, dtypes and shapes are always checked: that is free. *Values* (a label inside
``[0, num_classes)``, a finite score, a 0/1 target) are checked only for CPU tensors, where
reading them costs microseconds. On an accelerator, reading them would make the host wait for the
device on every ``update`` of a meter, so there they are the caller's contract (as in torchmetrics
with ``validate_args=False`` and in torchvision's detection code). Check a CPU copy once where the
labels are made if in doubt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from cnnlab.core import validate

__all__ = [
    "as_tensor",
    "check_binary",
    "check_class_names",
    "check_finite",
    "check_integer_labels",
    "check_same_shape",
]


def as_tensor(value: Any, name: str) -> Tensor:
    """``value`` as a tensor: a tensor itself (detached) or a NumPy array (shared memory)."""
    if isinstance(value, Tensor):
        return value.detach()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    raise ValueError(
        f"{name} must be a torch.Tensor or a NumPy array, got {type(value).__name__}; "
        "wrap lists with torch.as_tensor(...)"
    )


def _values(tensor: Tensor) -> Tensor | None:
    """The tensor when its values are checked (on the CPU and not empty), else None."""
    return tensor if tensor.is_cpu and tensor.numel() > 0 else None


def check_integer_labels(
    tensor: Tensor, name: str, num_classes: int, ignore_index: int | None = None
) -> Tensor:
    """An integer tensor of class indices in ``[0, num_classes)`` (or ``== ignore_index``)."""
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        raise ValueError(f"{name} must hold integer class indices, got dtype {tensor.dtype}")
    values = _values(tensor)
    if values is None:
        return tensor
    bad = (values < 0) | (values >= num_classes)
    if ignore_index is not None:
        bad &= values != ignore_index
    if bool(bad.any()):
        at = tuple(int(i) for i in torch.nonzero(bad)[0])
        allowed = f"integers in [0, {num_classes})"
        if ignore_index is not None:
            allowed += f" or the ignore_index {ignore_index}"
        raise ValueError(f"{name} must hold {allowed}, got {int(values[at])} at index {at}")
    return tensor


def check_finite(tensor: Tensor, name: str) -> Tensor:
    """A floating-point tensor whose entries are finite (checked on the CPU)."""
    if not tensor.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {tensor.dtype}")
    values = _values(tensor)
    if values is not None and not bool(torch.isfinite(values).all()):
        at = tuple(int(i) for i in torch.nonzero(~torch.isfinite(values))[0])
        raise ValueError(f"{name} must be finite, got {float(values[at])} at index {at}")
    return tensor


def check_binary(tensor: Tensor, name: str) -> Tensor:
    """A tensor of 0/1 indicators (bool, integer or float), returned as ``bool``."""
    if tensor.is_complex():
        raise ValueError(f"{name} must hold 0/1 indicators, got dtype {tensor.dtype}")
    values = _values(tensor)
    if values is not None:
        bad = (values != 0) & (values != 1)
        if bool(bad.any()):
            at = tuple(int(i) for i in torch.nonzero(bad)[0])
            raise ValueError(f"{name} must hold 0/1 indicators, got {values[at].item()} at {at}")
    return tensor != 0


def check_same_shape(a: Tensor, a_name: str, b: Tensor, b_name: str) -> None:
    """Raise unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{a_name} and {b_name} must have the same shape, "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def check_class_names(class_names: Sequence[str] | None, num_classes: int) -> list[str]:
    """``num_classes`` distinct names; ``None`` gives ``"0"``, ``"1"``, ..."""
    num_classes = validate.positive_int("num_classes", num_classes)
    if class_names is None:
        return [str(i) for i in range(num_classes)]
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise validate.InvalidArgument(
            "class_names",
            f"class_names must be a sequence of {num_classes} strings, got {class_names!r}",
        )
    names = list(class_names)
    if len(names) != num_classes or not all(isinstance(n, str) for n in names):
        raise validate.InvalidArgument(
            "class_names",
            f"class_names must be {num_classes} strings (one per class), got {class_names!r}",
        )
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise validate.InvalidArgument(
            "class_names", f"class_names must be distinct, got {repeated} more than once"
        )
    return names
