"""Weight normalisation, forward and backward: ``w = g v / ||v||`` (Salimans & Kingma, 2016).

The weight is split into a direction ``v`` and a length ``g``: the norm of ``v`` is taken over
every axis except ``dim`` (per output channel for ``dim=0``), or over the whole tensor for
``dim=None``. It normalises the *weights*, not the activations: nothing depends on the batch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def norm_axes(ndim: int, dim: int | None) -> tuple[int, ...]:
    """The axes the norm runs over: all but ``dim``, or all of them for ``dim=None``.

    ``dim=-1`` means the whole tensor too, as in ``torch.nn.utils.parametrizations.weight_norm``
    (torch's legacy convention, kept so that the same call gives the same parameters); other
    negative dims count from the end.

    Raises:
        ValueError: ``dim`` outside ``[-ndim, ndim - 1]``.
    """
    if dim is None or dim == -1:
        return tuple(range(ndim))
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -ndim <= dim < ndim:
        raise ValueError(
            f"dim must be None or an integer in [{-ndim}, {ndim - 1}] for a weight with "
            f"{ndim} dimensions, got {dim!r}"
        )
    dim = int(dim) % ndim
    return tuple(a for a in range(ndim) if a != dim)


def norm_except_dim(v: np.ndarray, dim: int | None) -> np.ndarray:
    """``||v||`` over :func:`norm_axes`; the reduced axes kept with size 1 (a 0-d array when the
    norm covers the whole tensor), which is the shape of ``g``.

    Shape:
        v: (d0, d1, ...) -> (d0, 1, ...) for dim=0; () for dim=None
    """
    axes = norm_axes(v.ndim, dim)
    keep = len(axes) < v.ndim
    return np.sqrt(np.sum(v * v, axis=axes, keepdims=keep))


class WeightNormCache(NamedTuple):
    """The two parameters, the norm of ``v`` (shaped like ``g``) and the reduced axes."""

    g: np.ndarray
    v: np.ndarray
    norm: np.ndarray
    axes: tuple[int, ...]


def weight_norm_forward(
    g: np.ndarray, v: np.ndarray, dim: int | None
) -> tuple[np.ndarray, WeightNormCache]:
    """The weight from its length and direction, computed as torch's weight_norm does.

    Math:
        w = v * (g / ||v||),  ||v|| over every axis but ``dim``

    Shape:
        g: like ``norm_except_dim(v, dim)``, v: the weight's shape -> w: the weight's shape
    """
    norm = norm_except_dim(v, dim)
    if g.shape != norm.shape:
        raise ValueError(f"g must have shape {norm.shape} for v {v.shape} and dim={dim}")
    return v * (g / norm), WeightNormCache(g, v, norm, norm_axes(v.ndim, dim))


def weight_norm_backward(
    dweight: np.ndarray, cache: WeightNormCache
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of the length and the direction from the gradient of the weight.

    ``dv`` is orthogonal to ``v`` (slice by slice): a step along it turns the direction and
    leaves ``||v||`` unchanged to first order, and ``g`` alone sets the length.

    Math:
        dg = sum(dw * v) / ||v||,
        dv = (g / ||v||) * (dw - dg * v / ||v||)
        (sums over the normalised axes)

    Returns:
        ``(dg, dv)``.
    """
    g, v, norm, axes = cache
    keep = g.ndim > 0
    dg = np.sum(dweight * v, axis=axes, keepdims=keep) / norm
    dv = (g / norm) * (dweight - (dg / norm) * v)
    return dg, dv
