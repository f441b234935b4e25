"""Layer, instance and group normalisation: batch norm's formula over other axes.

For an input (N, C, H, W): BatchNorm takes statistics over (N, H, W) per channel; LayerNorm over
the trailing ``normalized_shape`` axes per sample; InstanceNorm over (H, W) per sample and
channel; GroupNorm over (C/G, H, W) per sample and group of channels. Only BatchNorm mixes
samples, so only it behaves differently in training and evaluation by default.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnlab.core.validate import positive_int
from cnnlab.scratch.batchnorm import check_eps, check_momentum, update_running
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


class NormLayerCache(NamedTuple):
    norm: NormCache | None
    inv_std: np.ndarray | None
    affine: AffineCache
    shape: tuple[int, ...]  # the input shape (normalisation may reshape it)


def _affine_parameters(
    layer: Module, shape: tuple[int, ...], enabled: bool, with_bias: bool, dtype: type
) -> None:
    layer.weight = Parameter(np.ones(shape, dtype=dtype)) if enabled else None
    layer.bias = Parameter(np.zeros(shape, dtype=dtype)) if enabled and with_bias else None


def _affine_backward(layer: Module, dout: np.ndarray, cache: NormLayerCache) -> np.ndarray:
    dxhat, dgamma, dbeta = affine_backward(dout, cache.affine)
    if layer.weight is not None:
        layer.weight.accumulate(dgamma.reshape(layer.weight.shape))
    if layer.bias is not None:
        layer.bias.accumulate(dbeta.reshape(layer.bias.shape))
    return dxhat


class LayerNorm(Module):
    """Standardise each sample over its trailing ``normalized_shape`` axes.

    Math:
        xhat = (x - mean) / sqrt(var + eps) over the last k axes, y = gamma * xhat + beta,
        gamma and beta of shape ``normalized_shape`` (elementwise)

    Shape:
        (*, *normalized_shape) -> same
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: type = np.float64,
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(positive_int("normalized_shape", s) for s in shape)
        if not self.normalized_shape:
            raise ValueError("normalized_shape must name at least one axis, got ()")
        self.eps = check_eps(eps)
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        k = len(self.normalized_shape)
        if not isinstance(x, np.ndarray) or x.shape[x.ndim - k :] != self.normalized_shape:
            raise ValueError(
                f"LayerNorm expects an input ending in {self.normalized_shape}, "
                f"got {getattr(x, 'shape', type(x).__name__)}"
            )
        axes = tuple(range(x.ndim - k, x.ndim))
        xhat, _, _, norm = normalize_forward(x, axes, self.eps)
        reduce_axes = tuple(range(x.ndim - k))
        weight = None if self.weight is None else self.weight.data
        bias = None if self.bias is None else self.bias.data
        out, affine = affine_forward(xhat, weight, bias, reduce_axes)
        return self._keep(NormLayerCache(norm, None, affine, x.shape), out)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        cache = self._take_cache(dout)
        return normalize_backward(_affine_backward(self, dout, cache), cache.norm)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None}"
        )


class GroupNorm(Module):
    """Standardise each sample over groups of ``num_channels / num_groups`` channels.

    ``num_groups=1`` normalises like LayerNorm over (C, H, W) (with per-channel affine);
    ``num_groups=num_channels`` normalises like InstanceNorm.

    Shape:
        (N, C, *) -> same
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        *,
        dtype: type = np.float64,
    ) -> None:
        super().__init__()
        self.num_groups = positive_int("num_groups", num_groups)
        self.num_channels = positive_int("num_channels", num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(
                f"num_channels={num_channels} must be divisible by num_groups={num_groups}"
            )
        self.eps = check_eps(eps)
        _affine_parameters(self, (self.num_channels,), affine, True, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, (2, 3, 4, 5), self.num_channels)
        n = x.shape[0]
        grouped = x.reshape(n, self.num_groups, -1)
        xhat, _, _, norm = normalize_forward(grouped, (2,), self.eps)
        xhat = xhat.reshape(x.shape)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        weight = None if self.weight is None else self.weight.data.reshape(shape)
        bias = None if self.bias is None else self.bias.data.reshape(shape)
        reduce_axes = tuple(i for i in range(x.ndim) if i != 1)
        out, affine = affine_forward(xhat, weight, bias, reduce_axes)
        return self._keep(NormLayerCache(norm, None, affine, x.shape), out)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        cache = self._take_cache(dout)
        dxhat = _affine_backward(self, dout, cache)
        dx = normalize_backward(dxhat.reshape(cache.norm.xhat.shape), cache.norm)
        return dx.reshape(cache.shape)

    def extra_repr(self) -> str:
        affine = self.weight is not None
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={affine}"


class InstanceNorm2d(Module):
    """Standardise each (sample, channel) map over its H x W pixels (style transfer's norm).

    With ``track_running_stats`` the running estimates average the per-instance statistics over
    the batch (unbiased variance) and replace them in eval mode, as torch does.

    Shape:
        (N, C, H, W) -> same
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        *,
        dtype: type = np.float64,
    ) -> None:
        super().__init__()
        self.num_features = positive_int("num_features", num_features)
        self.eps = check_eps(eps)
        self.momentum = check_momentum(momentum)
        self.track_running_stats = bool(track_running_stats)
        _affine_parameters(self, (self.num_features,), affine, True, dtype)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, (4,), self.num_features)
        shape = (1, -1, 1, 1)
        if self.training or not self.track_running_stats:
            count = x.shape[2] * x.shape[3]
            if count <= 1:
                raise ValueError(
                    f"InstanceNorm2d needs more than 1 pixel per map, got input of shape {x.shape}"
                )
            xhat, mean, var, norm = normalize_forward(x, (2, 3), self.eps)
            inv_std = None
            if self.training and self.track_running_stats:
                # torch: momentum None means no update for instance norm
                factor = 0.0 if self.momentum is None else self.momentum
                update_running(self.running_mean, mean.mean(axis=(0, 2, 3)), factor, 1)
                unbiased = (var * (count / (count - 1))).mean(axis=(0, 2, 3))
                update_running(self.running_var, unbiased, factor, 1)
        else:
            norm = None
            inv_std = (1.0 / np.sqrt(self.running_var + self.eps)).reshape(shape)
            xhat = (x - self.running_mean.reshape(shape)) * inv_std
        weight = None if self.weight is None else self.weight.data.reshape(shape)
        bias = None if self.bias is None else self.bias.data.reshape(shape)
        out, affine = affine_forward(xhat, weight, bias, (0, 2, 3))
        return self._keep(NormLayerCache(norm, inv_std, affine, x.shape), out)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        cache = self._take_cache(dout)
        dxhat = _affine_backward(self, dout, cache)
        if cache.norm is None:
            return dxhat * cache.inv_std
        return normalize_backward(dxhat, cache.norm)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.weight is not None}, track_running_stats={self.track_running_stats}"
        )
