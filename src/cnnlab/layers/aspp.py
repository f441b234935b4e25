"""Atrous Spatial Pyramid Pooling (Chen, Papandreou, Schroff & Adam, "Rethinking Atrous
Convolution for Semantic Image Segmentation", 2017: DeepLab v3).

An atrous (dilated) 3x3 convolution with rate r spaces its taps r pixels apart: it sees a
(2r + 1) x (2r + 1) window with 9 weights, i.e. it *is* a (2r + 1)-wide convolution whose kernel
is zero between the taps (``tests/models/test_deeplab.py`` builds that kernel and compares). A
backbone whose last strides are replaced by dilation keeps a 1/16 or 1/8 resolution map without
losing the receptive field. ASPP then probes that map at several scales in parallel: a 1x1
convolution, three 3x3 atrous convolutions (rates 6, 12, 18 at output stride 16; doubled at 8)
and *image pooling* (global average pooling, 1x1 conv, bilinear upsampling back), which gives
every position the whole image as context; the five 256-channel maps are concatenated and
projected by a 1x1 convolution.

Parameter names (``convs.0`` ... ``convs.4``, ``project``) are torchvision's and
segmentation_models_pytorch's.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class ASPPConv(nn.Sequential):
    """3x3 atrous conv (padding = dilation keeps the size), BN, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, dilation: int) -> None:
        super().__init__(
            nn.Conv2d(
                in_channels, out_channels, 3, padding=dilation, dilation=dilation, bias=False
            ),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )


class ASPPPooling(nn.Sequential):
    """Image-level features: global average pool, 1x1 conv, BN, ReLU, upsampled to the input."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        return F.interpolate(super().forward(x), size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """1x1 conv | atrous 3x3 convs | image pooling, concatenated, 1x1 projection, dropout.

    Args:
        in_channels: channels of the backbone's output.
        atrous_rates: dilation of each 3x3 branch, e.g. ``(6, 12, 18)``.
        out_channels: channels of every branch and of the output (256 in the paper).
        dropout: dropout after the projection (0.5, as torchvision and smp).

    Shape:
        input (N, in_channels, H, W); output (N, out_channels, H, W). Batch norm in the image
        pooling branch needs N >= 2 in training mode (one value per channel otherwise).
    """

    def __init__(
        self,
        in_channels: int,
        atrous_rates: Sequence[int],
        out_channels: int = 256,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        branches: list[nn.Module] = [
            nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            )
        ]
        branches += [ASPPConv(in_channels, out_channels, rate) for rate in atrous_rates]
        branches.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(
            nn.Conv2d(len(branches) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([branch(x) for branch in self.convs], 1))
