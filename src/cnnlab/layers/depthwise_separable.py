"""Depthwise separable convolution (MobileNet v1, after Xception).

A standard k x k convolution from C to C' channels filters and combines in one step:
k*k*C*C' weights. The separable version splits the two: a depthwise k x k convolution filters each
channel on its own (k*k*C weights, ``groups=C``), then a pointwise 1x1 convolution mixes the
channels (C*C' weights). The notes' example, 16 -> 32 channels with 3x3 kernels:
3*3*16 + 16*32 = 656 weights instead of 3*3*16*32 = 4608.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.layers.conv_norm_act import ConvNormAct


class DepthwiseSeparableConv(nn.Module):
    """Depthwise ``kernel_size`` conv-BN-act, then pointwise 1x1 conv-BN-act.

    Args:
        in_channels: input channels C.
        out_channels: output channels C'.
        kernel_size: depthwise kernel side.
        stride: stride of the depthwise convolution (the pointwise one has stride 1).
        norm: batch norm after each convolution (MobileNet v1 has it).
        act: activation after each convolution (``"relu"`` in MobileNet v1).

    Attributes:
        dw: the depthwise :class:`ConvNormAct` (weight shape (C, 1, k, k)).
        pw: the pointwise :class:`ConvNormAct` (weight shape (C', C, 1, 1)).

    Shape:
        input (N, C, H, W); output (N, C', H', W'), H' = floor((H - 1) / stride) + 1 for odd k.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        norm: bool = True,
        act: str | None = "relu",
    ) -> None:
        super().__init__()
        self.dw = ConvNormAct(
            in_channels, in_channels, kernel_size, stride, groups=in_channels, norm=norm, act=act
        )
        self.pw = ConvNormAct(in_channels, out_channels, 1, norm=norm, act=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pw(self.dw(x))
