"""Activation layers: Sigmoid, Tanh, ReLU and its variants, GELU, SiLU, Mish, Softplus.

Sigmoid and tanh saturate: their derivative is at most 1/4 and 1, so gradients shrink through
deep stacks (vanishing gradients). ReLU's derivative is exactly 1 for positive inputs, which is
why it trains deep networks; its variants give negative inputs a small slope (LeakyReLU, PReLU)
or a smooth saturation (ELU, SELU); GELU, SiLU and Mish are smooth ReLU-like curves.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnlab.core.validate import number, one_of, positive_int
from cnnlab.scratch.functional import activation as F
from cnnlab.scratch.functional.activation import ActivationCache
from cnnlab.scratch.module import Module
from cnnlab.scratch.parameter import Parameter


class _Elementwise(Module):
    """``y = f(x)``, ``dx = dy * f'(x)`` with the pair from ``functional.activation``.

    Shape:
        any -> same
    """

    fn: Callable[..., np.ndarray]
    grad: Callable[..., np.ndarray]

    def _kwargs(self) -> dict[str, float]:
        return {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = type(self).fn(x, **self._kwargs())
        return self._keep(ActivationCache(x, y), y)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x, y = self._take_cache(dout)
        return dout * type(self).grad(x, y, **self._kwargs())


class Sigmoid(_Elementwise):
    """Math: y = 1 / (1 + e^-x), dy/dx = y (1 - y) <= 1/4."""

    fn, grad = F.sigmoid, F.sigmoid_grad


class Tanh(_Elementwise):
    """Math: y = tanh x, dy/dx = 1 - y^2."""

    fn, grad = F.tanh, F.tanh_grad


class ReLU(_Elementwise):
    """Math: y = max(0, x), dy/dx = 1 if x > 0 else 0."""

    fn, grad = F.relu, F.relu_grad


class LeakyReLU(_Elementwise):
    """Math: y = x if x > 0 else a x (a = negative_slope)."""

    fn, grad = F.leaky_relu, F.leaky_relu_grad

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = number("negative_slope", negative_slope)

    def _kwargs(self) -> dict[str, float]:
        return {"negative_slope": self.negative_slope}


class ELU(_Elementwise):
    """Math: y = x if x > 0 else alpha (e^x - 1), dy/dx = alpha e^x for x <= 0."""

    fn, grad = F.elu, F.elu_grad

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = number("alpha", alpha)

    def _kwargs(self) -> dict[str, float]:
        return {"alpha": self.alpha}


class SELU(_Elementwise):
    """Math: y = scale * ELU_alpha(x), alpha = 1.6733, scale = 1.0507 (self-normalising)."""

    fn, grad = F.selu, F.selu_grad


class SiLU(_Elementwise):
    """Math: y = x sigmoid(x) (swish), dy/dx = s (1 + x (1 - s))."""

    fn, grad = F.silu, F.silu_grad


class Mish(_Elementwise):
    """Math: y = x tanh(softplus(x))."""

    fn, grad = F.mish, F.mish_grad


class Softplus(_Elementwise):
    """Math: y = log(1 + e^(beta x)) / beta, linear where beta x > threshold."""

    fn, grad = F.softplus, F.softplus_grad

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = number("beta", beta, minimum=0, exclusive_minimum=True)
        self.threshold = number("threshold", threshold)

    def _kwargs(self) -> dict[str, float]:
        return {"beta": self.beta, "threshold": self.threshold}


# approximate -> (f, f')
GELU_FORMS: dict[str, tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]] = {
    "none": (F.gelu, F.gelu_grad),
    "tanh": (F.gelu_tanh, F.gelu_tanh_grad),
}


class GELU(Module):
    """Math: y = x Phi(x) with the exact erf form (``approximate='none'``) or the tanh one.

    Shape:
        any -> same
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = one_of("approximate", approximate, GELU_FORMS)

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = GELU_FORMS[self.approximate][0](x)
        return self._keep(ActivationCache(x, y), y)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x, y = self._take_cache(dout)
        return dout * GELU_FORMS[self.approximate][1](x, y)


class PReLU(Module):
    """LeakyReLU with a learned slope: one shared ``a`` or one per channel (axis 1).

    Math:
        y = x if x > 0 else a x,  da = sum_{x <= 0} dy * x

    Shape:
        (N, C, *) -> same; weight (num_parameters,)
    """

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, *, dtype: type = np.float64
    ) -> None:
        super().__init__()
        self.num_parameters = positive_int("num_parameters", num_parameters)
        self.weight = Parameter(np.full(self.num_parameters, number("init", init), dtype=dtype))

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.num_parameters > 1 and (x.ndim < 2 or x.shape[1] != self.num_parameters):
            raise ValueError(
                f"PReLU with {self.num_parameters} parameters expects that many channels at "
                f"axis 1, got input of shape {x.shape}"
            )
        y = F.prelu(x, self.weight.data)
        return self._keep(ActivationCache(x, y), y)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dweight = F.prelu_backward(dout, self._take_cache(dout), self.weight.data)
        self.weight.accumulate(dweight)
        return dx

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
