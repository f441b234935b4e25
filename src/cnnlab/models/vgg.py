"""VGG: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition" (ICLR 2015).

The notes' point: VGG replaces AlexNet's large kernels with stacks of 3x3 convolutions. Three
stacked 3x3 layers see a 7x7 window, like one 7x7 layer, but with 3 * 9C^2 = 27C^2 weights
instead of 49C^2 and three non-linearities instead of one (two 3x3 layers likewise replace a 5x5).
The whole network is 3x3 convolutions and 2x2 max pooling; VGG-16 (13 conv + 3 FC, configuration
D) has 138M parameters, 103M of them in fc6 alone (7*7*512*4096), which is why the model file is
over 500 MB.

Layout and parameter names are torchvision's (``features``, ``avgpool``, ``classifier``), so
torchvision's ``vgg*`` / ``vgg*_bn`` weights load unchanged. The ``_bn`` variants add batch
norm after every convolution (not in the paper, which predates BN).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.layers import ConvNormAct
from cnnlab.models._registry import register_model

PAPER = "Simonyan & Zisserman, ICLR 2015"

# Table 1 of the paper: conv widths per configuration, "M" = 2x2 max pooling.
CONFIGS: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", *[256] * 4, "M", *[512] * 4, "M", *[512] * 4, "M"],
}


def make_features(config: list[int | str], in_chans: int, batch_norm: bool) -> nn.Sequential:
    """The flat ``features`` sequence of a configuration (conv[-BN]-ReLU ..., max pooling)."""
    layers: list[nn.Module] = []
    channels = in_chans
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            assert isinstance(item, int)
            layers.extend(ConvNormAct(channels, item, 3, padding=1, norm=batch_norm, bias=True))
            channels = item
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """3x3 conv stacks with max pooling, adaptive pool to 7x7, three FC layers.

    Args:
        config: one of the paper's configurations ``"A"`` (VGG-11), ``"B"`` (13), ``"D"`` (16),
            ``"E"`` (19).
        num_classes: output classes.
        in_chans: input channels.
        batch_norm: batch norm after every convolution.
        dropout: dropout probability after fc6 and fc7.

    Shape:
        input (N, in_chans, H, W) with H, W >= 32; output (N, num_classes).
    """

    def __init__(
        self,
        config: str = "D",
        num_classes: int = 1000,
        in_chans: int = 3,
        batch_norm: bool = False,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if config not in CONFIGS:
            raise ValueError(f"config must be one of {sorted(CONFIGS)}, got {config!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.features = make_features(CONFIGS[config], in_chans, batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        self.num_classes = num_classes
        self._init_weights()

    def _init_weights(self) -> None:
        # torchvision's (and the paper's follow-up practice): He init for convs, N(0, 0.01) for FC.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, H, W) -> (N, 512, H/32, W/32)."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool to 7x7, flatten, fc6-fc8; ``pre_logits`` returns the fc7 activations."""
        x = torch.flatten(self.avgpool(x), 1)
        return self.classifier[:-1](x) if pre_logits else self.classifier(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def _vgg(config: str, batch_norm: bool, num_classes: int, in_chans: int, dropout: float) -> VGG:
    return VGG(config, num_classes, in_chans, batch_norm=batch_norm, dropout=dropout)


@register_model(family="vgg", paper=PAPER)
def vgg11(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-11 (configuration A, 133M parameters)."""
    return _vgg("A", False, num_classes, in_chans, dropout)


@register_model(family="vgg", paper=PAPER)
def vgg13(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-13 (configuration B, 133M parameters)."""
    return _vgg("B", False, num_classes, in_chans, dropout)


@register_model(family="vgg", paper=PAPER)
def vgg16(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-16 (configuration D, 138M parameters)."""
    return _vgg("D", False, num_classes, in_chans, dropout)


@register_model(family="vgg", paper=PAPER)
def vgg19(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-19 (configuration E, 144M parameters)."""
    return _vgg("E", False, num_classes, in_chans, dropout)


@register_model(family="vgg", paper=PAPER + " (+ batch norm)")
def vgg11_bn(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-11 with batch norm after every convolution."""
    return _vgg("A", True, num_classes, in_chans, dropout)


@register_model(family="vgg", paper=PAPER + " (+ batch norm)")
def vgg13_bn(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-13 with batch norm after every convolution."""
    return _vgg("B", True, num_classes, in_chans, dropout)


@register_model(family="vgg", paper=PAPER + " (+ batch norm)")
def vgg16_bn(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-16 with batch norm after every convolution."""
    return _vgg("D", True, num_classes, in_chans, dropout)


@register_model(family="vgg", paper=PAPER + " (+ batch norm)")
def vgg19_bn(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-19 with batch norm after every convolution."""
    return _vgg("E", True, num_classes, in_chans, dropout)
