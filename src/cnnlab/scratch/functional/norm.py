"""Normalisation over chosen axes, forward and backward: the core of BN, LN, IN and GN.

The four layers differ only in which axes the statistics are taken over (NCHW input):
BatchNorm over (N, H, W) per channel, LayerNorm over the trailing ``normalized_shape`` axes per
sample, InstanceNorm over (H, W) per (sample, channel), GroupNorm over (C/G, H, W) per
(sample, group).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class NormCache(NamedTuple):
    """The normalised input and the inverse standard deviation, per statistic."""

    xhat: np.ndarray
    inv_std: np.ndarray  # keepdims shape, broadcastable to x
    axes: tuple[int, ...]
    count: int  # number of values per statistic, m


def normalize_forward(
    x: np.ndarray, axes: tuple[int, ...], eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, NormCache]:
    """Standardise ``x`` over ``axes`` with the biased variance.

    Math:
        mu = mean(x),  var = mean((x - mu)^2),  xhat = (x - mu) / sqrt(var + eps)

    Returns:
        ``(xhat, mean, var, cache)``; mean and var keep the reduced axes (size 1).
    """
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = centred * inv_std
    count = int(np.prod([x.shape[a] for a in axes]))
    return xhat, mean, var, NormCache(xhat, inv_std, axes, count)


def normalize_backward(dxhat: np.ndarray, cache: NormCache) -> np.ndarray:
    """Gradient through the standardisation (the batch-norm backward of the notes).

    Math:
        dx = (1 / m) * inv_std * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))
        (sums over the normalised axes; m values per statistic). The two sums are the paths
        through the mean and through the variance.
    """
    xhat, inv_std, axes, m = cache
    sum_d = dxhat.sum(axis=axes, keepdims=True)
    sum_dx = (dxhat * xhat).sum(axis=axes, keepdims=True)
    return (inv_std / m) * (m * dxhat - sum_d - xhat * sum_dx)


class AffineCache(NamedTuple):
    """The input of the per-channel (or per-feature) scale and shift."""

    xhat: np.ndarray
    weight: np.ndarray | None  # broadcastable to xhat
    reduce_axes: tuple[int, ...]  # axes summed for the parameter gradients


def affine_forward(
    xhat: np.ndarray,
    weight: np.ndarray | None,
    bias: np.ndarray | None,
    reduce_axes: tuple[int, ...],
) -> tuple[np.ndarray, AffineCache]:
    """``y = gamma * xhat + beta`` with gamma, beta already reshaped to broadcast.

    Shape:
        xhat: any; weight, bias: broadcastable to xhat -> like xhat
    """
    y = xhat if weight is None else xhat * weight
    if bias is not None:
        y = y + bias
    return y, AffineCache(xhat, weight, reduce_axes)


def affine_backward(
    dout: np.ndarray, cache: AffineCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns ``(dxhat, dgamma, dbeta)`` with dgamma, dbeta summed over ``reduce_axes``.

    Math:
        dgamma = sum(dy * xhat),  dbeta = sum(dy),  dxhat = dy * gamma
    """
    xhat, weight, axes = cache
    dgamma = (dout * xhat).sum(axis=axes)
    dbeta = dout.sum(axis=axes)
    dxhat = dout if weight is None else dout * weight
    return dxhat, dgamma, dbeta
