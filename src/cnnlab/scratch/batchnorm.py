"""Batch normalisation written out: batch statistics in training, running statistics at test.

Training: each channel is standardised with the mean and (biased) variance of the current
batch, then scaled and shifted by the learned ``weight`` (gamma) and ``bias`` (beta). The
running estimates move towards the batch statistics with ``momentum`` (0.1 weights the new
value, torch's convention) and use the unbiased variance ``var * m / (m - 1)``. Evaluation:
the running estimates replace the batch statistics, so the layer is a fixed affine map.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnlab.core.validate import number, positive_int
from cnnlab.scratch.functional.norm import (
    AffineCache,
    NormCache,
    affine_backward,
    affine_forward,
    normalize_backward,
    normalize_forward,
)
from cnnlab.scratch.module import Module, check_input
from cnnlab.scratch.parameter import Parameter


def check_momentum(momentum: float | None) -> float | None:
    """``None`` (a cumulative average) or a number in [0, 1]."""
    return None if momentum is None else number("momentum", momentum, minimum=0, maximum=1)


def check_eps(eps: float) -> float:
    """A finite number > 0."""
    return number("eps", eps, minimum=0, exclusive_minimum=True)


def update_running(
    running: np.ndarray, batch_value: np.ndarray, momentum: float | None, batches: int
) -> None:
    """``running = (1 - f) running + f batch_value`` in place; ``f = momentum``, or
    ``1 / batches`` (a cumulative average) when momentum is ``None``."""
    factor = 1.0 / batches if momentum is None else momentum
    running *= 1.0 - factor
    running += factor * batch_value


class BatchNormCache(NamedTuple):
    norm: NormCache | None  # None in eval mode: the statistics are constants
    inv_std: np.ndarray  # used in eval mode
    affine: AffineCache


class _BatchNorm(Module):
    """Shared code of BatchNorm1d and BatchNorm2d: statistics over every axis except 1.

    Math:
        xhat = (x - mu_B) / sqrt(var_B + eps),  y = gamma * xhat + beta
        dx = (gamma * inv_std / m) * (m dy - sum dy - xhat sum(dy xhat))   (training)
        dx = gamma * dy / sqrt(running_var + eps)                         (eval)
        dgamma = sum dy xhat,  dbeta = sum dy
    """

    _ndims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype: type = np.float64,
    ) -> None:
        super().__init__()
        self.num_features = positive_int("num_features", num_features)
        self.eps = check_eps(eps)
        self.momentum = check_momentum(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        self.weight = Parameter(np.ones(self.num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(self.num_features, dtype=dtype)) if affine else None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, self._ndims, self.num_features)
        axes = tuple(i for i in range(x.ndim) if i != 1)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            count = x.size // self.num_features
            if count <= 1:
                raise ValueError(
                    f"{type(self).__name__} needs more than 1 value per channel in training, "
                    f"got input of shape {x.shape}"
                )
            xhat, mean, var, norm = normalize_forward(x, axes, self.eps)
            inv_std = norm.inv_std
            if self.training and self.track_running_stats:
                self.num_batches_tracked += 1
                batches = int(self.num_batches_tracked)
                update_running(self.running_mean, mean.reshape(-1), self.momentum, batches)
                unbiased = var.reshape(-1) * (count / (count - 1))
                update_running(self.running_var, unbiased, self.momentum, batches)
        else:
            norm = None
            inv_std = (1.0 / np.sqrt(self.running_var + self.eps)).reshape(shape)
            xhat = (x - self.running_mean.reshape(shape)) * inv_std
        weight = None if self.weight is None else self.weight.data.reshape(shape)
        bias = None if self.bias is None else self.bias.data.reshape(shape)
        out, affine = affine_forward(xhat, weight, bias, axes)
        return self._keep(BatchNormCache(norm, inv_std, affine), out)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        norm, inv_std, affine = self._take_cache(dout)
        dxhat, dgamma, dbeta = affine_backward(dout, affine)
        if self.weight is not None:
            self.weight.accumulate(dgamma)
            self.bias.accumulate(dbeta)
        if norm is None:
            return dxhat * inv_std
        return normalize_backward(dxhat, norm)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N,) or (N, L) per feature, for fully connected or 1-D inputs.

    Shape:
        (N, C) or (N, C, L) -> same
    """

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, H, W) per channel, for convolutional feature maps.

    Shape:
        (N, C, H, W) -> same
    """

    _ndims = (4,)
