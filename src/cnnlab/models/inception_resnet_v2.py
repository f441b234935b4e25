"""Inception-ResNet-v2: Szegedy, Ioffe, Vanhoucke & Alemi, "Inception-v4, Inception-ResNet and
the Impact of Residual Connections on Learning" (AAAI 2017).

Inception modules with residual connections: each block's branches are concatenated, projected
back to the block's width by a 1x1 convolution (no activation) and *added* to the block's input.
The paper finds the residuals speed up training markedly (Fig. 25-26) for the same final
accuracy, and that very wide residual networks become unstable unless the residual is scaled down
before the addition: x + s * F(x) with s = 0.17, 0.10, 0.20 for the 35x35, 17x17 and 8x8 blocks
(Fig. 20). 10 x Block35, 20 x Block17, 10 x Block8 (the last without ReLU); 55.8M parameters and
13.2 GMACs at 299x299.

Layout and parameter names are timm's ``inception_resnet_v2`` (a port of the TensorFlow
weights), so its weights load unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.core.validate import number
from cnnlab.layers.inception import BasicConv2d as Conv
from cnnlab.models._registry import register_model

PAPER = "Szegedy, Ioffe, Vanhoucke & Alemi, AAAI 2017"


class Mixed5b(nn.Module):
    """Stem output: 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1, 192 -> 320 channels."""

    def __init__(self) -> None:
        super().__init__()
        self.branch0 = Conv(192, 96, 1)
        self.branch1 = nn.Sequential(Conv(192, 48, 1), Conv(48, 64, 5, padding=2))
        self.branch2 = nn.Sequential(
            Conv(192, 64, 1), Conv(64, 96, 3, padding=1), Conv(96, 96, 3, padding=1)
        )
        self.branch3 = nn.Sequential(
            nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False), Conv(192, 64, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch0, self.branch1, self.branch2, self.branch3)
        return torch.cat([b(x) for b in branches], 1)


class Block35(nn.Module):
    """35x35 residual block (Fig. 16): x + scale * conv1x1(1x1 | 1x1-3x3 | 1x1-3x3-3x3), ReLU."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale
        self.branch0 = Conv(320, 32, 1)
        self.branch1 = nn.Sequential(Conv(320, 32, 1), Conv(32, 32, 3, padding=1))
        self.branch2 = nn.Sequential(
            Conv(320, 32, 1), Conv(32, 48, 3, padding=1), Conv(48, 64, 3, padding=1)
        )
        self.conv2d = nn.Conv2d(128, 320, 1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat((self.branch0(x), self.branch1(x), self.branch2(x)), 1)
        return self.act(self.conv2d(out) * self.scale + x)


class Mixed6a(nn.Module):
    """Reduction 35 -> 17: 3x3/2 | 1x1-3x3-3x3/2 | max pool (320 -> 1088)."""

    def __init__(self) -> None:
        super().__init__()
        self.branch0 = Conv(320, 384, 3, stride=2)
        self.branch1 = nn.Sequential(
            Conv(320, 256, 1), Conv(256, 256, 3, padding=1), Conv(256, 384, 3, stride=2)
        )
        self.branch2 = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.branch0(x), self.branch1(x), self.branch2(x)), 1)


