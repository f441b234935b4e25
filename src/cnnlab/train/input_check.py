"""Check, on the meta device, that a model accepts an input size before training starts."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cnnlab.models import create_model, model_info


def _meta_model(name: str, num_classes: int, chans: int, **kwargs: Any) -> nn.Module:
    """``create_model(name, ...)`` on the meta device, in eval mode (an option it rejects is its
    own ValueError)."""
    with torch.device("meta"):
        return create_model(name, num_classes=num_classes, in_chans=chans, **kwargs).eval()


def _fits(model: nn.Module, size: tuple[int, int, int]) -> bool:
    try:
        with torch.device("meta"):
            model(torch.empty(2, *size))
    except (RuntimeError, ValueError):
        return False
    return True


def smallest_input(
    name: str, num_classes: int, chans: int, upper: int, **kwargs: Any
) -> int | None:
    """The smallest square side in [1, upper] the model accepts (binary search), or None."""
    model = _meta_model(name, num_classes, chans, **kwargs)
    if not _fits(model, (chans, upper, upper)):
        return None
    lo, hi = 1, upper
    while lo < hi:
        mid = (lo + hi) // 2
        if _fits(model, (chans, mid, mid)):
            hi = mid
        else:
            lo = mid + 1
    return lo


def check_input_size(
    name: str, num_classes: int, size: tuple[int, int, int], **kwargs: Any
) -> None:
    """Raise ``ValueError`` naming the minimum side when ``model(name, **kwargs)`` cannot take
    ``size`` (or the model's own error when it rejects ``kwargs``)."""
    if _fits(_meta_model(name, num_classes, size[0], **kwargs), size):
        return
    default = model_info(name).default_input_size
    upper = max(default[1], default[2], size[1], size[2])
    smallest = smallest_input(name, num_classes, size[0], upper, **kwargs)
    hint = (
        f"it needs inputs of at least {smallest}x{smallest}"
        if smallest
        else f"its default input is {default[1]}x{default[2]}"
    )
    raise ValueError(
        f"model {name!r} cannot take {size[0]}x{size[1]}x{size[2]} inputs: {hint}; "
        f"pass --image-size N to resize the images"
    )
