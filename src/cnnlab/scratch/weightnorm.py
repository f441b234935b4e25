"""Weight normalisation of any scratch layer's weight, as ``torch.nn.utils.parametrizations``.

``weight_norm(layer)`` replaces the layer's ``weight`` Parameter by two Parameters, a length
``g`` and a direction ``v`` (Salimans & Kingma, "Weight Normalization", 2016), and the weight
becomes the value ``g v / ||v||`` computed from them. The layer's own forward and backward are
unchanged: it reads ``self.weight.data`` (now computed) and hands its weight gradient to
``self.weight.accumulate(dW)``, which the parametrization turns into ``dg`` and ``dv``.

Parameters keep torch's names (``parametrizations.weight.original0`` for g, ``original1`` for v,
after ``bias``), so a weight-normalised torch layer's state dict loads without renaming.
"""

from __future__ import annotations

import numpy as np

from cnnlab.scratch.functional.weightnorm import (
    norm_except_dim,
    weight_norm_backward,
    weight_norm_forward,
)
from cnnlab.scratch.module import Module
from cnnlab.scratch.parameter import Parameter


class WeightNorm(Module):
    """The parametrization ``w = g v / ||v||``: holds ``original0`` (g) and ``original1`` (v).

    Unlike a layer it has no input: ``forward()`` returns the weight, ``backward(dweight)`` adds
    ``dg`` and ``dv`` into the two parameters' ``.grad``. Created by :func:`weight_norm`, which
    starts from ``g = ||w||`` and ``v = w``, so the layer computes what it computed before.

    Math:
        w = g v / ||v||   (norm over every axis of v but ``dim``; the whole tensor for None)
        dg = sum(dw * v) / ||v||,   dv = (g / ||v||) (dw - dg v / ||v||)

    Shape:
        original1 (v): the weight's shape; original0 (g): the weight's shape with every axis
        but ``dim`` of size 1, e.g. (C_out, 1, 1, 1) for a Conv2d and dim=0; () for dim=None
    """

    def __init__(self, weight: np.ndarray, dim: int | None = 0) -> None:
        super().__init__()
        weight = np.asarray(weight)
        norm = norm_except_dim(weight, dim)  # validates dim
        if not np.all(norm > 0):
            raise ValueError(
                f"weight_norm needs a weight with no all-zero slice along dim={dim} (its "
                "direction v / ||v|| would be 0 / 0); initialise the weight first"
            )
        self.dim = dim
        self.original0 = Parameter(norm.astype(weight.dtype))
        self.original1 = Parameter(weight.copy())

    def forward(self) -> np.ndarray:  # type: ignore[override]
        """The weight ``g v / ||v||`` (a new array)."""
        w, cache = weight_norm_forward(self.original0.data, self.original1.data, self.dim)
        return self._keep(cache, w)

    def __call__(self) -> np.ndarray:  # type: ignore[override]
        return self.forward()

    def backward(self, dweight: np.ndarray) -> None:  # type: ignore[override]
        """Accumulate ``dg`` and ``dv`` from the gradient of the weight."""
        dg, dv = weight_norm_backward(dweight, self._take_cache(dweight))
        self.original0.accumulate(dg)
        self.original1.accumulate(dv)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class ParametrizedWeight:
    """What ``layer.weight`` becomes: a Parameter look-alike whose value is computed.

    ``data`` is the weight ``g v / ||v||``, recomputed at every read and read-only (writing into
    it would change nothing, so it is refused); ``accumulate(dW)`` passes the weight gradient
    to the parametrization. It is not a :class:`Parameter`, so the layer no longer lists it:
    its trainable parameters are g and v.
    """

    __slots__ = ("parametrization",)

    def __init__(self, parametrization: WeightNorm) -> None:
        self.parametrization = parametrization

    @property
    def data(self) -> np.ndarray:
        w = self.parametrization.forward()
        w.flags.writeable = False
        return w

    @property
    def shape(self) -> tuple[int, ...]:
        return self.parametrization.original1.shape

    def accumulate(self, grad: np.ndarray) -> None:
        """Route ``dL/dW`` to ``dL/dg`` and ``dL/dv``."""
        self.parametrization.backward(grad)

    def __repr__(self) -> str:
        return f"ParametrizedWeight(shape={self.shape}, {self.parametrization!r})"


class Parametrizations(Module):
    """The ``layer.parametrizations`` container: one :class:`WeightNorm` per parametrized name."""


def weight_norm(layer: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight-normalise ``layer.<name>`` in place, as torch.nn.utils.parametrizations.weight_norm.

    Works for every layer whose forward reads ``self.<name>.data`` and whose backward calls
    ``self.<name>.accumulate`` (all scratch layers): Linear, Conv2d, ConvTranspose2d, ...

    Args:
        layer: a scratch layer.
        name: the Parameter to reparametrize.
        dim: the axis that keeps one norm per index (0: one per output unit / channel); ``None``
            (or ``-1``, as in torch) for one norm over the whole tensor.

    Returns:
        ``layer`` itself, with ``layer.parametrizations.<name>`` holding g and v.

    Raises:
        ValueError: ``name`` is not a Parameter of the layer (or is already parametrized),
            ``dim`` is out of range, or a slice of the weight is all zeros.

    Shape:
        unchanged: the layer maps the same shapes as before
    """
    if not isinstance(layer, Module):
        raise ValueError(f"weight_norm takes a scratch layer, got {type(layer).__name__}")
    current = getattr(layer, name, None)
    if isinstance(current, ParametrizedWeight):
        raise ValueError(f"{type(layer).__name__}.{name} is already weight-normalised")
    if not isinstance(current, Parameter):
        names = [n for n, _ in layer._own_parameters()]
        raise ValueError(
            f"{type(layer).__name__} has no parameter {name!r} to weight-normalise; its own "
            f"parameters are {names}"
        )
    holder = getattr(layer, "parametrizations", None)
    if holder is not None and not isinstance(holder, Parametrizations):
        raise ValueError(
            f"{type(layer).__name__} already has an attribute 'parametrizations' of type "
            f"{type(holder).__name__}; weight_norm needs that name for g and v"
        )
    parametrization = WeightNorm(current.data, dim)
    if holder is None:
        layer.parametrizations = Parametrizations()
    setattr(layer.parametrizations, name, parametrization)
    setattr(layer, name, ParametrizedWeight(parametrization))
    return layer
