"""Weight initialisation with torch's fan and gain conventions (``torch.nn.init``).

Xavier/Glorot keeps the variance of activations and gradients equal across a linear layer:
``Var(W) = 2 / (fan_in + fan_out)``. Kaiming/He accounts for ReLU halving the variance:
``Var(W) = 2 / fan`` (``gain^2 / fan`` in general). For a weight of shape
``(out, in, *kernel)``: ``fan_in = in * prod(kernel)``, ``fan_out = out * prod(kernel)``.
Every function fills its argument in place, draws from a ``numpy.random.Generator`` (``rng``:
a Generator, a seed or ``None``) and returns the array.
"""

from __future__ import annotations

import math

import numpy as np

from cnnlab.core.validate import one_of
from cnnlab.scratch.parameter import Parameter

RngLike = np.random.Generator | int | None

_LINEAR_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d")
# nonlinearity -> gain(param), as torch.nn.init.calculate_gain
GAINS: dict[str, object] = {
    **{name: (lambda param: 1.0) for name in _LINEAR_GAIN},
    "sigmoid": lambda param: 1.0,
    "tanh": lambda param: 5.0 / 3.0,
    "relu": lambda param: math.sqrt(2.0),
    "leaky_relu": lambda param: math.sqrt(2.0 / (1.0 + (0.01 if param is None else param) ** 2)),
    "selu": lambda param: 3.0 / 4.0,
}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (``param`` is LeakyReLU's negative slope).

    Raises:
        ValueError: unknown nonlinearity.
    """
    return float(GAINS[one_of("nonlinearity", nonlinearity, GAINS)](param))  # type: ignore[operator]


def fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shape ``(out, in, *kernel)``.

    Raises:
        ValueError: fewer than two dimensions.
    """
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with >= 2 dimensions, got {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(shape: tuple[int, ...], mode: str) -> int:
    fans = dict(zip(("fan_in", "fan_out"), fan_in_and_fan_out(shape), strict=True))
    return fans[one_of("mode", mode, fans)]


def _array(tensor: np.ndarray | Parameter) -> np.ndarray:
    return tensor.data if isinstance(tensor, Parameter) else tensor


def uniform_(
    tensor: np.ndarray | Parameter, a: float = 0.0, b: float = 1.0, rng: RngLike = None
) -> np.ndarray:
    """Fill with ``U(a, b)``."""
    array = _array(tensor)
    array[...] = np.random.default_rng(rng).uniform(a, b, size=array.shape)
    return array


def normal_(
    tensor: np.ndarray | Parameter, mean: float = 0.0, std: float = 1.0, rng: RngLike = None
) -> np.ndarray:
    """Fill with ``N(mean, std^2)``."""
    array = _array(tensor)
    array[...] = np.random.default_rng(rng).normal(mean, std, size=array.shape)
    return array


def constant_(tensor: np.ndarray | Parameter, value: float) -> np.ndarray:
    """Fill with ``value`` (``zeros_`` and ``ones_`` are the two common cases)."""
    array = _array(tensor)
    array[...] = value
    return array


def zeros_(tensor: np.ndarray | Parameter) -> np.ndarray:
    return constant_(tensor, 0.0)


def ones_(tensor: np.ndarray | Parameter) -> np.ndarray:
    return constant_(tensor, 1.0)


def xavier_uniform_(
    tensor: np.ndarray | Parameter, gain: float = 1.0, rng: RngLike = None
) -> np.ndarray:
    """Glorot & Bengio (2010): ``U(-a, a)``, ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(_array(tensor).shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, rng)


def xavier_normal_(
    tensor: np.ndarray | Parameter, gain: float = 1.0, rng: RngLike = None
) -> np.ndarray:
    """Glorot & Bengio (2010): ``N(0, std^2)``, ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(_array(tensor).shape)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng)


def kaiming_uniform_(
    tensor: np.ndarray | Parameter,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: RngLike = None,
) -> np.ndarray:
    """He et al. (2015): ``U(-b, b)``, ``b = gain * sqrt(3 / fan)``, gain from ``nonlinearity``."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(_array(tensor).shape, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, rng)


def kaiming_normal_(
    tensor: np.ndarray | Parameter,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: RngLike = None,
) -> np.ndarray:
    """He et al. (2015): ``N(0, std^2)``, ``std = gain / sqrt(fan)``."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(_array(tensor).shape, mode))
    return normal_(tensor, 0.0, std, rng)


def default_layer_init_(
    weight: Parameter, bias: Parameter | None, rng: np.random.Generator
) -> None:
    """torch's default for Linear and Conv: ``kaiming_uniform_(a=sqrt(5))``, i.e.
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, and the bias from the same range."""
    kaiming_uniform_(weight, a=math.sqrt(5.0), rng=rng)
    if bias is not None:
        fan_in, _ = fan_in_and_fan_out(weight.shape)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound, rng)
