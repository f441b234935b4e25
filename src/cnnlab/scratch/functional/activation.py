"""Activation functions and their derivatives, as torch computes them.

Each activation is a pair: ``f(x) -> y`` and ``f_grad(x, y) -> dy/dx`` (elementwise), so the
backward pass is ``dx = dout * f_grad(x, y)``. Derivatives at the kinks follow torch: ReLU,
LeakyReLU, ELU and SELU use the ``x > 0`` branch only for strictly positive x.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_erf_ufunc = np.frompyfunc(math.erf, 1, 1)


class ActivationCache(NamedTuple):
    """Input and output of an elementwise activation."""

    x: np.ndarray
    y: np.ndarray


def erf(x: np.ndarray) -> np.ndarray:
    """The error function elementwise (``math.erf``: correctly rounded to float64)."""
    return np.asarray(_erf_ufunc(x), dtype=np.float64).astype(x.dtype, copy=False)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow for large ``|x|``."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return y * (1.0 - y)


def tanh(x: np.ndarray) -> np.ndarray:
    return np.tanh(x)


def tanh_grad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 1.0 - y * y


def relu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, 0.0).astype(x.dtype, copy=False)


def relu_grad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x > 0).astype(x.dtype)


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    return np.where(x > 0, x, x * negative_slope)


def leaky_relu_grad(x: np.ndarray, y: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    return np.where(x > 0, 1.0, negative_slope).astype(x.dtype, copy=False)


def elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def elu_grad(x: np.ndarray, y: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def selu(x: np.ndarray) -> np.ndarray:
    return SELU_SCALE * elu(x, SELU_ALPHA)


def selu_grad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return SELU_SCALE * elu_grad(x, y, SELU_ALPHA)


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU: ``x * Phi(x)`` with ``Phi(x) = (1 + erf(x / sqrt 2)) / 2``."""
    return x * 0.5 * (1.0 + erf(x / _SQRT_2))


def gelu_grad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``Phi(x) + x * phi(x)`` with the standard normal density phi."""
    return 0.5 * (1.0 + erf(x / _SQRT_2)) + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)


_GELU_K = math.sqrt(2.0 / math.pi)


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """GELU's tanh approximation (torch ``approximate='tanh'``)."""
    return 0.5 * x * (1.0 + np.tanh(_GELU_K * (x + 0.044715 * x**3)))


def gelu_tanh_grad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    t = np.tanh(_GELU_K * (x + 0.044715 * x**3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _GELU_K * (1.0 + 3 * 0.044715 * x * x)


def silu(x: np.ndarray) -> np.ndarray:
    """SiLU / swish: ``x * sigmoid(x)``."""
    return x * sigmoid(x)


def silu_grad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    s = sigmoid(x)
    return s * (1.0 + x * (1.0 - s))


def softplus(x: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    """``log(1 + exp(beta x)) / beta``, linear where ``beta * x > threshold`` (as torch)."""
    bx = beta * x
    return np.where(bx > threshold, x, np.log1p(np.exp(np.minimum(bx, threshold))) / beta)


def softplus_grad(
    x: np.ndarray, y: np.ndarray, beta: float = 1.0, threshold: float = 20.0
) -> np.ndarray:
    bx = beta * x
    return np.where(bx > threshold, 1.0, sigmoid(bx))


def mish(x: np.ndarray) -> np.ndarray:
    """``x * tanh(softplus(x))``."""
    return x * np.tanh(np.logaddexp(0.0, x))


def mish_grad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    t = np.tanh(np.logaddexp(0.0, x))
    return t + x * sigmoid(x) * (1.0 - t * t)


def prelu(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``max(0, x) + a * min(0, x)`` with ``a`` per channel (axis 1), or one shared ``a``."""
    a = _channel_view(weight, x)
    return np.where(x > 0, x, a * x)


def prelu_backward(
    dout: np.ndarray, cache: ActivationCache, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Returns ``(dx, dweight)``; ``dweight = sum over x <= 0 of dout * x`` per channel."""
    x = cache.x
    a = _channel_view(weight, x)
    dx = np.where(x > 0, dout, a * dout)
    contribution = np.where(x > 0, 0.0, dout * x)
    if weight.size == 1:
        return dx, contribution.sum().reshape(weight.shape)
    axes = tuple(i for i in range(x.ndim) if i != 1)
    return dx, contribution.sum(axis=axes)


def _channel_view(weight: np.ndarray, x: np.ndarray) -> np.ndarray:
    if weight.size == 1 or x.ndim < 2:
        return weight.reshape(()) if weight.size == 1 else weight
    return weight.reshape(1, -1, *([1] * (x.ndim - 2)))
