"""Checks of what a convolution receives, for errors that say what the input should have been."""

from __future__ import annotations

from typing import Any

import torch

CONVOLUTIONS = frozenset(
    {"conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}
)


class InputRankError(ValueError):
    """A convolution got a tensor with one dim too few or too many (an input size without C, or
    with the batch dimension)."""

    def __init__(self, layer_dims: int, got: tuple[int, ...]) -> None:
        self.sample_dims = layer_dims - 1  # C and the spatial dims
        self.got = got
        names = ("L", "H W", "D H W")[layer_dims - 3] if 3 <= layer_dims <= 5 else "..."
        super().__init__(f"takes inputs of {layer_dims} dims (N, C, {names}), got shape {got}")


def check_convolution_rank(x: Any, w: Any) -> None:
    """A batched input of the convolution's rank: a missing C or an extra batch dim is an
    error here, where PyTorch would read the input as unbatched or fail on its rank."""
    if isinstance(x, torch.Tensor) and isinstance(w, torch.Tensor) and x.dim() != w.dim():
        raise InputRankError(w.dim(), tuple(x.shape))


def check_convolution_input(a: dict[str, Any]) -> None:
    """Raise a clear error for an input whose channels do not fit the convolution."""
    x, w = a["input"], a["weight"]
    if not isinstance(x, torch.Tensor) or x.dim() < 2:
        return
    channels_dim = 1 if x.dim() == w.dim() else 0
    given = int(x.shape[channels_dim])
    expected = int(w.shape[0]) if a["transposed"] else int(w.shape[1]) * int(a["groups"])
    if given != expected:
        raise ValueError(f"expects {expected} input channels, got {given}")
