"""Inception building blocks (Szegedy et al., "Going Deeper with Convolutions", CVPR 2015).

:class:`BasicConv2d` is the conv-BN-ReLU unit of every Inception network (GoogLeNet as
torchvision re-trained it, Inception v3, v4 and Inception-ResNet-v2): parameter names ``conv``
and ``bn``, batch-norm eps 1e-3 as the TensorFlow originals.

:class:`Inception` is GoogLeNet's module (Fig. 2b): four parallel branches, concatenated along
the channels -- a 1x1 conv; a 1x1 *reduction* then a 3x3 conv; a 1x1 reduction then a 5x5 conv; a
3x3 max pool then a 1x1 projection. The 1x1 reductions are the point: without them (Fig. 2a) the
5x5 and 3x3 convolutions would run on all input channels and the pooling branch would pass all of
them on, so the channel count and the cost would explode from module to module. For inception
(3a) on a 28x28x192 input they cut the multiply-adds from 303M to 128M
(``docs/architectures_second_wave.md``).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.layers.conv_norm_act import ConvBnAct


class BasicConv2d(ConvBnAct):
    """Conv2d (no bias) -> BatchNorm2d (eps 1e-3) -> ReLU, names ``conv``, ``bn``.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel side or (kH, kW) (Inception v3's 1x7 and 7x1 factorisations).
        stride: convolution stride.
        padding: zero padding (int or pair); Inception networks pad explicitly (default 0).
        eps: batch-norm epsilon (1e-3, as the TensorFlow models).

    Shape:
        input (N, in_channels, H, W); output (N, out_channels, H', W').
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int = 1,
        padding: int | tuple[int, int] = 0,
        eps: float = 1e-3,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, eps=eps)


class Inception(nn.Module):
    """GoogLeNet's inception module: 1x1 | 1x1-3x3 | 1x1-5x5 | maxpool-1x1, concatenated.

    Args:
        in_channels: input channels.
        ch1x1: output channels of the 1x1 branch.
        ch3x3red, ch3x3: reduction and output channels of the 3x3 branch.
        ch5x5red, ch5x5: reduction and output channels of the "5x5" branch.
        pool_proj: output channels of the pooling branch's 1x1 projection.
        branch3_kernel: kernel of the "5x5" branch: 5 in the paper; torchvision's GoogLeNet uses
            3 (a bug of its first port kept for its weights), so the twin passes 3.

    Shape:
        input (N, in_channels, H, W); output (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W).
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
        branch3_kernel: int = 5,
    ) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, 1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, 1), BasicConv2d(ch3x3red, ch3x3, 3, padding=1)
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, 1),
            BasicConv2d(ch5x5red, ch5x5, branch3_kernel, padding=branch3_kernel // 2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, 1),
        )
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([b(x) for b in branches], 1)
