"""MobileNet v1: Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile
Vision Applications" (arXiv 1704.04861, 2017).

The notes: MobileNet v1 is built from depthwise separable convolutions (after Xception), a sparser
representation with less redundancy: a 3x3 depthwise convolution filters each channel on its own,
then a 1x1 pointwise convolution mixes the channels, which costs 1/C' + 1/9 of a standard 3x3
convolution. Two knobs trade accuracy for cost: the width multiplier alpha thins every layer to
alpha * channels (cost ~ alpha^2), and the resolution multiplier rho is simply a smaller input
image (cost ~ rho^2). 1.0 MobileNet-224 has 4.2M parameters and 569M mult-adds (Table 8).

The network is the paper's Table 1: a 3x3/2 standard convolution with 32 filters, 13 depthwise
separable blocks (BN and ReLU after every convolution), global average pooling and one FC layer.
The last depthwise layer is listed with stride 2 in Table 1, but the map stays 7x7 there; like
every released implementation it uses stride 1.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.layers import ConvNormAct, DepthwiseSeparableConv
from cnnlab.models._registry import register_model

PAPER = "Howard et al., arXiv 1704.04861 (2017)"

# Table 1: (output channels, stride of the depthwise conv) of the 13 separable blocks.
BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)


class MobileNetV1(nn.Module):
    """Standard conv 3x3/2, 13 depthwise separable blocks, global average pool, FC.

    Args:
        num_classes: output classes.
        in_chans: input channels.
        width_mult: the width multiplier alpha (the paper uses 1, 0.75, 0.5, 0.25); every layer
            gets ``max(min_channels, int(alpha * channels))`` channels.
        dropout: dropout before the classifier (the paper uses none).
        min_channels: floor on the thinned widths (8, as TF-slim's ``min_depth``).

    Shape:
        input (N, in_chans, H, W); output (N, num_classes). The resolution multiplier is the
        input size: 224, 192, 160 or 128 in the paper's Table 7.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        in_chans: int = 3,
        width_mult: float = 1.0,
        dropout: float = 0.0,
        min_channels: int = 8,
    ) -> None:
        super().__init__()
        if isinstance(width_mult, bool) or not width_mult > 0:
            raise ValueError(f"width_mult must be a positive number, got {width_mult!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")

        def width(c: int) -> int:
            return max(min_channels, int(c * width_mult))

        channels = width(32)
        layers: list[nn.Module] = [ConvNormAct(in_chans, channels, 3, stride=2)]
        for out, stride in BLOCKS:
            layers.append(DepthwiseSeparableConv(channels, width(out), 3, stride))
            channels = width(out)
        self.features = nn.Sequential(*layers)
        self.num_features = channels
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)
        self.num_classes = num_classes
        self.width_mult = width_mult
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, H, W) -> (N, 1024 * alpha, H/32, W/32)."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool, dropout, FC; ``pre_logits`` returns the pooled features."""
        x = torch.flatten(self.pool(x), 1)
        return x if pre_logits else self.fc(self.dropout(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(family="mobilenet", paper=PAPER)
def mobilenet_v1(
    num_classes: int = 1000, in_chans: int = 3, width_mult: float = 1.0, dropout: float = 0.0
) -> MobileNetV1:
    """MobileNet v1 with width multiplier ``width_mult`` (1.0: 4.2M params, 569M MACs at 224)."""
    return MobileNetV1(num_classes, in_chans, width_mult=width_mult, dropout=dropout)
