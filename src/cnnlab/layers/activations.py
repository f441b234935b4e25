"""Activations by name, one table for the layers that take an ``act`` argument.

MobileNet v3's h-swish and hard sigmoid are ``nn.Hardswish`` (x * ReLU6(x + 3) / 6) and
``nn.Hardsigmoid`` (ReLU6(x + 3) / 6): piecewise-linear stand-ins for swish and sigmoid that are
cheap on phones and exact in fixed point.
"""

from __future__ import annotations

from torch import nn

from cnnlab.core.validate import one_of

# name -> (module class, whether it takes ``inplace``)
ACTIVATIONS: dict[str, tuple[type[nn.Module], bool]] = {
    "relu": (nn.ReLU, True),
    "relu6": (nn.ReLU6, True),
    "hardswish": (nn.Hardswish, True),
    "silu": (nn.SiLU, True),
    "sigmoid": (nn.Sigmoid, False),
    "hardsigmoid": (nn.Hardsigmoid, True),
}


def activation_class(act: str) -> tuple[type[nn.Module], bool]:
    """``(class, takes_inplace)`` of the activation called ``act``; unknown names raise."""
    one_of("act", act, ACTIVATIONS)
    return ACTIVATIONS[act]


def make_activation(act: str | None, inplace: bool = True) -> nn.Module | None:
    """The activation module called ``act`` (see ``ACTIVATIONS``), or ``None`` for ``None``."""
    if act is None:
        return None
    cls, takes_inplace = activation_class(act)
    return cls(inplace=inplace) if takes_inplace else cls()
