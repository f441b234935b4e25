"""ResNet: He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition" (CVPR 2016).

The notes: deeper plain networks train *worse* (higher training error, so not overfitting); a
residual block outputs y = F(x) + x, so if extra layers are not needed the residual F can be
pushed to zero and the block becomes an identity mapping. The stem is one 7x7 stride-2
convolution plus max pooling: a large kernel is affordable only at the input, where there are
3 channels, and it downsamples early (224 -> 56) while keeping the channel count at 64 (VGG-19
has 256 channels at 56x56). ResNet-50/101/152 use the 1x1-3x3-1x1 bottleneck: the 1x1 layers
shrink and restore the width so the 3x3 works on 4x fewer channels.

Layout and parameter names are torchvision's, so its ``resnet*`` weights load unchanged. Like
torchvision (the "ResNet v1.5" of Caffe2/NVIDIA), the bottleneck's stride-2 sits on its 3x3
convolution. The paper (and its released Caffe models) put it on the first 1x1 convolution;
``stride_in_1x1=True`` builds that layout: same parameters, fewer MACs (the paper's Table 1:
3.8 GFLOPs for ResNet-50 versus 4.1 G for the torchvision layout), slightly lower accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from cnnlab.core.validate import one_of, positive_int
from cnnlab.models._registry import register_model

PAPER = "He, Zhang, Ren & Sun, CVPR 2016"

AttnFactory = Callable[[int], nn.Module]


def _attn(attn_layer: AttnFactory | None, channels: int) -> nn.Module:
    # nn.Identity has no parameters, so the state dict stays torchvision's when there is no attn.
    return attn_layer(channels) if attn_layer is not None else nn.Identity()


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers plus the shortcut, then ReLU (ResNet-18/34).

    Args:
        inplanes: input channels.
        planes: output channels.
        stride: stride of the first 3x3 convolution.
        downsample: projection shortcut (1x1 conv-BN) when shape changes, else ``None``.
        groups, base_width: must be 1 and 64 (no grouped basic block, as in torchvision).
        dilation: dilation (and padding) of both 3x3 convolutions.
        stride_in_1x1: ignored (no 1x1 convolution here); accepted for a uniform signature.
        attn_layer: optional factory ``channels -> module`` applied to the residual before the
            addition (SENet's SE block).

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
        *,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        stride_in_1x1: bool = False,
        attn_layer: AttnFactory | None = None,
    ) -> None:
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError(
                f"BasicBlock supports only groups=1 and base_width=64, got {groups}, {base_width}"
            )
        self.conv1 = nn.Conv2d(
            inplanes, planes, 3, stride, padding=dilation, dilation=dilation, bias=False
        )
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.se = _attn(attn_layer, planes)
        self.downsample = downsample

    def zero_init_last(self) -> None:
        """Zero the last BN's scale: the residual starts at zero (Goyal et al. 2017)."""
        nn.init.zeros_(self.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.se(self.bn2(self.conv2(out)))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4) conv-BN layers plus the shortcut, then ReLU.

    ResNeXt and Wide ResNet are this block with a wider, grouped 3x3: its width is
    ``int(planes * base_width / 64) * groups`` (ResNet: 64 / 64 * 1 = ``planes``; ResNeXt-50
    32x4d: 4 / 64 * 32 = 2x ``planes`` in 32 groups; Wide ResNet-50-2: 128 / 64 = 2x ``planes``).

    Args:
        inplanes: input channels.
        planes: the block outputs ``4 * planes`` channels.
        stride: the block's stride, on the 3x3 conv (torchvision) or on the first 1x1 conv
            (``stride_in_1x1=True``, the paper's Caffe models).
        downsample: projection shortcut (1x1 conv-BN) when shape changes, else ``None``.
        groups: groups of the 3x3 convolution (ResNeXt's cardinality).
        base_width: width of one group per 64 ``planes`` (ResNeXt's "d").
        dilation: dilation (and padding) of the 3x3 convolution.
        stride_in_1x1: put the stride on the first 1x1 conv instead of the 3x3.
        attn_layer: optional factory ``channels -> module`` applied to the residual before the
            addition (SENet's SE block).

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
        *,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        stride_in_1x1: bool = False,
        attn_layer: AttnFactory | None = None,
    ) -> None:
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = nn.Conv2d(inplanes, width, 1, s1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(
            width, width, 3, s3, padding=dilation, dilation=dilation, groups=groups, bias=False
        )
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.se = _attn(attn_layer, planes * self.expansion)
        self.downsample = downsample

    def zero_init_last(self) -> None:
        """Zero the last BN's scale: the residual starts at zero (Goyal et al. 2017)."""
        nn.init.zeros_(self.bn3.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.se(self.bn3(self.conv3(out)))
        return self.relu(out + identity)


BLOCKS: dict[str, type[nn.Module]] = {
    "basic": BasicBlock,
    "bottleneck": Bottleneck,
}

# Table 1 of the paper: block type and blocks per stage (conv2_x ... conv5_x).
DEPTHS: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}


class ResNet(nn.Module):
    """7x7/2 stem, 3x3/2 max pool, four stages (64, 128, 256, 512 widths), global pool, FC.

    Args:
        block: ``"basic"``, ``"bottleneck"``, or a block class with the signature
            ``(inplanes, planes, stride, downsample, *, groups, base_width, dilation, **kw)`` and
            an ``expansion`` attribute (SKNet's blocks are such classes).
        layers: blocks per stage, e.g. ``(3, 4, 6, 3)``.
        num_classes: output classes.
        in_chans: input channels.
        groups: groups of every 3x3 convolution (ResNeXt's cardinality).
        width_per_group: ResNeXt's bottleneck width d (64 = plain ResNet; 128 = Wide ResNet-2).
        replace_stride_with_dilation: for stages 2-4, keep the resolution and dilate instead
            (DeepLab's output stride 8: ``(False, True, True)``).
        zero_init_residual: zero the last BN's scale in every block, so each block starts as an
            identity (Goyal et al. 2017).
        block_kwargs: passed to every block (e.g. ``stride_in_1x1``, ``attn_layer``).

    Shape:
        input (N, in_chans, H, W) with H, W >= 1; output (N, num_classes). Features are
        (N, 512 * expansion, ceil(H/32), ceil(W/32)) (less downsampling when dilated).
    """

    def __init__(
        self,
        block: str | type[nn.Module],
        layers: tuple[int, int, int, int],
        num_classes: int = 1000,
        in_chans: int = 3,
        *,
        groups: int = 1,
        width_per_group: int = 64,
        replace_stride_with_dilation: tuple[bool, bool, bool] = (False, False, False),
        zero_init_residual: bool = False,
        block_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if isinstance(block, str):
            block = BLOCKS[one_of("block", block, BLOCKS)]
        if len(layers) != 4 or any(n <= 0 for n in layers):
            raise ValueError(f"layers must be 4 positive block counts, got {layers!r}")
        if len(replace_stride_with_dilation) != 3:
            raise ValueError(
                "replace_stride_with_dilation must hold 3 booleans (stages 2-4), "
                f"got {replace_stride_with_dilation!r}"
            )
        self.block = block
        self.block_kwargs = {
            "groups": positive_int("groups", groups),
            "base_width": positive_int("width_per_group", width_per_group),
            **(block_kwargs or {}),
        }
        self.inplanes = 64
        self.dilation = 1
        self.conv1 = nn.Conv2d(in_chans, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        dilate = (False, *replace_stride_with_dilation)
        self.layer1 = self._make_layer(64, layers[0], 1, dilate[0])
        self.layer2 = self._make_layer(128, layers[1], 2, dilate[1])
        self.layer3 = self._make_layer(256, layers[2], 2, dilate[2])
        self.layer4 = self._make_layer(512, layers[3], 2, dilate[3])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.num_features = 512 * block.expansion
        self.fc = nn.Linear(self.num_features, num_classes)
        self.num_classes = num_classes
        self._init_weights(zero_init_residual)

    def _make_layer(self, planes: int, blocks: int, stride: int, dilate: bool) -> nn.Sequential:
        # As torchvision: a dilated stage keeps stride 1; its first block still uses the
        # previous dilation, the following ones the new one.
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        out = planes * self.block.expansion
        downsample = None
        if stride != 1 or self.inplanes != out:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out)
            )
        kw = self.block_kwargs
        layers = [
            self.block(self.inplanes, planes, stride, downsample, dilation=previous_dilation, **kw)
        ]
        self.inplanes = out
        layers += [self.block(out, planes, dilation=self.dilation, **kw) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def _init_weights(self, zero_init_residual: bool) -> None:
        # By type, as torchvision and timm do: every convolution, the attention blocks' included.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, self.block):
                    m.zero_init_last()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Stem and the four stages: (N, C, H, W) -> (N, 512 * expansion, H/32, W/32)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool and FC; ``pre_logits`` returns the pooled features."""
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def build_resnet(
    depth: int,
    num_classes: int = 1000,
    in_chans: int = 3,
    stride_in_1x1: bool = False,
    zero_init_residual: bool = False,
    attn_layer: AttnFactory | None = None,
    **kwargs: Any,
) -> ResNet:
    """A ResNet of the paper's ``depth`` (18, 34, 50, 101 or 152); see :class:`ResNet`.

    ``kwargs`` go to :class:`ResNet` (``groups``, ``width_per_group``,
    ``replace_stride_with_dilation``).
    """
    one_of("depth", depth, DEPTHS)
    block, layers = DEPTHS[depth]
    return ResNet(
        block,
        layers,
        num_classes,
        in_chans,
        zero_init_residual=zero_init_residual,
        block_kwargs={"stride_in_1x1": stride_in_1x1, "attn_layer": attn_layer},
        **kwargs,
    )


@register_model(family="resnet", paper=PAPER)
def resnet18(
    num_classes: int = 1000,
    in_chans: int = 3,
    stride_in_1x1: bool = False,
    zero_init_residual: bool = False,
) -> ResNet:
    """ResNet-18 (basic blocks 2-2-2-2, 11.7M parameters)."""
    return build_resnet(18, num_classes, in_chans, stride_in_1x1, zero_init_residual)


@register_model(family="resnet", paper=PAPER)
def resnet34(
    num_classes: int = 1000,
    in_chans: int = 3,
    stride_in_1x1: bool = False,
    zero_init_residual: bool = False,
) -> ResNet:
    """ResNet-34 (basic blocks 3-4-6-3, 21.8M parameters)."""
    return build_resnet(34, num_classes, in_chans, stride_in_1x1, zero_init_residual)


@register_model(family="resnet", paper=PAPER)
def resnet50(
    num_classes: int = 1000,
    in_chans: int = 3,
    stride_in_1x1: bool = False,
    zero_init_residual: bool = False,
) -> ResNet:
    """ResNet-50 (bottlenecks 3-4-6-3, 25.6M parameters)."""
    return build_resnet(50, num_classes, in_chans, stride_in_1x1, zero_init_residual)


@register_model(family="resnet", paper=PAPER)
def resnet101(
    num_classes: int = 1000,
    in_chans: int = 3,
    stride_in_1x1: bool = False,
    zero_init_residual: bool = False,
) -> ResNet:
    """ResNet-101 (bottlenecks 3-4-23-3, 44.5M parameters)."""
    return build_resnet(101, num_classes, in_chans, stride_in_1x1, zero_init_residual)


@register_model(family="resnet", paper=PAPER)
def resnet152(
    num_classes: int = 1000,
    in_chans: int = 3,
    stride_in_1x1: bool = False,
    zero_init_residual: bool = False,
) -> ResNet:
    """ResNet-152 (bottlenecks 3-8-36-3, 60.2M parameters)."""
    return build_resnet(152, num_classes, in_chans, stride_in_1x1, zero_init_residual)
