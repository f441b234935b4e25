"""Squeeze-and-excitation (Hu, Shen & Sun, "Squeeze-and-Excitation Networks", CVPR 2018).

Squeeze: global average pooling summarises each channel as one number. Excitation: two fully
connected layers (C -> C/r -> C, ReLU then sigmoid) turn the summary into a weight in (0, 1) per
channel. Scale: the input's channels are multiplied by their weights, so the network learns to
emphasise useful channels and suppress the others ("feature recalibration", as the notes put it).
The fully connected layers are written as 1x1 convolutions on the pooled (N, C, 1, 1) tensor,
which is the same computation without reshapes. Extra parameters: 2 * C^2 / r (+ C/r + C biases).

Variants used by the zoo: MobileNet v3 gates with a hard sigmoid (ReLU6(x + 3) / 6) and sizes the
hidden layer as make_divisible(C / 4, 8); EfficientNet uses SiLU inside and sizes it from the
block's *input* channels. :class:`SqueezeExcite` is torchvision's ``SqueezeExcitation`` (a
subclass: same ``fc1``/``fc2`` names, so those models' weights load unchanged).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import nn
from torchvision.ops import SqueezeExcitation

from cnnlab.core.validate import positive_int
from cnnlab.layers.activations import activation_class


def _factory(act: str) -> Callable[[], nn.Module]:
    cls, takes_inplace = activation_class(act)
    return partial(cls, inplace=True) if takes_inplace else cls


class SqueezeExcite(SqueezeExcitation):
    """x * gate(W2 act(W1 mean_hw(x) + b1) + b2), per channel.

    Args:
        channels: C, the channels of the input.
        reduction: r, the bottleneck ratio (16 in the paper); hidden width
            ``max(min_channels, C // r)``.
        min_channels: lower bound on the hidden width C / r.
        hidden_channels: the hidden width itself (overrides ``reduction``).
        act: activation between the two layers (``"relu"``; EfficientNet: ``"silu"``).
        gate: ``"sigmoid"`` (the paper) or ``"hardsigmoid"`` (MobileNet v3).

    Attributes:
        fc1: 1x1 conv C -> hidden with bias (the paper's first FC layer).
        fc2: 1x1 conv hidden -> C with bias (the second FC layer).

    Shape:
        input (N, C, H, W); output (N, C, H, W).
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        min_channels: int = 1,
        *,
        hidden_channels: int | None = None,
        act: str = "relu",
        gate: str = "sigmoid",
    ) -> None:
        positive_int("reduction", reduction)
        if hidden_channels is None:
            hidden_channels = max(min_channels, channels // reduction)
        positive_int("hidden_channels", hidden_channels)
        super().__init__(
            channels, hidden_channels, activation=_factory(act), scale_activation=_factory(gate)
        )
