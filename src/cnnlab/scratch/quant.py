"""Uniform integer quantisation in NumPy: min-max qparams, quantise, dequantise.

What int8 quantisation does to a tensor, written out: pick a ``scale`` (the step between two
representable values) and a ``zero_point`` (the integer that stands for 0.0) from the tensor's
range, round every value to the nearest step, clamp to the integer range, and map back. Per
tensor, one (scale, zero point) pair serves the whole tensor; per channel, each slice along
``axis`` (a conv's output channel) gets its own.

The arithmetic is float32 and rounds half to even, exactly as PyTorch's CPU kernels
(``torch.quantize_per_tensor`` / ``torch.quantize_per_channel`` multiply by ``1/scale`` in float32
and round with ``nearbyint``) and its MinMax observers (``MinMaxObserver``,
``PerChannelMinMaxObserver``) do; the tests compare the integers and the qparams with theirs.
NumPy only: never imports torch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnlab.core.validate import InvalidArgument, number, one_of

#: The integer types and their ranges (torch's ``qint8`` / ``quint8``).
DTYPES: dict[str, tuple[int, int, type]] = {
    "int8": (-128, 127, np.int8),
    "uint8": (0, 255, np.uint8),
}
#: The smallest scale, as torch's observers (``torch.finfo(torch.float32).eps``).
EPS = float(np.finfo(np.float32).eps)


class QParams(NamedTuple):
    """A scale and a zero point: 0-d arrays per tensor, shape ``(C,)`` per channel."""

    scale: np.ndarray  # float32
    zero_point: np.ndarray  # int64
    axis: int | None  # the channel axis, None per tensor


def _float32(x: object, name: str) -> np.ndarray:
    array = np.asarray(x)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise InvalidArgument(name, f"{name} must hold real numbers, got dtype {array.dtype}")
    array = array.astype(np.float32, copy=False)
    if array.size == 0:
        raise InvalidArgument(name, f"{name} must not be empty, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise InvalidArgument(name, f"{name} must be finite; it holds inf or NaN")
    return array


def _axis(axis: int | None, ndim: int) -> int | None:
    if axis is None:
        return None
    if (
        isinstance(axis, bool)
        or not isinstance(axis, (int, np.integer))
        or not -ndim <= axis < ndim
    ):
        raise InvalidArgument(
            "axis",
            f"axis must be an integer in [{-ndim}, {ndim - 1}] for a {ndim}-d tensor, got {axis!r}",
        )
    return int(axis) % ndim


def _along(values: np.ndarray, axis: int | None, ndim: int) -> np.ndarray:
    """Reshape per-channel ``values`` to broadcast along ``axis`` of an ``ndim``-d tensor."""
    if axis is None:
        return values
    shape = [1] * ndim
    shape[axis] = -1
    return values.reshape(shape)


def choose_qparams(
    x: np.ndarray,
    *,
    symmetric: bool,
    per_channel_axis: int | None = None,
    dtype: str = "int8",
    eps: float = EPS,
) -> QParams:
    """Min-max scale and zero point of ``x`` for ``dtype`` (torch's MinMax observers' rule).

    The range always includes 0 (so that 0.0 -- padding, ReLU zeros -- is exact). Symmetric
    quantisation centres the range on 0 (zero point 0 for int8, 128 for uint8); affine
    quantisation maps ``[min, max]`` onto the whole integer range.

    Math:
        lo = min(min(x), 0),  hi = max(max(x), 0)
        symmetric: scale = max(-lo, hi) / ((q_max - q_min) / 2),  z = 0 (int8) or 128 (uint8)
        affine:    scale = (hi - lo) / (q_max - q_min),  z = clamp(q_min - round(lo / scale))
        scale = max(scale, eps)

    Shape:
        x: any, not empty. Per tensor the qparams are 0-d; per channel they have shape
        ``(x.shape[per_channel_axis],)``.

    Args:
        x: the values (computed in float32).
        symmetric: symmetric (weights) or affine (activations) range.
        per_channel_axis: one scale per slice along this axis; None for one per tensor.
        dtype: ``"int8"`` or ``"uint8"``.
        eps: the smallest scale (torch's observers: float32 eps; PyTorch's x86 int8 recipe
            passes ``2**-12``).
    """
    one_of("dtype", dtype, DTYPES)
    array = _float32(x, "x")
    axis = _axis(per_channel_axis, array.ndim)
    q_min, q_max, _ = DTYPES[dtype]
    if axis is None:
        low, high = array.min(), array.max()
    else:
        others = tuple(d for d in range(array.ndim) if d != axis)
        low, high = array.min(axis=others), array.max(axis=others)
    zero = np.float32(0.0)
    low = np.minimum(low, zero).astype(np.float32)
    high = np.maximum(high, zero).astype(np.float32)
    eps = np.float32(number("eps", eps, minimum=0, exclusive_minimum=True))
    if symmetric:
        half_range = np.float32((q_max - q_min) / 2)
        scale = np.maximum(np.maximum(-low, high) / half_range, eps)
        zero_point = np.full(np.shape(scale), 128 if dtype == "uint8" else 0, dtype=np.int64)
    else:
        scale = np.maximum((high - low) / np.float32(q_max - q_min), eps)
        zero_point = q_min - np.rint(low / scale).astype(np.int64)
        zero_point = np.clip(zero_point, q_min, q_max)
    return QParams(np.asarray(scale, np.float32), np.asarray(zero_point, np.int64), axis)


def _check_qparams(
    scale: object, zero_point: object, dtype: str | None
) -> tuple[np.ndarray, np.ndarray]:
    q_min, q_max = DTYPES[dtype][:2] if dtype else (-(2**62), 2**62)
    scale = np.asarray(scale, dtype=np.float64)
    if not (np.isfinite(scale).all() and (scale > 0).all()):
        raise InvalidArgument("scale", f"scale must be finite and > 0, got {scale}")
    zp = np.asarray(zero_point)
    if not np.issubdtype(zp.dtype, np.integer) or ((zp < q_min) | (zp > q_max)).any():
        allowed = f" in [{q_min}, {q_max}] for {dtype}" if dtype else ""
        raise InvalidArgument("zero_point", f"zero_point must be integers{allowed}, got {zp}")
    return scale.astype(np.float32), zp.astype(np.int64)


def quantize(
    x: np.ndarray,
    scale: np.ndarray | float,
    zero_point: np.ndarray | int,
    dtype: str = "int8",
    *,
    axis: int | None = None,
) -> np.ndarray:
    """Round ``x`` to the integer grid: ``clamp(round_half_even(x * (1/scale)) + z)``.

    As PyTorch's CPU kernels: ``1/scale`` and the product are float32, rounding is half to even
    (``nearbyint``), the zero point is added after rounding.

    Shape:
        x: any; ``scale``/``zero_point`` scalars, or ``(x.shape[axis],)`` with ``axis``.
        Returns the shape of ``x``, dtype int8 or uint8.
    """
    one_of("dtype", dtype, DTYPES)
    array = _float32(x, "x")
    axis = _axis(axis, array.ndim)
    scale, zp = _check_qparams(scale, zero_point, dtype)
    if axis is None and (scale.ndim or zp.ndim):
        raise InvalidArgument("axis", "axis is needed with per-channel scale and zero_point")
    if axis is not None and not (scale.shape == zp.shape == (array.shape[axis],)):
        raise InvalidArgument(
            "scale",
            f"scale and zero_point must have shape ({array.shape[axis]},) for axis {axis}, "
            f"got {scale.shape} and {zp.shape}",
        )
    q_min, q_max, np_dtype = DTYPES[dtype]
    inv_scale = np.float32(1.0) / _along(scale, axis, array.ndim)
    rounded = np.rint(array * inv_scale).astype(np.int64)
    q = np.clip(rounded + _along(zp, axis, array.ndim), q_min, q_max)
    return q.astype(np_dtype)


def dequantize(
    q: np.ndarray,
    scale: np.ndarray | float,
    zero_point: np.ndarray | int,
    *,
    axis: int | None = None,
) -> np.ndarray:
    """Map integers back to float32: ``(q - z) * scale``.

    ``dequantize(quantize(x))`` differs from ``x`` by at most ``scale / 2`` for values inside the
    range the qparams were chosen from (the rounding error; min-max qparams never clip).

    Shape:
        q: any integer array; returns float32 of the same shape.
    """
    q = np.asarray(q)
    if not np.issubdtype(q.dtype, np.integer):
        raise InvalidArgument("q", f"q must hold integers, got dtype {q.dtype}")
    axis = _axis(axis, q.ndim)
    scale, zp = _check_qparams(scale, zero_point, None)
    shifted = (q.astype(np.int64) - _along(zp, axis, q.ndim)).astype(np.float32)
    return shifted * _along(scale, axis, q.ndim)


def fake_quantize(x: np.ndarray, qparams: QParams, dtype: str = "int8") -> np.ndarray:
    """``dequantize(quantize(x))``: the float values an int8 model actually computes with."""
    scale, zero_point, axis = qparams
    return dequantize(
        quantize(x, scale, zero_point, dtype, axis=axis), scale, zero_point, axis=axis
    )
