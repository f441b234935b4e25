"""IGCV3: Sun, Li, Liu & Wang, "IGCV3: Interleaved Low-Rank Group Convolutions for Efficient Deep
Neural Networks" (BMVC 2018).

What IGC changes: MobileNet v2's dense 1x1 convolutions are most of its cost; IGCV3 makes both of
them *group* convolutions (2 groups) and interleaves the groups with channel permutations
(:class:`cnnlab.layers.IGCV3Block`), which halves their weights. The saved budget buys depth: the
paper's ImageNet network IGCV3-D doubles MobileNet v2's blocks per stage (1, 4, 6, 8, 6, 6, 1
instead of 1, 2, 3, 4, 3, 3, 1) at the same widths and expansion 6, for 3.5M parameters and
318M multiply-adds at width 1.0 (the paper's ImageNet comparison with MobileNet v2).

No reference weights in torchvision or timm; the names are our own.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.core.validate import number
from cnnlab.layers.conv_norm_act import ConvNormAct
from cnnlab.layers.interleaved_group_conv import IGCV3Block
from cnnlab.models._registry import register_model

PAPER = "Sun, Li, Liu & Wang, BMVC 2018"

# Expansion t, channels c, blocks n, first stride s (MobileNet v2's table with twice the blocks).
SETTINGS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 4, 2),
    (6, 32, 6, 2),
    (6, 64, 8, 2),
    (6, 96, 6, 1),
    (6, 160, 6, 2),
    (6, 320, 1, 1),
)


class IGCV3(nn.Module):
    """3x3/2 conv, 32 IGCV3 blocks, 1x1 conv to 1280, global pool, dropout, FC.

    Args:
        num_classes: output classes.
        in_chans: input channels.
        dropout: dropout before the classifier.

    Shape:
        input (N, in_chans, H, W); output (N, num_classes).
    """

    def __init__(self, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.2) -> None:
        super().__init__()
        number("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
        channels = 32
        layers: list[nn.Module] = [ConvNormAct(in_chans, channels, 3, stride=2, act="relu6")]
        for t, c, n, s in SETTINGS:
            for i in range(n):
                layers.append(IGCV3Block(channels, c, s if i == 0 else 1, t))
                channels = c
        layers.append(ConvNormAct(channels, 1280, 1, act="relu6"))
        self.features = nn.Sequential(*layers)
        self.num_features = 1280
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, num_classes))
        self.num_classes = num_classes
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, H, W) -> (N, 1280, H/32, W/32)."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool, dropout, FC; ``pre_logits`` returns the pooled features."""
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.classifier(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(family="igc", paper=PAPER)
def igcv3(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.2) -> IGCV3:
    """IGCV3-D at width 1.0 (3.5M parameters, 318M MACs at 224)."""
    return IGCV3(num_classes, in_chans, dropout)
