"""MobileNet v3: Howard et al., "Searching for MobileNetV3" (ICCV 2019).

What changes from v2 (the notes' "v2 -> v3"): the block is v2's inverted residual, found and
sized per layer by network architecture search (MnasNet's search, then NetAdapt), plus

* squeeze-and-excitation after the depthwise convolution, gated by a *hard* sigmoid
  ReLU6(x + 3) / 6 and sized make_divisible(expanded / 4, 8);
* h-swish, x * ReLU6(x + 3) / 6, instead of ReLU in the later, cheaper layers: swish's accuracy
  without its sigmoid (``nn.Hardswish``; a test checks the formula);
* 5x5 depthwise kernels in some blocks, a 16-channel stem, and a cheaper head: the last 1x1
  convolution runs after global pooling (on 1x1 instead of 7x7), as a fully connected layer.

MobileNet v3 Large: 5.4M parameters, 219M multiply-adds; Small: 2.5M, 56M (Table 3/4).
Layout and parameter names are torchvision's, so its ``mobilenet_v3_*`` weights load unchanged;
``dilated=True`` (output stride 16) and ``reduced_tail=True`` are torchvision's options for
segmentation backbones (``deeplabv3_mobilenet_v3_large``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from cnnlab.core.validate import number
from cnnlab.layers.conv_norm_act import ConvNormAct
from cnnlab.layers.inverted_residual import InvertedResidual
from cnnlab.layers.make_divisible import make_divisible
from cnnlab.layers.squeeze_excite import SqueezeExcite
from cnnlab.models._registry import register_model

PAPER = "Howard et al., ICCV 2019"


@dataclass(frozen=True)
class BlockConfig:
    """One row of the paper's Tables 1-2 (widths before the width multiplier)."""

    in_channels: int
    kernel: int
    expanded: int
    out_channels: int
    use_se: bool
    act: str  # "relu" (RE) or "hardswish" (HS)
    stride: int
    dilated: bool = False  # part of the last stage (dilation 2 when ``dilated=True``)


R, H = "relu", "hardswish"
# Table 1 (Large) and Table 2 (Small); the last three blocks form the stride-32 stage.
LARGE = (
    BlockConfig(16, 3, 16, 16, False, R, 1),
    BlockConfig(16, 3, 64, 24, False, R, 2),
    BlockConfig(24, 3, 72, 24, False, R, 1),
    BlockConfig(24, 5, 72, 40, True, R, 2),
    BlockConfig(40, 5, 120, 40, True, R, 1),
    BlockConfig(40, 5, 120, 40, True, R, 1),
    BlockConfig(40, 3, 240, 80, False, H, 2),
    BlockConfig(80, 3, 200, 80, False, H, 1),
    BlockConfig(80, 3, 184, 80, False, H, 1),
    BlockConfig(80, 3, 184, 80, False, H, 1),
    BlockConfig(80, 3, 480, 112, True, H, 1),
    BlockConfig(112, 3, 672, 112, True, H, 1),
    BlockConfig(112, 5, 672, 160, True, H, 2, True),
    BlockConfig(160, 5, 960, 160, True, H, 1, True),
    BlockConfig(160, 5, 960, 160, True, H, 1, True),
)
SMALL = (
    BlockConfig(16, 3, 16, 16, True, R, 2),
    BlockConfig(16, 3, 72, 24, False, R, 2),
    BlockConfig(24, 3, 88, 24, False, R, 1),
    BlockConfig(24, 5, 96, 40, True, H, 2),
    BlockConfig(40, 5, 240, 40, True, H, 1),
    BlockConfig(40, 5, 240, 40, True, H, 1),
    BlockConfig(40, 5, 120, 48, True, H, 1),
    BlockConfig(48, 5, 144, 48, True, H, 1),
    BlockConfig(48, 5, 288, 96, True, H, 2, True),
    BlockConfig(96, 5, 576, 96, True, H, 1, True),
    BlockConfig(96, 5, 576, 96, True, H, 1, True),
)
ARCHS = {"large": (LARGE, 1280), "small": (SMALL, 1024)}  # blocks, width of the head's FC