class Block17(nn.Module):
    """17x17 residual block (Fig. 17): x + scale * conv1x1(1x1 | 1x1-1x7-7x1), ReLU."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale
        self.branch0 = Conv(1088, 192, 1)
        self.branch1 = nn.Sequential(
            Conv(1088, 128, 1),
            Conv(128, 160, (1, 7), padding=(0, 3)),
            Conv(160, 192, (7, 1), padding=(3, 0)),
        )
        self.conv2d = nn.Conv2d(384, 1088, 1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat((self.branch0(x), self.branch1(x)), 1)
        return self.act(self.conv2d(out) * self.scale + x)


class Mixed7a(nn.Module):
    """Reduction 17 -> 8: 1x1-3x3/2 | 1x1-3x3/2 | 1x1-3x3-3x3/2 | max pool (1088 -> 2080)."""

    def __init__(self) -> None:
        super().__init__()
        self.branch0 = nn.Sequential(Conv(1088, 256, 1), Conv(256, 384, 3, stride=2))
        self.branch1 = nn.Sequential(Conv(1088, 256, 1), Conv(256, 288, 3, stride=2))
        self.branch2 = nn.Sequential(
            Conv(1088, 256, 1), Conv(256, 288, 3, padding=1), Conv(288, 320, 3, stride=2)
        )
        self.branch3 = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch0, self.branch1, self.branch2, self.branch3)
        return torch.cat([b(x) for b in branches], 1)


class Block8(nn.Module):
    """8x8 residual block (Fig. 19): x + scale * conv1x1(1x1 | 1x1-1x3-3x1), ReLU (optional)."""

    def __init__(self, scale: float = 1.0, no_relu: bool = False) -> None:
        super().__init__()
        self.scale = scale
        self.branch0 = Conv(2080, 192, 1)
        self.branch1 = nn.Sequential(
            Conv(2080, 192, 1),
            Conv(192, 224, (1, 3), padding=(0, 1)),
            Conv(224, 256, (3, 1), padding=(1, 0)),
        )
        self.conv2d = nn.Conv2d(448, 2080, 1)
        self.relu = None if no_relu else nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat((self.branch0(x), self.branch1(x)), 1)
        out = self.conv2d(out) * self.scale + x
        return out if self.relu is None else self.relu(out)


class InceptionResNetV2(nn.Module):
    """Stem, 10 x Block35, Mixed6a, 20 x Block17, Mixed7a, 10 x Block8, 1x1 conv, pool, FC.

    Args:
        num_classes: output classes.
        in_chans: input channels.
        dropout: dropout before the classifier (the paper: keep 0.8, i.e. 0.2).

    Shape:
        input (N, in_chans, H, W) with H, W >= 75 (299 in the paper); output (N, num_classes).
    """

    def __init__(self, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.0) -> None:
        super().__init__()
        number("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
        self.conv2d_1a = Conv(in_chans, 32, 3, stride=2)
        self.conv2d_2a = Conv(32, 32, 3)
        self.conv2d_2b = Conv(32, 64, 3, padding=1)
        self.maxpool_3a = nn.MaxPool2d(3, stride=2)
        self.conv2d_3b = Conv(64, 80, 1)
        self.conv2d_4a = Conv(80, 192, 3)
        self.maxpool_5a = nn.MaxPool2d(3, stride=2)
        self.mixed_5b = Mixed5b()
        self.repeat = nn.Sequential(*[Block35(scale=0.17) for _ in range(10)])
        self.mixed_6a = Mixed6a()
        self.repeat_1 = nn.Sequential(*[Block17(scale=0.10) for _ in range(20)])
        self.mixed_7a = Mixed7a()
        self.repeat_2 = nn.Sequential(*[Block8(scale=0.20) for _ in range(9)])
        self.block8 = Block8(no_relu=True)
        self.conv2d_7b = Conv(2080, 1536, 1)
        self.num_features = 1536
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.head_drop = nn.Dropout(dropout)
        self.classif = nn.Linear(1536, num_classes)
        self.num_classes = num_classes

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, 299, 299) -> (N, 1536, 8, 8)."""
        x = self.conv2d_2b(self.conv2d_2a(self.conv2d_1a(x)))
        x = self.conv2d_4a(self.conv2d_3b(self.maxpool_3a(x)))
        x = self.repeat(self.mixed_5b(self.maxpool_5a(x)))
        x = self.repeat_1(self.mixed_6a(x))
        x = self.block8(self.repeat_2(self.mixed_7a(x)))
        return self.conv2d_7b(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool, dropout, FC; ``pre_logits`` returns the pooled features."""
        x = torch.flatten(self.global_pool(x), 1)
        return x if pre_logits else self.classif(self.head_drop(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(family="inception", default_input_size=(3, 299, 299), paper=PAPER)
def inception_resnet_v2(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.0
) -> InceptionResNetV2:
    """Inception-ResNet-v2, timm's layout (55.8M parameters)."""
    return InceptionResNetV2(num_classes, in_chans, dropout)
