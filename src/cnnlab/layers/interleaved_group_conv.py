"""Interleaved group convolutions (IGC): Zhang, Qi, Xiao & Wang, "Interleaved Group Convolutions"
(ICCV 2017, IGCV1); Sun, Li, Liu & Wang, "IGCV3: Interleaved Low-Rank Group Convolutions for
Efficient Deep Neural Networks" (BMVC 2018).

A group convolution is cheap but its groups never talk to each other. IGC composes two group
convolutions whose groups *interleave*: the primary one (L groups of M channels, spatial k x k)
and, after a permutation that takes one channel from every primary group, the secondary one (M
groups of L channels, 1x1). Every output channel then depends on every input channel: the
composition equals one dense convolution whose kernel is the block-structured product
W = P^T W2 P W1 (``tests/models/test_octave_igc.py`` builds it), with far fewer parameters
(L M^2 k^2 + M L^2 against (L M)^2 k^2). ShuffleNet's channel shuffle is the same permutation.

IGCV3 applies the idea to MobileNet v2's inverted residual: both 1x1 convolutions become *group*
convolutions (2 groups; each is a low-rank, structured-sparse kernel), a channel permutation
follows each of them, and the depthwise 3x3 stays -- the composition of sparse low-rank kernels
still forms a dense kernel ("loose complementary condition" over super-channels).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.core.validate import positive_int
from cnnlab.layers.channel_shuffle import ChannelShuffle, channel_shuffle
from cnnlab.layers.conv_norm_act import ConvNormAct


class InterleavedGroupConv(nn.Module):
    """IGCV1's block: primary group conv (L groups, k x k), permute, secondary (M groups, 1x1).

    Args:
        primary_groups: L, the number of primary partitions.
        group_channels: M, channels per primary partition (the channels are L * M).
        kernel_size: spatial kernel of the primary convolution.
        stride: stride of the primary convolution.

    Attributes:
        primary: ``Conv2d(LM, LM, k, groups=L)``.
        secondary: ``Conv2d(LM, LM, 1, groups=M)``; its input is the primary output permuted so
            that secondary group j holds channel j of every primary group.

    Shape:
        input (N, L*M, H, W); output (N, L*M, H', W'), channels back in primary order.
    """

    def __init__(
        self, primary_groups: int, group_channels: int, kernel_size: int = 3, stride: int = 1
    ) -> None:
        super().__init__()
        self.L = positive_int("primary_groups", primary_groups)
        self.M = positive_int("group_channels", group_channels)
        c = self.L * self.M
        self.primary = nn.Conv2d(
            c, c, kernel_size, stride, kernel_size // 2, groups=self.L, bias=False
        )
        self.secondary = nn.Conv2d(c, c, 1, groups=self.M, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = channel_shuffle(self.primary(x), self.L)  # (L, M) -> (M, L): interleave
        return channel_shuffle(self.secondary(x), self.M)  # and back to the primary order


class IGCV3Block(nn.Module):
    """Inverted residual with interleaved low-rank group convolutions.

    1x1 group conv (2 groups) expand + BN + ReLU6, permutation, 3x3 depthwise + BN + ReLU6, 1x1
    group conv (2 groups) linear projection + BN, inverse permutation; shortcut when the shape is
    kept (stride 1, same width), as MobileNet v2.

    Args:
        in_channels: input channels (even).
        out_channels: output channels (even).
        stride: depthwise stride.
        expand_ratio: t, the expansion of the first 1x1 convolution.
        groups: groups of the two 1x1 convolutions (2 in the paper's IGCV3-D).

    Shape:
        input (N, in_channels, H, W); output (N, out_channels, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        expand_ratio: int = 6,
        groups: int = 2,
    ) -> None:
        super().__init__()
        hidden = in_channels * expand_ratio
        for name, c in (("in_channels", in_channels), ("out_channels", out_channels)):
            if c % groups:
                raise ValueError(f"{name} must be divisible by groups={groups}, got {c}")
        self.use_res_connect = stride == 1 and in_channels == out_channels
        self.expand = ConvNormAct(in_channels, hidden, 1, groups=groups, act="relu6")
        self.shuffle1 = ChannelShuffle(groups)
        self.depthwise = ConvNormAct(hidden, hidden, 3, stride, groups=hidden, act="relu6")
        self.project = ConvNormAct(hidden, out_channels, 1, groups=groups, act=None)
        self.shuffle2 = ChannelShuffle(out_channels // groups)  # the inverse permutation
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.shuffle1(self.expand(x))
        out = self.shuffle2(self.project(self.depthwise(out)))
        return out + x if self.use_res_connect else out
