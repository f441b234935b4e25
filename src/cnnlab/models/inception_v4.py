"""Inception-v4: Szegedy, Ioffe, Vanhoucke & Alemi, "Inception-v4, Inception-ResNet and the Impact
of Residual Connections on Learning" (AAAI 2017).

The notes' Inception v4: a uniform, simplified Inception v3 -- one stem, then 4 x Inception-A
(35x35), Reduction-A, 7 x Inception-B (17x17), Reduction-B and 3 x Inception-C (8x8), all
modules of the same design per grid size and all convolutions factorised as in v3 (3x3 stacks
for 5x5, 1x7 + 7x1, 1x3 / 3x1 fans), plus a stem that mixes pooling and strided convolutions in
parallel (Fig. 3). 42.7M parameters and 12.3 GMACs at 299x299.
Its sibling, Inception-ResNet-v2 (:mod:`cnnlab.models.inception_resnet_v2`), adds residual
connections and trains much faster to the same accuracy.

Layout and parameter names are timm's ``inception_v4`` (a port of the TensorFlow weights), so
its weights load unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.core.validate import number
from cnnlab.layers.inception import BasicConv2d as Conv
from cnnlab.models._registry import register_model

PAPER = "Szegedy, Ioffe, Vanhoucke & Alemi, AAAI 2017"


def _avg_pool_branch(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=False), Conv(cin, cout, 1))


class Mixed3a(nn.Module):
    """Stem: 3x3/2 max pool | 3x3/2 conv 96, concatenated (64 -> 160)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxpool = nn.MaxPool2d(3, stride=2)
        self.conv = Conv(64, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.maxpool(x), self.conv(x)), 1)


class Mixed4a(nn.Module):
    """Stem: 1x1-3x3 | 1x1-1x7-7x1-3x3, concatenated (160 -> 192)."""

    def __init__(self) -> None:
        super().__init__()
        self.branch0 = nn.Sequential(Conv(160, 64, 1), Conv(64, 96, 3))
        self.branch1 = nn.Sequential(
            Conv(160, 64, 1),
            Conv(64, 64, (1, 7), padding=(0, 3)),
            Conv(64, 64, (7, 1), padding=(3, 0)),
            Conv(64, 96, 3),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.branch0(x), self.branch1(x)), 1)


