"""Octave ResNet-50: Chen et al., "Drop an Octave: Reducing Spatial Redundancy in Convolutional
Neural Networks with Octave Convolution" (ICCV 2019).

What Octave convolution changes: every convolution of ResNet-50's bottlenecks becomes an
:class:`cnnlab.layers.OctaveConv`, which keeps a fraction alpha of the channels at half the
resolution. The parameters are exactly ResNet-50's (the same weights, split into four blocks per
convolution) and the multiply-adds fall from 4.1G to about 2.4G at alpha = 0.5 (the paper's
ResNet-50 results; the widely used PyTorch port d-li14/octconv.pytorch reports 2.367 G, which
this model reproduces), with slightly *better* accuracy: the
low-frequency half of the channels was redundant at full resolution, and the exchange between
the groups enlarges the receptive field.

As the authors' models: the stem is a plain convolution; the first block turns the plain map
into (high, low) (alpha_in = 0), the first block of the last stage turns it back (alpha_out = 0)
and the rest of that stage is plain; a stride-2 block average-pools instead of striding. No
reference weights exist in torchvision or timm, so the names are our own.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.core.validate import number
from cnnlab.layers.octave_conv import OctaveConvBnAct, OctaveMap
from cnnlab.models._registry import register_model

PAPER = "Chen et al., ICCV 2019 (Drop an Octave)"


class OctBottleneck(nn.Module):
    """ResNet's bottleneck with octave convolutions; the shortcut is octave too.

    Args:
        inplanes: input channels (high and low together).
        planes: the block outputs ``4 * planes`` channels.
        stride: stride of the 3x3 convolution and of the projection shortcut.
        alpha_in: low-frequency fraction of the block's input.
        alpha_out: low-frequency fraction inside and at the output of the block.

    Shape:
        input and output are ``(high, low)`` pairs (low ``None`` when its alpha is 0).
    """

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        alpha_in: float = 0.5,
        alpha_out: float = 0.5,
    ) -> None:
        super().__init__()
        out = planes * self.expansion
        self.conv1 = OctaveConvBnAct(inplanes, planes, 1, alpha_in, alpha_out)
        self.conv2 = OctaveConvBnAct(planes, planes, 3, alpha_out, alpha_out, stride)
        self.conv3 = OctaveConvBnAct(planes, out, 1, alpha_out, alpha_out, act=False)
        self.downsample = None
        if stride != 1 or inplanes != out or alpha_in != alpha_out:
            self.downsample = OctaveConvBnAct(inplanes, out, 1, alpha_in, alpha_out, stride, False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor | OctaveMap) -> OctaveMap:
        identity = x if isinstance(x, tuple) else (x, None)
        if self.downsample is not None:
            identity = self.downsample(x)
        high, low = self.conv3(self.conv2(self.conv1(x)))
        high = self.relu(high + identity[0])
        if low is not None and identity[1] is not None:
            low = self.relu(low + identity[1])
        return high, low


class OctResNet(nn.Module):
    """ResNet-50's stem, four stages of octave bottlenecks (3-4-6-3), global pool, FC.

    Args:
        layers: bottlenecks per stage.
        alpha: low-frequency fraction in stages 1-3.
        num_classes: output classes.
        in_chans: input channels.

    Shape:
        input (N, in_chans, H, W) with H, W >= 16; output (N, num_classes).
    """

    def __init__(
        self,
        layers: tuple[int, int, int, int] = (3, 4, 6, 3),
        alpha: float = 0.5,
        num_classes: int = 1000,
        in_chans: int = 3,
    ) -> None:
        super().__init__()
        number("alpha", alpha, minimum=0, maximum=1, exclusive_maximum=True)
        self.conv1 = nn.Conv2d(in_chans, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes = 64
        stages = []
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers, strict=True)):
            last = i == 3
            blocks = []
            for j in range(n):
                a_in = 0.0 if (i == 0 and j == 0) or (last and j > 0) else alpha
                a_out = 0.0 if last else alpha
                blocks.append(
                    OctBottleneck(inplanes, planes, 2 if i > 0 and j == 0 else 1, a_in, a_out)
                )
                inplanes = planes * OctBottleneck.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.num_features = inplanes
        self.fc = nn.Linear(inplanes, num_classes)
        self.num_classes = num_classes
        self.alpha = alpha
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, H, W) -> (N, 2048, H/32, W/32) (plain again after the last stage)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        high, _ = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return high

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool and FC; ``pre_logits`` returns the pooled features."""
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(family="octconv", paper=PAPER)
def oct_resnet50(num_classes: int = 1000, in_chans: int = 3, alpha: float = 0.5) -> OctResNet:
    """Octave ResNet-50 (ResNet-50's 25.6M parameters; 2.4 GMACs at alpha = 0.5)."""
    return OctResNet((3, 4, 6, 3), alpha, num_classes, in_chans)
