"""MobileNet v2: Sandler, Howard, Zhu, Zhmoginov & Chen, "MobileNetV2: Inverted Residuals and
Linear Bottlenecks" (CVPR 2018).

What changes from v1 (the notes' "v1 -> v2"): v1 is a plain stack of depthwise separable
convolutions; v2 wraps each depthwise convolution in an *inverted residual with a linear
bottleneck* (:class:`cnnlab.layers.InvertedResidual`): expand 6x with a 1x1 convolution, filter
with a 3x3 depthwise one, project back with a 1x1 convolution *without* ReLU, and add a shortcut
between the narrow ends. Blocks are narrower than v1's layers (16 ... 320 channels), so at width
1.0 it has fewer parameters and multiply-adds (3.4M / 300M against 4.2M / 569M) and is more
accurate. Layers with weights: 1 + (2 + 16 x 3) + 1 = 52 convolutions (the first block has no
expansion) and one FC layer, 53 in all (v1: 27 + 1 = 28).

Layout and parameter names are torchvision's, so its ``mobilenet_v2`` weights load unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.core.validate import number
from cnnlab.layers.conv_norm_act import ConvNormAct
from cnnlab.layers.inverted_residual import InvertedResidual
from cnnlab.layers.make_divisible import make_divisible
from cnnlab.models._registry import register_model

PAPER = "Sandler et al., CVPR 2018"

# Table 2: expansion t, output channels c, repeats n, first stride s of each bottleneck sequence.
SETTINGS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


class MobileNetV2(nn.Module):
    """3x3/2 conv, 17 inverted residual blocks, 1x1 conv to 1280, global pool, dropout, FC.

    Args:
        num_classes: output classes.
        in_chans: input channels.
        width_mult: width multiplier; every width becomes ``make_divisible(c * width_mult, 8)``
            (the last layer only grows, never shrinks, as in the paper).
        dropout: dropout before the classifier.

    Shape:
        input (N, in_chans, H, W); output (N, num_classes).
    """

    def __init__(
        self,
        num_classes: int = 1000,
        in_chans: int = 3,
        width_mult: float = 1.0,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        number("width_mult", width_mult, minimum=0, exclusive_minimum=True)
        number("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
        channels = make_divisible(32 * width_mult)
        last = make_divisible(1280 * max(1.0, width_mult))
        layers: list[nn.Module] = [ConvNormAct(in_chans, channels, 3, stride=2, act="relu6")]
        for t, c, n, s in SETTINGS:
            out = make_divisible(c * width_mult)
            for i in range(n):
                hidden = round(channels * t)
                layers.append(
                    InvertedResidual(channels, out, s if i == 0 else 1, hidden, layout="v2")
                )
                channels = out
        layers.append(ConvNormAct(channels, last, 1, act="relu6"))
        self.features = nn.Sequential(*layers)
        self.num_features = self.last_channel = last
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(last, num_classes))
        self.num_classes = num_classes
        self.width_mult = width_mult
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
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
        x = torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1)
        return x if pre_logits else self.classifier(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(family="mobilenet", paper=PAPER)
def mobilenet_v2(
    num_classes: int = 1000, in_chans: int = 3, width_mult: float = 1.0, dropout: float = 0.2
) -> MobileNetV2:
    """MobileNet v2 (width 1.0: 3.5M parameters, 300M MACs at 224)."""
    return MobileNetV2(num_classes, in_chans, width_mult, dropout)
