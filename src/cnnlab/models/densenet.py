"""DenseNet: Huang, Liu, van der Maaten & Weinberger, "Densely Connected Convolutional Networks"
(CVPR 2017).

The notes ask two questions. *Why is DenseNet better than ResNet?* ResNet adds a layer's output
to its input, so information is mixed and must be re-learned; DenseNet concatenates, so every
layer sees the raw features of all earlier layers of its block (feature reuse) and has a direct
path to the loss. Layers can be thin (growth rate k = 32 new channels each), so the networks are
small: the paper's DenseNet-201, 20M parameters, is about as accurate as a ResNet-101 with more
than 40M (Sec. 4.4). *Why does it need more memory?*
Each layer concatenates, normalises and activates an ever wider input (k0 + k(l - 1) channels for
layer l), and a straightforward implementation keeps all of these for the backward pass: memory
grows quadratically with the depth of a block (:mod:`cnnlab.layers.dense`;
``docs/architectures_second_wave.md`` measures it against ResNet-50).

DenseNet-BC (the ImageNet models): each layer is a 1x1 bottleneck to 4k channels then a 3x3 to k
channels; transition layers halve the channels (compression 0.5) and the resolution. Layout and
parameter names are torchvision's, so its ``densenet*`` weights load unchanged (old-style
``norm.1`` names too); ``memory_efficient=True`` checkpoints the bottlenecks.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.core.validate import number
from cnnlab.layers.dense import DenseBlock, Transition
from cnnlab.models._registry import register_model

PAPER = "Huang, Liu, van der Maaten & Weinberger, CVPR 2017"

# Table 1: growth rate k, layers per dense block, channels of the stem.
CONFIGS: dict[str, tuple[int, tuple[int, int, int, int], int]] = {
    "densenet121": (32, (6, 12, 24, 16), 64),
    "densenet161": (48, (6, 12, 36, 24), 96),
    "densenet169": (32, (6, 12, 32, 32), 64),
    "densenet201": (32, (6, 12, 48, 32), 64),
}


class DenseNet(nn.Module):
    """7x7/2 conv, 3x3/2 max pool, four dense blocks with transitions, BN, global pool, FC.

    Args:
        growth_rate: k, channels added by each dense layer.
        block_config: dense layers per block.
        num_init_features: channels of the stem convolution (2k).
        bn_size: bottleneck width in multiples of k.
        dropout: dropout after each dense layer (0 for the ImageNet models).
        num_classes: output classes.
        in_chans: input channels.
        memory_efficient: checkpoint the bottlenecks (less memory, about 15-20% slower).

    Shape:
        input (N, in_chans, H, W) with H, W >= 29; output (N, num_classes).
    """

    def __init__(
        self,
        growth_rate: int = 32,
        block_config: tuple[int, int, int, int] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        dropout: float = 0.0,
        num_classes: int = 1000,
        in_chans: int = 3,
        memory_efficient: bool = False,
    ) -> None:
        super().__init__()
        number("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
        stem = [
            ("conv0", nn.Conv2d(in_chans, num_init_features, 7, stride=2, padding=3, bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]
        self.features = nn.Sequential(OrderedDict(stem))
        channels = num_init_features
        for i, num_layers in enumerate(block_config):
            block = DenseBlock(
                num_layers, channels, bn_size, growth_rate, dropout, memory_efficient
            )
            self.features.add_module(f"denseblock{i + 1}", block)
            channels += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", Transition(channels, channels // 2))
                channels //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.num_features = channels
        self.classifier = nn.Linear(channels, num_classes)
        self.num_classes = num_classes
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, H, W) -> (N, num_features, H/32, W/32), after the final BN."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """ReLU, global average pool, FC; ``pre_logits`` returns the pooled features."""
        x = torch.flatten(F.adaptive_avg_pool2d(F.relu(x), (1, 1)), 1)
        return x if pre_logits else self.classifier(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def _densenet(
    name: str, num_classes: int, in_chans: int, dropout: float, memory_efficient: bool
) -> DenseNet:
    k, blocks, init = CONFIGS[name]
    return DenseNet(
        k, blocks, init, 4, dropout, num_classes, in_chans, memory_efficient=memory_efficient
    )


@register_model(family="densenet", paper=PAPER)
def densenet121(
    num_classes: int = 1000,
    in_chans: int = 3,
    dropout: float = 0.0,
    memory_efficient: bool = False,
) -> DenseNet:
    """DenseNet-121 (k = 32, 6-12-24-16 layers; 8.0M parameters, 2.9 GMACs)."""
    return _densenet("densenet121", num_classes, in_chans, dropout, memory_efficient)


@register_model(family="densenet", paper=PAPER)
def densenet161(
    num_classes: int = 1000,
    in_chans: int = 3,
    dropout: float = 0.0,
    memory_efficient: bool = False,
) -> DenseNet:
    """DenseNet-161 (k = 48, 6-12-36-24 layers; 28.7M parameters)."""
    return _densenet("densenet161", num_classes, in_chans, dropout, memory_efficient)


@register_model(family="densenet", paper=PAPER)
def densenet169(
    num_classes: int = 1000,
    in_chans: int = 3,
    dropout: float = 0.0,
    memory_efficient: bool = False,
) -> DenseNet:
    """DenseNet-169 (k = 32, 6-12-32-32 layers; 14.1M parameters)."""
    return _densenet("densenet169", num_classes, in_chans, dropout, memory_efficient)


@register_model(family="densenet", paper=PAPER)
def densenet201(
    num_classes: int = 1000,
    in_chans: int = 3,
    dropout: float = 0.0,
    memory_efficient: bool = False,
) -> DenseNet:
    """DenseNet-201 (k = 32, 6-12-48-32 layers; 20.0M parameters)."""
    return _densenet("densenet201", num_classes, in_chans, dropout, memory_efficient)
