"""ResNet v2: He, Zhang, Ren & Sun, "Identity Mappings in Deep Residual Networks" (ECCV 2016).

What pre-activation changes: ResNet v1 computes y = ReLU(BN(F(x)) + x), so the shortcut's signal
passes a ReLU after every block and is not a pure identity. v2 moves BN and ReLU *before* each
convolution ("pre-activation") and adds nothing after the sum: x_{l+1} = x_l + F(x_l). The signal
and its gradient then flow unchanged from any block to any later one,
x_L = x_l + sum_{i=l}^{L-1} F(x_i), which made 1001-layer networks trainable. With the residual
branch zeroed, a v2 block is exactly the identity; a v1 block is ReLU.

Following the authors' ImageNet code (fb.resnet.torch ``preresnet.lua``): the stem is
conv7x7/2-BN-ReLU-maxpool, so the first block of stage 1 skips its own pre-activation; a block
whose shortcut is a projection (first block of stages 2-4) feeds the pre-activated input to both
branches; a final BN-ReLU precedes global pooling. Bottleneck strides sit on the 3x3 conv.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.models._registry import register_model
from cnnlab.models.resnet import DEPTHS

PAPER = "He, Zhang, Ren & Sun, ECCV 2016 (Identity Mappings in Deep Residual Networks)"


class PreActBasicBlock(nn.Module):
    """BN-ReLU-conv3x3, BN-ReLU-conv3x3, plus the shortcut; nothing after the addition.

    Args:
        inplanes: input channels.
        planes: output channels.
        stride: stride of the first convolution.
        downsample: 1x1 projection (no BN) applied to the pre-activated input, or ``None``.
        preact: apply BN-ReLU to the input (``False`` right after the stem, which did it).

    Shape:
        input (N, inplanes, H, W); output (N, planes, ceil(H / stride), ceil(W / stride)).
    """

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        preact: bool = True,
    ) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes) if preact else nn.Identity()
        self.relu = nn.ReLU(inplace=False) if preact else nn.Identity()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu(self.bn1(x))
        shortcut = x if self.downsample is None else self.downsample(pre)
        out = self.conv1(pre)
        out = self.conv2(torch.relu(self.bn2(out)))
        return out + shortcut


class PreActBottleneck(nn.Module):
    """BN-ReLU-conv1x1, BN-ReLU-conv3x3 (stride), BN-ReLU-conv1x1 (x4), plus the shortcut.

    Args:
        inplanes: input channels.
        planes: width of the 3x3 conv; the block outputs ``4 * planes`` channels.
        stride: stride of the 3x3 convolution.
        downsample: 1x1 projection (no BN) applied to the pre-activated input, or ``None``.
        preact: apply BN-ReLU to the input (``False`` right after the stem, which did it).

    Shape:
        input (N, inplanes, H, W); output (N, 4 * planes, ceil(H / stride), ceil(W / stride)).
    """

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        preact: bool = True,
    ) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes) if preact else nn.Identity()
        self.relu = nn.ReLU(inplace=False) if preact else nn.Identity()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu(self.bn1(x))
        shortcut = x if self.downsample is None else self.downsample(pre)
        out = self.conv1(pre)
        out = self.conv2(torch.relu(self.bn2(out)))
        out = self.conv3(torch.relu(self.bn3(out)))
        return out + shortcut


BLOCKS: dict[str, type[PreActBasicBlock] | type[PreActBottleneck]] = {
    "basic": PreActBasicBlock,
    "bottleneck": PreActBottleneck,
}


class ResNetV2(nn.Module):
    """Pre-activation ResNet: conv-BN-ReLU-maxpool stem, four pre-activation stages, BN-ReLU,
    global pool, FC.

    Args:
        block: ``"basic"`` or ``"bottleneck"``.
        layers: blocks per stage, e.g. ``(3, 4, 6, 3)``.
        num_classes: output classes.
        in_chans: input channels.

    Shape:
        input (N, in_chans, H, W); output (N, num_classes). Features are
        (N, 512 * expansion, ceil(H/32), ceil(W/32)), already BN-ReLU'd.
    """

    def __init__(
        self,
        block: str,
        layers: tuple[int, int, int, int],
        num_classes: int = 1000,
        in_chans: int = 3,
    ) -> None:
        super().__init__()
        if block not in BLOCKS:
            raise ValueError(f"block must be one of {sorted(BLOCKS)}, got {block!r}")
        self.block = BLOCKS[block]
        self.inplanes = 64
        self.conv1 = nn.Conv2d(in_chans, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, layers[0], stride=1, first=True)
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=2)
        self.num_features = 512 * self.block.expansion
        self.norm = nn.BatchNorm2d(self.num_features)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.num_features, num_classes)
        self.num_classes = num_classes
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(
        self, planes: int, blocks: int, stride: int, first: bool = False
    ) -> nn.Sequential:
        out = planes * self.block.expansion
        downsample = None
        if stride != 1 or self.inplanes != out:
            downsample = nn.Conv2d(self.inplanes, out, 1, stride=stride, bias=False)
        layers = [self.block(self.inplanes, planes, stride, downsample, preact=not first)]
        self.inplanes = out
        layers += [self.block(out, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Stem, four stages, final BN-ReLU: (N, C, H, W) -> (N, 512 * expansion, H/32, W/32)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.relu(self.norm(x))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool and FC; ``pre_logits`` returns the pooled features."""
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def build_resnetv2(depth: int, num_classes: int = 1000, in_chans: int = 3) -> ResNetV2:
    """A pre-activation ResNet of ``depth`` (18, 34, 50, 101 or 152)."""
    if depth not in DEPTHS:
        raise ValueError(f"depth must be one of {sorted(DEPTHS)}, got {depth!r}")
    block, layers = DEPTHS[depth]
    return ResNetV2(block, layers, num_classes, in_chans)


@register_model(family="resnetv2", paper=PAPER)
def resnetv2_18(num_classes: int = 1000, in_chans: int = 3) -> ResNetV2:
    """Pre-activation ResNet-18."""
    return build_resnetv2(18, num_classes, in_chans)


@register_model(family="resnetv2", paper=PAPER)
def resnetv2_34(num_classes: int = 1000, in_chans: int = 3) -> ResNetV2:
    """Pre-activation ResNet-34."""
    return build_resnetv2(34, num_classes, in_chans)


@register_model(family="resnetv2", paper=PAPER)
def resnetv2_50(num_classes: int = 1000, in_chans: int = 3) -> ResNetV2:
    """Pre-activation ResNet-50."""
    return build_resnetv2(50, num_classes, in_chans)


@register_model(family="resnetv2", paper=PAPER)
def resnetv2_101(num_classes: int = 1000, in_chans: int = 3) -> ResNetV2:
    """Pre-activation ResNet-101."""
    return build_resnetv2(101, num_classes, in_chans)


@register_model(family="resnetv2", paper=PAPER)
def resnetv2_152(num_classes: int = 1000, in_chans: int = 3) -> ResNetV2:
    """Pre-activation ResNet-152."""
    return build_resnetv2(152, num_classes, in_chans)
