"""GoogLeNet (Inception v1): Szegedy et al., "Going Deeper with Convolutions" (CVPR 2015).

The notes' Inception v1: instead of choosing one kernel size per layer, an inception module runs
1x1, 3x3 and 5x5 convolutions and a 3x3 max pool side by side and concatenates them, so the next
layer sees features of several scales. 1x1 convolutions *reduce* the channels before the 3x3 and
5x5 convolutions and after the pooling (:class:`cnnlab.layers.Inception`), which is what keeps 22
layers at 6.8M parameters and 1.5G multiply-adds (Table 1; AlexNet has 60M parameters). Two
auxiliary classifiers on inception (4a) and (4d) add gradient signal to the middle of the network
during training (their loss weighs 0.3) and are dropped at test time; global average pooling
replaces the fully connected layers.

Layout and parameter names are torchvision's, so its ``googlenet`` weights load unchanged. Like
torchvision (and unlike the paper), the "5x5" branch uses 3x3 kernels (6.6M parameters), and
batch norm follows every convolution (the paper predates BN). ``aux_logits=True`` adds the
auxiliary heads; in training mode the model then returns ``GoogLeNetOutputs(logits,
aux_logits2, aux_logits1)`` as torchvision does, otherwise the logits. The default is
``aux_logits=False``, so that ``cnnlab train`` sees one tensor.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.core.validate import number
from cnnlab.layers.inception import BasicConv2d, Inception
from cnnlab.models._registry import register_model

PAPER = "Szegedy et al., CVPR 2015 (torchvision's BN variant)"

# Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj of each inception module.
MODULES: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


class GoogLeNetOutputs(NamedTuple):
    """Training-mode output with auxiliary heads (torchvision's field names and order)."""

    logits: torch.Tensor
    aux_logits2: torch.Tensor
    aux_logits1: torch.Tensor


class InceptionAux(nn.Module):
    """Auxiliary classifier: 4x4 average pool, 1x1 conv 128, FC 1024, dropout 0.7, FC.

    Shape:
        input (N, in_channels, H, W); output (N, num_classes).
    """

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7) -> None:
        super().__init__()
        self.conv = BasicConv2d(in_channels, 128, 1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.conv(F.adaptive_avg_pool2d(x, (4, 4))), 1)
        return self.fc2(self.dropout(F.relu(self.fc1(x), inplace=True)))


def _transform_input(x: torch.Tensor) -> torch.Tensor:
    # torchvision's: re-normalise ImageNet-normalised input to the (x - 0.5) / 0.5 the
    # original Google weights expect.
    mean = x.new_tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = x.new_tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return x * (std / 0.5) + (mean - 0.5) / 0.5


class GoogLeNet(nn.Module):
    """Stem (7x7/2, pool, 1x1, 3x3, pool), nine inception modules, global pool, dropout, FC.

    Args:
        num_classes: output classes.
        in_chans: input channels.
        aux_logits: build the two auxiliary classifiers (used in training mode only).
        transform_input: re-normalise ImageNet-normalised inputs as torchvision does for the
            original weights (3 input channels only).
        dropout: dropout before the classifier (0.2 in torchvision; the paper uses 0.4).

    Shape:
        input (N, in_chans, H, W) with H, W >= 15; output (N, num_classes), or
        :class:`GoogLeNetOutputs` in training mode with ``aux_logits``.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        in_chans: int = 3,
        aux_logits: bool = False,
        transform_input: bool = False,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        number("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
        if transform_input and in_chans != 3:
            raise ValueError(f"transform_input needs in_chans=3, got in_chans={in_chans}")
        self.aux_logits = aux_logits
        self.transform_input = transform_input
        self.conv1 = BasicConv2d(in_chans, 64, 7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, 1)
        self.conv3 = BasicConv2d(64, 192, 3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        channels = 192
        for name, widths in MODULES.items():
            module = Inception(channels, *widths, branch3_kernel=3)
            setattr(self, f"inception{name}", module)
            channels = module.out_channels
            if name == "3b":
                self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            elif name == "4e":
                self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.aux1 = InceptionAux(512, num_classes) if aux_logits else None
        self.aux2 = InceptionAux(528, num_classes) if aux_logits else None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.num_features = channels
        self.fc = nn.Linear(channels, num_classes)
        self.num_classes = num_classes
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        if self.transform_input:
            x = _transform_input(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux: list[torch.Tensor] = []
        if self.aux1 is not None and self.training:
            aux.append(self.aux1(x))
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        if self.aux2 is not None and self.training:
            aux.append(self.aux2(x))
        x = self.maxpool4(self.inception4e(x))
        return self.inception5b(self.inception5a(x)), aux

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, H, W) -> (N, 1024, H/32, W/32) (auxiliary heads not run)."""
        return self._features(x)[0]

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool, dropout, FC; ``pre_logits`` returns the pooled features."""
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.fc(self.dropout(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor | GoogLeNetOutputs:
        x, aux = self._features(x)
        logits = self.forward_head(x)
        if aux:
            return GoogLeNetOutputs(logits, aux[1], aux[0])
        return logits


@register_model(family="inception", paper=PAPER)
def googlenet(
    num_classes: int = 1000,
    in_chans: int = 3,
    aux_logits: bool = False,
    transform_input: bool = False,
    dropout: float = 0.2,
) -> GoogLeNet:
    """GoogLeNet / Inception v1, torchvision's layout (6.6M parameters, 1.5 GMACs)."""
    return GoogLeNet(num_classes, in_chans, aux_logits, transform_input, dropout)