class Mixed5a(nn.Module):
    """Stem: 3x3/2 conv 192 | 3x3/2 max pool, concatenated (192 -> 384)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = Conv(192, 192, 3, stride=2)
        self.maxpool = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.conv(x), self.maxpool(x)), 1)


class InceptionA(nn.Module):
    """35x35 (Fig. 4): 1x1 | 1x1-3x3 | 1x1-3x3-3x3 | avgpool-1x1, 384 channels."""

    def __init__(self) -> None:
        super().__init__()
        self.branch0 = Conv(384, 96, 1)
        self.branch1 = nn.Sequential(Conv(384, 64, 1), Conv(64, 96, 3, padding=1))
        self.branch2 = nn.Sequential(
            Conv(384, 64, 1), Conv(64, 96, 3, padding=1), Conv(96, 96, 3, padding=1)
        )
        self.branch3 = _avg_pool_branch(384, 96)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch0, self.branch1, self.branch2, self.branch3)
        return torch.cat([b(x) for b in branches], 1)


class ReductionA(nn.Module):
    """35 -> 17 (Fig. 7, k=192, l=224, m=256, n=384): 3x3/2 | 1x1-3x3-3x3/2 | max pool."""

    def __init__(self) -> None:
        super().__init__()
        self.branch0 = Conv(384, 384, 3, stride=2)
        self.branch1 = nn.Sequential(
            Conv(384, 192, 1), Conv(192, 224, 3, padding=1), Conv(224, 256, 3, stride=2)
        )
        self.branch2 = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.branch0(x), self.branch1(x), self.branch2(x)), 1)


class InceptionB(nn.Module):
    """17x17 (Fig. 5): 1x1 | 1x1-1x7-7x1 | 1x1-7x1-1x7-7x1-1x7 | avgpool-1x1, 1024 channels."""

    def __init__(self) -> None:
        super().__init__()
        self.branch0 = Conv(1024, 384, 1)
        self.branch1 = nn.Sequential(
            Conv(1024, 192, 1),
            Conv(192, 224, (1, 7), padding=(0, 3)),
            Conv(224, 256, (7, 1), padding=(3, 0)),
        )
        self.branch2 = nn.Sequential(
            Conv(1024, 192, 1),
            Conv(192, 192, (7, 1), padding=(3, 0)),
            Conv(192, 224, (1, 7), padding=(0, 3)),
            Conv(224, 224, (7, 1), padding=(3, 0)),
            Conv(224, 256, (1, 7), padding=(0, 3)),
        )
        self.branch3 = _avg_pool_branch(1024, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch0, self.branch1, self.branch2, self.branch3)
        return torch.cat([b(x) for b in branches], 1)


class ReductionB(nn.Module):
    """17 -> 8 (Fig. 8): 1x1-3x3/2 | 1x1-1x7-7x1-3x3/2 | max pool."""

    def __init__(self) -> None:
        super().__init__()
        self.branch0 = nn.Sequential(Conv(1024, 192, 1), Conv(192, 192, 3, stride=2))
        self.branch1 = nn.Sequential(
            Conv(1024, 256, 1),
            Conv(256, 256, (1, 7), padding=(0, 3)),
            Conv(256, 320, (7, 1), padding=(3, 0)),
            Conv(320, 320, 3, stride=2),
        )
        self.branch2 = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.branch0(x), self.branch1(x), self.branch2(x)), 1)


class InceptionC(nn.Module):
    """8x8 (Fig. 6): 1x1 | 1x1 fanned into 1x3 and 3x1 | 1x1-3x1-1x3 fanned | avgpool-1x1."""

    def __init__(self) -> None:
        super().__init__()
        self.branch0 = Conv(1536, 256, 1)
        self.branch1_0 = Conv(1536, 384, 1)
        self.branch1_1a = Conv(384, 256, (1, 3), padding=(0, 1))
        self.branch1_1b = Conv(384, 256, (3, 1), padding=(1, 0))
        self.branch2_0 = Conv(1536, 384, 1)
        self.branch2_1 = Conv(384, 448, (3, 1), padding=(1, 0))
        self.branch2_2 = Conv(448, 512, (1, 3), padding=(0, 1))
        self.branch2_3a = Conv(512, 256, (1, 3), padding=(0, 1))
        self.branch2_3b = Conv(512, 256, (3, 1), padding=(1, 0))
        self.branch3 = _avg_pool_branch(1536, 256)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1_0(x)
        b1 = torch.cat((self.branch1_1a(b1), self.branch1_1b(b1)), 1)
        b2 = self.branch2_2(self.branch2_1(self.branch2_0(x)))
        b2 = torch.cat((self.branch2_3a(b2), self.branch2_3b(b2)), 1)
        return torch.cat((self.branch0(x), b1, b2, self.branch3(x)), 1)


class InceptionV4(nn.Module):
    """Stem, 4 x A, reduction A, 7 x B, reduction B, 3 x C, global pool, dropout, FC.

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
        self.features = nn.Sequential(
            Conv(in_chans, 32, 3, stride=2),
            Conv(32, 32, 3),
            Conv(32, 64, 3, padding=1),
            Mixed3a(),
            Mixed4a(),
            Mixed5a(),
            *[InceptionA() for _ in range(4)],
            ReductionA(),
            *[InceptionB() for _ in range(7)],
            ReductionB(),
            *[InceptionC() for _ in range(3)],
        )
        self.num_features = 1536
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.head_drop = nn.Dropout(dropout)
        self.last_linear = nn.Linear(1536, num_classes)
        self.num_classes = num_classes

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, 299, 299) -> (N, 1536, 8, 8)."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool, dropout, FC; ``pre_logits`` returns the pooled features."""
        x = torch.flatten(self.global_pool(x), 1)
        return x if pre_logits else self.last_linear(self.head_drop(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(family="inception", default_input_size=(3, 299, 299), paper=PAPER)
def inception_v4(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.0) -> InceptionV4:
    """Inception-v4, timm's layout (42.7M parameters)."""
    return InceptionV4(num_classes, in_chans, dropout)
