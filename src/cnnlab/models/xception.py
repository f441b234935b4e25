"""Xception: Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions" (CVPR 2017).

The notes: Xception ("extreme Inception") takes the Inception hypothesis -- cross-channel and
spatial correlations can be mapped separately -- to its end. An Inception module splits the
channels into a few groups and convolves each spatially; with as many groups as channels this
becomes a *depthwise separable* convolution: a 1-channel 3x3 filter per channel, then a 1x1
convolution that mixes the channels (MobileNet v1 borrows exactly this). Xception is 36 such
convolutions in 14 modules, all but the first and last with linear residual connections, in
three flows: entry (downsampling 299 -> 19), middle (eight identical 728-channel modules) and
exit. It has about Inception v3's parameters (22.9M against 23.6M) and is more accurate on
ImageNet because it uses them better, not because it has more.

As the paper (and Keras), the separable convolutions here have no non-linearity between the
depthwise and the pointwise step. Layout and parameter names are timm's ``legacy_xception``
(22,855,952 parameters), so its weights load unchanged. Input 299x299.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.core.validate import number
from cnnlab.models._registry import register_model

PAPER = "Chollet, CVPR 2017"


class SeparableConv2d(nn.Module):
    """Depthwise k x k convolution (``conv1``) then pointwise 1x1 (``pointwise``), no bias.

    Shape:
        input (N, in_channels, H, W); output (N, out_channels, H', W').
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, in_channels, kernel_size, stride, padding, groups=in_channels, bias=False
        )
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.conv1(x))


class Block(nn.Module):
    """``reps`` x (ReLU, separable 3x3, BN), then a 3x3/2 max pool when strided, plus shortcut.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        reps: separable convolutions in the block.
        stride: 1, or 2 for the entry and exit flows' downsampling blocks.
        start_with_relu: ``False`` for the first block (the stem ends with a ReLU).
        grow_first: change the width at the first convolution (else at the last).

    Shape:
        input (N, in_channels, H, W); output (N, out_channels, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        reps: int,
        stride: int = 1,
        start_with_relu: bool = True,
        grow_first: bool = True,
    ) -> None:
        super().__init__()
        if out_channels != in_channels or stride != 1:
            self.skip = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
            self.skipbn = nn.BatchNorm2d(out_channels)
        else:
            self.skip = None
        layers: list[nn.Module] = []
        for i in range(reps):
            if grow_first:
                cin, cout = (in_channels if i == 0 else out_channels), out_channels
            else:
                cin, cout = in_channels, (in_channels if i < reps - 1 else out_channels)
            # The block's input is also the shortcut's, so its first ReLU must not be in place.
            layers.append(nn.ReLU(inplace=i > 0))
            layers.append(SeparableConv2d(cin, cout, 3, 1, 1))
            layers.append(nn.BatchNorm2d(cout))
        if not start_with_relu:
            layers = layers[1:]
        if stride != 1:
            layers.append(nn.MaxPool2d(3, stride, 1))
        self.rep = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.skip is None else self.skipbn(self.skip(x))
        return self.rep(x) + shortcut


class Xception(nn.Module):
    """Entry flow (2 convs, 3 blocks), middle flow (8 blocks), exit flow (block, 2 separable).

    Args:
        num_classes: output classes.
        in_chans: input channels.
        dropout: dropout before the classifier (0, as timm).

    Shape:
        input (N, in_chans, H, W) with H, W >= 29 (299 in the paper); output (N, num_classes).
    """

    def __init__(self, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.0) -> None:
        super().__init__()
        number("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
        self.conv1 = nn.Conv2d(in_chans, 32, 3, 2, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(32, 64, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.act2 = nn.ReLU(inplace=True)
        # Entry flow.
        self.block1 = Block(64, 128, 2, 2, start_with_relu=False)
        self.block2 = Block(128, 256, 2, 2)
        self.block3 = Block(256, 728, 2, 2)
        # Middle flow: eight identical modules.
        for i in range(4, 12):
            setattr(self, f"block{i}", Block(728, 728, 3, 1))
        # Exit flow.
        self.block12 = Block(728, 1024, 2, 2, grow_first=False)
        self.conv3 = SeparableConv2d(1024, 1536, 3, 1, 1)
        self.bn3 = nn.BatchNorm2d(1536)
        self.act3 = nn.ReLU(inplace=True)
        self.conv4 = SeparableConv2d(1536, 2048, 3, 1, 1)
        self.bn4 = nn.BatchNorm2d(2048)
        self.act4 = nn.ReLU(inplace=True)
        self.num_features = 2048
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2048, num_classes)
        self.num_classes = num_classes
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, 299, 299) -> (N, 2048, 10, 10)."""
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.act2(self.bn2(self.conv2(x)))
        for i in range(1, 13):
            x = getattr(self, f"block{i}")(x)
        x = self.act3(self.bn3(self.conv3(x)))
        return self.act4(self.bn4(self.conv4(x)))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool, dropout, FC; ``pre_logits`` returns the pooled features."""
        x = torch.flatten(self.global_pool(x), 1)
        return x if pre_logits else self.fc(self.dropout(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(family="xception", default_input_size=(3, 299, 299), paper=PAPER)
def xception(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.0) -> Xception:
    """Xception, timm's ``legacy_xception`` layout (22.9M parameters)."""
    return Xception(num_classes, in_chans, dropout)