def _se(channels: int) -> SqueezeExcite:
    return SqueezeExcite(
        channels, hidden_channels=make_divisible(channels // 4, 8), gate="hardsigmoid"
    )


class MobileNetV3(nn.Module):
    """3x3/2 conv (h-swish), inverted residual blocks, 1x1 conv, pool, FC-h-swish, dropout, FC.

    Args:
        arch: ``"large"`` or ``"small"``.
        num_classes: output classes.
        in_chans: input channels.
        width_mult: width multiplier (widths rounded with ``make_divisible(., 8)``).
        reduced_tail: halve the channels of the last stage (torchvision's option).
        dilated: dilate the last stage instead of striding it (output stride 16).
        dropout: dropout before the last FC layer.

    Shape:
        input (N, in_chans, H, W); output (N, num_classes).
    """

    def __init__(
        self,
        arch: str = "large",
        num_classes: int = 1000,
        in_chans: int = 3,
        width_mult: float = 1.0,
        reduced_tail: bool = False,
        dilated: bool = False,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        number("width_mult", width_mult, minimum=0, exclusive_minimum=True)
        number("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
        configs, head = ARCHS[arch]
        norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        tail = 2 if reduced_tail else 1

        def width(c: int, in_tail: bool) -> int:
            return make_divisible(c // tail * width_mult if in_tail else c * width_mult, 8)

        first = width(configs[0].in_channels, False)
        layers: list[nn.Module] = [
            ConvNormAct(in_chans, first, 3, stride=2, act="hardswish", norm_layer=norm)
        ]
        for i, cfg in enumerate(configs):
            tail_in = cfg.dilated and configs[i - 1].dilated
            layers.append(
                InvertedResidual(
                    width(cfg.in_channels, tail_in),
                    width(cfg.out_channels, cfg.dilated),
                    cfg.stride,
                    width(cfg.expanded, tail_in),
                    kernel_size=cfg.kernel,
                    dilation=2 if dilated and cfg.dilated else 1,
                    act=cfg.act,
                    se_layer=_se if cfg.use_se else None,
                    norm_layer=norm,
                )
            )
        last_in = layers[-1].out_channels
        layers.append(ConvNormAct(last_in, 6 * last_in, 1, act="hardswish", norm_layer=norm))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        head_width = make_divisible(head // tail * width_mult, 8)
        self.classifier = nn.Sequential(
            nn.Linear(6 * last_in, head_width),
            nn.Hardswish(inplace=True),
            nn.Dropout(p=dropout, inplace=True),
            nn.Linear(head_width, num_classes),
        )
        self.num_features = 6 * last_in
        self.num_classes = num_classes
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
        """(N, in_chans, H, W) -> (N, 6 * last width, H/32, W/32)."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool, FC-h-swish, dropout, FC; ``pre_logits`` returns the pooled features."""
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.classifier(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(family="mobilenet", paper=PAPER)
def mobilenet_v3_large(
    num_classes: int = 1000,
    in_chans: int = 3,
    width_mult: float = 1.0,
    reduced_tail: bool = False,
    dilated: bool = False,
    dropout: float = 0.2,
) -> MobileNetV3:
    """MobileNet v3 Large (5.5M parameters, 219M MACs at 224)."""
    return MobileNetV3("large", num_classes, in_chans, width_mult, reduced_tail, dilated, dropout)


@register_model(family="mobilenet", paper=PAPER)
def mobilenet_v3_small(
    num_classes: int = 1000,
    in_chans: int = 3,
    width_mult: float = 1.0,
    reduced_tail: bool = False,
    dilated: bool = False,
    dropout: float = 0.2,
) -> MobileNetV3:
    """MobileNet v3 Small (2.5M parameters, 56M MACs at 224)."""
    return MobileNetV3("small", num_classes, in_chans, width_mult, reduced_tail, dilated, dropout)
