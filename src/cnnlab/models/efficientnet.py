"""EfficientNet: Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks" (ICML 2019).

The notes' question, *why scale depth, width and resolution together?* Scaling one dimension
saturates quickly: a deeper network needs a larger input to exploit its bigger receptive field,
and a larger input needs more channels to capture its finer patterns (the paper's Fig. 3-4). The
*compound* rule scales all three with one coefficient phi: depth d = alpha^phi, width w =
beta^phi, resolution r = gamma^phi, with alpha = 1.2, beta = 1.1, gamma = 1.15 found by a small
grid search on B0. The cost of a convolutional network grows as d * w^2 * r^2 and alpha * beta^2
* gamma^2 ~ 2, so each step of phi doubles the FLOPs. B0 itself was found by architecture search
(MnasNet's search with a FLOPs target); its block is MBConv: MobileNet v2's inverted residual
with squeeze-and-excitation, SiLU (swish) and stochastic depth.

B1-B7 use the (width, depth, resolution) the paper's released code lists (``SCALING``); channels
round to multiples of 8 (``make_divisible``) and repeats round up (``ceil(d * n)``). Layout and
parameter names are torchvision's, so its ``efficientnet_b*`` weights load unchanged (B5-B7 use
its batch norm with eps 1e-3 and momentum 0.01, as the TensorFlow originals).
"""

from __future__ import annotations

import math
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

PAPER = "Tan & Le, ICML 2019"

# The compound-scaling coefficients of Section 3.3 (alpha * beta^2 * gamma^2 ~ 2).
ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15


@dataclass(frozen=True)
class Stage:
    """One row of Table 1 (EfficientNet-B0): MBConv``expand`` kxk, channels, layers, stride."""

    expand: int
    kernel: int
    stride: int
    in_channels: int
    out_channels: int
    layers: int


B0_STAGES = (
    Stage(1, 3, 1, 32, 16, 1),
    Stage(6, 3, 2, 16, 24, 2),
    Stage(6, 5, 2, 24, 40, 2),
    Stage(6, 3, 2, 40, 80, 3),
    Stage(6, 5, 1, 80, 112, 3),
    Stage(6, 5, 2, 112, 192, 4),
    Stage(6, 3, 1, 192, 320, 1),
)


@dataclass(frozen=True)
class Scaling:
    """Width and depth multipliers, input resolution and head dropout of one EfficientNet."""

    width: float
    depth: float
    resolution: int
    dropout: float


# The released code's efficientnet_params (the paper's phi = 0 ... 7, rounded by hand).
SCALING: dict[str, Scaling] = {
    "b0": Scaling(1.0, 1.0, 224, 0.2),
    "b1": Scaling(1.0, 1.1, 240, 0.2),
    "b2": Scaling(1.1, 1.2, 260, 0.3),
    "b3": Scaling(1.2, 1.4, 300, 0.3),
    "b4": Scaling(1.4, 1.8, 380, 0.4),
    "b5": Scaling(1.6, 2.2, 456, 0.4),
    "b6": Scaling(1.8, 2.6, 528, 0.5),
    "b7": Scaling(2.0, 3.1, 600, 0.5),
}


def scaled_stages(width: float, depth: float) -> list[Stage]:
    """B0's stages with channels ``make_divisible(c * width, 8)`` and ``ceil(n * depth)`` layers."""
    return [
        Stage(
            s.expand,
            s.kernel,
            s.stride,
            make_divisible(s.in_channels * width, 8),
            make_divisible(s.out_channels * width, 8),
            math.ceil(s.layers * depth),
        )
        for s in B0_STAGES
    ]


class EfficientNet(nn.Module):
    """3x3/2 conv, seven stages of MBConv blocks, 1x1 conv (4x), pool, dropout, FC.

    Args:
        width: width multiplier.
        depth: depth multiplier.
        num_classes: output classes.
        in_chans: input channels.
        dropout: dropout before the classifier.
        stochastic_depth_prob: drop probability of the last block's residual branch; block i
            of n uses ``stochastic_depth_prob * i / n``.
        norm_layer: batch-norm constructor.

    Shape:
        input (N, in_chans, H, W); output (N, num_classes).
    """

    def __init__(
        self,
        width: float = 1.0,
        depth: float = 1.0,
        num_classes: int = 1000,
        in_chans: int = 3,
        dropout: float = 0.2,
        stochastic_depth_prob: float = 0.2,
        norm_layer: type[nn.Module] | partial[nn.Module] = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        number("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
        number("stochastic_depth_prob", stochastic_depth_prob, minimum=0, maximum=1)
        stages = scaled_stages(width, depth)
        norm = {"norm_layer": norm_layer}
        layers: list[nn.Module] = [
            ConvNormAct(in_chans, stages[0].in_channels, 3, stride=2, act="silu", **norm)
        ]
        total = sum(s.layers for s in stages)
        index = 0
        for s in stages:
            blocks: list[nn.Module] = []
            for i in range(s.layers):
                cin = s.in_channels if i == 0 else s.out_channels
                blocks.append(
                    InvertedResidual(
                        cin,
                        s.out_channels,
                        s.stride if i == 0 else 1,
                        make_divisible(cin * s.expand, 8),
                        kernel_size=s.kernel,
                        act="silu",
                        se_layer=partial(_se, block_in=cin),
                        drop_path=stochastic_depth_prob * index / total,
                        **norm,
                    )
                )
                index += 1
            layers.append(nn.Sequential(*blocks))
        last = 4 * stages[-1].out_channels
        layers.append(ConvNormAct(stages[-1].out_channels, last, 1, act="silu", **norm))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout, inplace=True), nn.Linear(last, num_classes)
        )
        self.num_features = last
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
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, H, W) -> (N, num_features, H/32, W/32)."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool, dropout, FC; ``pre_logits`` returns the pooled features."""
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.classifier(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def _se(channels: int, block_in: int) -> SqueezeExcite:
    # EfficientNet sizes the SE block from the MBConv block's input channels, not the expanded.
    return SqueezeExcite(channels, hidden_channels=max(1, block_in // 4), act="silu")


def _efficientnet(
    variant: str,
    num_classes: int,
    in_chans: int,
    dropout: float | None,
    stochastic_depth_prob: float,
) -> EfficientNet:
    cfg = SCALING[variant]
    # torchvision (and the TensorFlow originals) use eps 1e-3, momentum 0.01 from B5 on.
    large = variant in ("b5", "b6", "b7")
    norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01) if large else nn.BatchNorm2d
    return EfficientNet(
        cfg.width,
        cfg.depth,
        num_classes,
        in_chans,
        cfg.dropout if dropout is None else dropout,
        stochastic_depth_prob,
        norm,
    )


def _register(variant: str) -> None:
    def factory(
        num_classes: int = 1000,
        in_chans: int = 3,
        dropout: float | None = None,
        stochastic_depth_prob: float = 0.2,
    ) -> EfficientNet:
        return _efficientnet(variant, num_classes, in_chans, dropout, stochastic_depth_prob)

    cfg = SCALING[variant]
    factory.__name__ = f"efficientnet_{variant}"
    factory.__doc__ = (
        f"EfficientNet-{variant.upper()}: width x{cfg.width}, depth x{cfg.depth}, "
        f"{cfg.resolution}x{cfg.resolution} inputs; ``dropout`` defaults to {cfg.dropout}."
    )
    size = (3, cfg.resolution, cfg.resolution)
    register_model(factory, family="efficientnet", default_input_size=size, paper=PAPER)


for _variant in SCALING:
    _register(_variant)
