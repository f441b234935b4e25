"""Convolution, batch norm, activation: the unit almost every CNN is built from."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

# Activations by name (dispatch by dict); ``None`` means no activation.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": lambda: nn.ReLU(inplace=True),
    "relu6": lambda: nn.ReLU6(inplace=True),
    "sigmoid": nn.Sigmoid,
}


def make_activation(act: str | None) -> nn.Module | None:
    """The activation module called ``act`` (``"relu"``, ``"relu6"``, ``"sigmoid"``) or ``None``."""
    if act is None:
        return None
    if act not in ACTIVATIONS:
        raise ValueError(f"act must be one of {sorted(ACTIVATIONS)} or None, got {act!r}")
    return ACTIVATIONS[act]()


class ConvNormAct(nn.Sequential):
    """``Conv2d`` -> ``BatchNorm2d`` (optional) -> activation (optional), as an ``nn.Sequential``.

    The children are unnamed (``0``, ``1``, ``2``) exactly like torchvision's
    ``Conv2dNormActivation``, so parameter names match torchvision's ``nn.Sequential`` blocks.
    Unpack it (``nn.Sequential(*ConvNormAct(...), ...)``) to splice its layers into a flat
    sequence, as VGG's ``features`` and ShuffleNet v2's branches are.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: square kernel side.
        stride: convolution stride.
        padding: zero padding; ``None`` means ``(kernel_size - 1) // 2 * dilation`` ("same" at
            stride 1 for odd kernels).
        groups: convolution groups (``in_channels`` gives a depthwise convolution).
        dilation: kernel dilation (1 means none).
        norm: add ``BatchNorm2d(out_channels)`` after the convolution.
        act: ``"relu"``, ``"relu6"``, ``"sigmoid"`` or ``None``.
        bias: convolution bias; ``None`` means "only without a norm" (BN cancels a bias).

    Shape:
        input (N, in_channels, H, W); output (N, out_channels, H', W') with
        H' = floor((H + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        groups: int = 1,
        dilation: int = 1,
        norm: bool = True,
        act: str | None = "relu",
        bias: bool | None = None,
    ) -> None:
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = not norm
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=groups,
                bias=bias,
            )
        ]
        if norm:
            layers.append(nn.BatchNorm2d(out_channels))
        activation = make_activation(act)
        if activation is not None:
            layers.append(activation)
        super().__init__(*layers)
        self.in_channels = in_channels
        self.out_channels = out_channels
