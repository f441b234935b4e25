"""Convolution, batch norm, activation: the unit almost every CNN is built from.

:class:`ConvNormAct` *is* torchvision's ``Conv2dNormActivation`` (a subclass that only maps our
``norm``/``act`` arguments onto it), so its children ``0``, ``1``, ``2`` and parameter names are
torchvision's, and the torchvision twins in the zoo load torchvision's weights unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torchvision.ops import Conv2dNormActivation

from cnnlab.layers.activations import activation_class, make_activation


class ConvNormAct(Conv2dNormActivation):
    """``Conv2d`` -> norm (optional) -> activation (optional), as an ``nn.Sequential``.

    Unpack it (``nn.Sequential(*ConvNormAct(...), ...)``) to splice its layers into a flat
    sequence, as VGG's ``features`` and ShuffleNet v2's branches are.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel side (or (kH, kW)).
        stride: convolution stride.
        padding: zero padding; ``None`` means ``(kernel_size - 1) // 2 * dilation`` ("same" at
            stride 1 for odd kernels).
        groups: convolution groups (``in_channels`` gives a depthwise convolution).
        dilation: kernel dilation (1 means none).
        norm: add a norm layer after the convolution.
        act: ``"relu"``, ``"relu6"``, ``"hardswish"``, ``"silu"``, ``"sigmoid"``,
            ``"hardsigmoid"`` or ``None``.
        bias: convolution bias; ``None`` means "only without a norm" (BN cancels a bias).
        norm_layer: the norm's constructor, called with ``out_channels`` (default
            ``nn.BatchNorm2d``; e.g. ``partial(nn.BatchNorm2d, eps=1e-3)``).

    Shape:
        input (N, in_channels, H, W); output (N, out_channels, H', W') with
        H' = floor((H + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 3,
        stride: int = 1,
        padding: int | tuple[int, int] | None = None,
        groups: int = 1,
        dilation: int = 1,
        norm: bool = True,
        act: str | None = "relu",
        bias: bool | None = None,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        act_layer, inplace = (None, None) if act is None else activation_class(act)
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            groups,
            norm_layer=(norm_layer or nn.BatchNorm2d) if norm else None,
            activation_layer=act_layer,
            dilation=dilation,
            inplace=True if inplace else None,
            bias=bias,
        )
        self.in_channels = in_channels


class ConvBnAct(nn.Module):
    """``Conv2d`` -> ``BatchNorm2d`` -> activation; children named ``conv``, ``bn``, ``act``.

    The same unit as :class:`ConvNormAct` under timm's and the Inception ports' parameter names
    (``conv.weight``, ``bn.running_mean``, ...); the zoo's timm twins are built from it.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel side or (kH, kW).
        stride: convolution stride.
        padding: zero padding; ``None`` means ``(kernel_size - 1) // 2 * dilation``.
        groups: convolution groups.
        dilation: kernel dilation.
        act: activation name (see :data:`cnnlab.layers.activations.ACTIVATIONS`) or ``None``.
        eps: batch-norm epsilon.

    Shape:
        input (N, in_channels, H, W); output (N, out_channels, H', W').
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 3,
        stride: int = 1,
        padding: int | tuple[int, int] | None = None,
        groups: int = 1,
        dilation: int = 1,
        act: str | None = "relu",
        eps: float = 1e-5,
    ) -> None:
        super().__init__()
        if padding is None:
            ks = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
            padding = ((ks[0] - 1) // 2 * dilation, (ks[1] - 1) // 2 * dilation)
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation=dilation,
            groups=groups,
            bias=False,
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=eps)
        self.act = make_activation(act) or nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))
