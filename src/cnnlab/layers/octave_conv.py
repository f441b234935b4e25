"""Octave convolution (Chen et al., "Drop an Octave: Reducing Spatial Redundancy in Convolutional
Neural Networks with Octave Convolution", ICCV 2019).

Images mix high frequencies (edges, texture) with low frequencies (smoothly varying structure),
and so do feature maps. OctConv stores a fraction alpha of the channels at *half* the resolution
(the low-frequency group, "an octave lower") and lets the two groups exchange information. A
convolution becomes four: high -> high, high -> low (2x2 average pooling first), low -> high
(nearest 2x upsampling after) and low -> low. The weights are the same C_out x C_in x k x k as a
plain convolution, only split into four blocks, so the *parameters do not change*; the
multiply-adds drop to (1 - alpha)^2 + alpha(1 - alpha)/2 + alpha^2/4 = 1 - 3/4 alpha(2 - alpha)
of the plain convolution's (the paper's Table 1: 0.44 at alpha = 0.5). With alpha_in =
alpha_out = 0 only high -> high remains: exactly a plain convolution.

A feature map is a pair ``(high, low)``; ``low`` is ``None`` for alpha = 0. Parameter names:
``conv_h2h``, ``conv_h2l``, ``conv_l2h``, ``conv_l2l`` (absent when their group is empty).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.core.validate import number, one_of

OctaveMap = tuple[torch.Tensor, torch.Tensor | None]


def _split(channels: int, alpha: float) -> tuple[int, int]:
    low = int(alpha * channels)
    return channels - low, low


class OctaveConv(nn.Module):
    """A convolution on (high, low)-frequency feature pairs.

    Args:
        in_channels: input channels, high and low together.
        out_channels: output channels, high and low together.
        kernel_size: square kernel side (odd).
        alpha_in: fraction of the input channels at low resolution (0 for a plain input).
        alpha_out: fraction of the output channels at low resolution (0 for a plain output).
        stride: 1, or 2: both groups are average-pooled 2x2 first (the paper's choice, which
            keeps the two resolutions aligned).
        bias: convolution biases.

    Shape:
        input ``(N, C_h, H, W)`` and ``(N, C_l, H/2, W/2)`` (or one tensor when alpha_in = 0);
        output ``(N, C'_h, H/s, W/s)`` and ``(N, C'_l, H/2s, W/2s)`` (low ``None`` when
        alpha_out = 0). C_l = int(alpha_in * in_channels), C_h the rest.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        alpha_in: float = 0.5,
        alpha_out: float = 0.5,
        stride: int = 1,
        bias: bool = False,
    ) -> None:
        super().__init__()
        number("alpha_in", alpha_in, minimum=0, maximum=1, exclusive_maximum=True)
        number("alpha_out", alpha_out, minimum=0, maximum=1, exclusive_maximum=True)
        self.stride = one_of("stride", stride, (1, 2))
        in_h, in_l = _split(in_channels, alpha_in)
        out_h, out_l = _split(out_channels, alpha_out)
        self.channels_in, self.channels_out = (in_h, in_l), (out_h, out_l)

        def conv(cin: int, cout: int) -> nn.Conv2d | None:
            if cin == 0 or cout == 0:
                return None
            return nn.Conv2d(cin, cout, kernel_size, padding=kernel_size // 2, bias=bias)

        self.conv_h2h = conv(in_h, out_h)
        self.conv_h2l = conv(in_h, out_l)
        self.conv_l2h = conv(in_l, out_h)
        self.conv_l2l = conv(in_l, out_l)

    def forward(self, x: torch.Tensor | OctaveMap) -> OctaveMap:
        high, low = x if isinstance(x, tuple) else (x, None)
        if self.stride == 2:
            high = F.avg_pool2d(high, 2)
        out_h = self.conv_h2h(high)
        out_l = None if self.conv_h2l is None else self.conv_h2l(F.avg_pool2d(high, 2))
        if low is not None and self.conv_l2h is not None:
            l2h = self.conv_l2h(low)
            if l2h.shape[-2:] != out_h.shape[-2:]:  # stride 1: back to the high resolution
                l2h = F.interpolate(l2h, size=out_h.shape[-2:], mode="nearest")
            out_h = out_h + l2h
        if low is not None and self.conv_l2l is not None:
            l2l = self.conv_l2l(F.avg_pool2d(low, 2) if self.stride == 2 else low)
            out_l = l2l if out_l is None else out_l + l2l
        return out_h, out_l


class OctaveConvBnAct(nn.Module):
    """:class:`OctaveConv`, a batch norm per frequency group (``bn_h``, ``bn_l``), ReLU (optional).

    Shape:
        as :class:`OctaveConv`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        alpha_in: float = 0.5,
        alpha_out: float = 0.5,
        stride: int = 1,
        act: bool = True,
    ) -> None:
        super().__init__()
        self.conv = OctaveConv(in_channels, out_channels, kernel_size, alpha_in, alpha_out, stride)
        out_h, out_l = self.conv.channels_out
        self.bn_h = nn.BatchNorm2d(out_h)
        self.bn_l = nn.BatchNorm2d(out_l) if out_l else None
        self.act = nn.ReLU(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor | OctaveMap) -> OctaveMap:
        high, low = self.conv(x)
        high = self.act(self.bn_h(high))
        if low is not None and self.bn_l is not None:
            low = self.act(self.bn_l(low))
        return high, low
