"""The fully connected layer and the reshape that feeds it."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnlab.core.validate import positive_int
from cnnlab.scratch.init import RngLike, default_layer_init_
from cnnlab.scratch.module import Module
from cnnlab.scratch.parameter import Parameter


class LinearCache(NamedTuple):
    x2d: np.ndarray  # (M, in_features), the input with leading axes merged
    input_shape: tuple[int, ...]


class Linear(Module):
    """``y = x W^T + b`` over the last axis, with torch's shapes and default initialisation.

    Math:
        dW = dY^T X,  db = sum_rows dY,  dX = dY W

    Shape:
        (*, in_features) -> (*, out_features); weight (out_features, in_features)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        rng: RngLike = None,
        dtype: type = np.float64,
    ) -> None:
        super().__init__()
        self.in_features = positive_int("in_features", in_features)
        self.out_features = positive_int("out_features", out_features)
        self.weight = Parameter(np.zeros((self.out_features, self.in_features), dtype=dtype))
        self.bias = Parameter(np.zeros(self.out_features, dtype=dtype)) if bias else None
        default_layer_init_(self.weight, self.bias, np.random.default_rng(rng))

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim < 1 or x.shape[-1] != self.in_features:
            shape = getattr(x, "shape", type(x).__name__)
            raise ValueError(f"Linear expects (*, {self.in_features}) input, got {shape}")
        x2d = x.reshape(-1, self.in_features)
        out = x2d @ self.weight.data.T
        if self.bias is not None:
            out += self.bias.data
        return self._keep(LinearCache(x2d, x.shape), out.reshape(*x.shape[:-1], self.out_features))

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x2d, input_shape = self._take_cache(dout)
        d2d = dout.reshape(-1, self.out_features)
        self.weight.accumulate(d2d.T @ x2d)
        if self.bias is not None:
            self.bias.accumulate(d2d.sum(axis=0))
        return (d2d @ self.weight.data).reshape(input_shape)

    def extra_repr(self) -> str:
        bias = self.bias is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={bias}"


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` into one (torch's defaults: all but the batch axis).

    Shape:
        (N, C, H, W) -> (N, C*H*W) by default
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: np.ndarray) -> np.ndarray:
        start = self.start_dim % x.ndim if -x.ndim <= self.start_dim < x.ndim else None
        end = self.end_dim % x.ndim if -x.ndim <= self.end_dim < x.ndim else None
        if start is None or end is None or start > end:
            raise ValueError(
                f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) does not fit an "
                f"input of shape {x.shape}"
            )
        return self._keep(x.shape, x.reshape(*x.shape[:start], -1, *x.shape[end + 1 :]))

    def backward(self, dout: np.ndarray) -> np.ndarray:
        input_shape = self._take_cache(dout)
        return dout.reshape(input_shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
