"""ShuffleNet v2: Ma, Zhang, Zheng & Sun, "ShuffleNet V2: Practical Guidelines for Efficient CNN
Architecture Design" (ECCV 2018).

v2 starts from measured speed rather than FLOPs and states four guidelines: equal input and
output widths minimise memory access, group convolutions cost memory access, fragmented
branches hurt parallelism, and element-wise operations are not free. Its unit therefore drops
group convolutions: a *channel split* sends half of the channels through unchanged and half
through 1x1 - 3x3 depthwise - 1x1 (equal widths), the halves are concatenated (no addition),
and a channel shuffle with 2 groups mixes them for the next unit. A stride-2 unit feeds the
whole input to both branches, doubling the width. 0.5x/1x/1.5x/2x cost 41/146/299/591M FLOPs
(Table 5).

Layout and parameter names are torchvision's (``conv1``, ``stage2``..``stage4`` of units with
``branch1``/``branch2``, ``conv5``, ``fc``), so its ``shufflenet_v2_*`` weights load unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.layers import ConvNormAct, channel_shuffle
from cnnlab.models._registry import register_model

PAPER = "Ma, Zhang, Zheng & Sun, ECCV 2018"

REPEATS = (4, 8, 4)
# Table 5: output channels of conv1, stages 2-4 and conv5 for each width.
WIDTHS: dict[str, tuple[int, int, int, int, int]] = {
    "0.5": (24, 48, 96, 192, 1024),
    "1.0": (24, 116, 232, 464, 1024),
    "1.5": (24, 176, 352, 704, 1024),
    "2.0": (24, 244, 488, 976, 2048),
}


class InvertedResidual(nn.Module):
    """The ShuffleNet v2 unit (torchvision's name for it).

    Stride 1: split the channels in two, pass one half through, transform the other with
    1x1 conv-BN-ReLU, 3x3 depthwise conv-BN, 1x1 conv-BN-ReLU, concatenate, shuffle (g=2).
    Stride 2: ``branch1`` (3x3/2 depthwise conv-BN, 1x1 conv-BN-ReLU) and ``branch2`` both see
    the whole input; concatenate and shuffle.

    Args:
        inp: input channels.
        oup: output channels (even; at stride 1 equal to ``inp``).
        stride: 1 or 2.

    Shape:
        input (N, inp, H, W); output (N, oup, ceil(H/stride), ceil(W/stride)).
    """

    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        half = oup // 2
        if stride == 1 and inp != 2 * half:
            raise ValueError(f"a stride-1 unit needs inp == oup (even), got {inp} -> {oup}")
        self.stride = stride
        if stride > 1:
            self.branch1 = nn.Sequential(
                *ConvNormAct(inp, inp, 3, stride, groups=inp, act=None),
                *ConvNormAct(inp, half, 1),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            *ConvNormAct(inp if stride > 1 else half, half, 1),
            *ConvNormAct(half, half, 3, stride, groups=half, act=None),
            *ConvNormAct(half, half, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """Conv 3x3/2, max pool 3x3/2, three stages of units (4, 8, 4), conv 1x1, pool, FC.

    Args:
        width: ``"0.5"``, ``"1.0"``, ``"1.5"`` or ``"2.0"`` (Table 5's widths).
        num_classes: output classes.
        in_chans: input channels.

    Shape:
        input (N, in_chans, H, W); output (N, num_classes).
    """

    def __init__(self, width: str = "1.0", num_classes: int = 1000, in_chans: int = 3) -> None:
        super().__init__()
        if width not in WIDTHS:
            raise ValueError(f"width must be one of {sorted(WIDTHS)}, got {width!r}")
        c = WIDTHS[width]
        self.conv1 = ConvNormAct(in_chans, c[0], 3, stride=2)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        channels = c[0]
        stages = []
        for repeats, out in zip(REPEATS, c[1:4], strict=True):
            units = [InvertedResidual(channels, out, 2)]
            units += [InvertedResidual(out, out, 1) for _ in range(repeats - 1)]
            stages.append(nn.Sequential(*units))
            channels = out
        self.stage2, self.stage3, self.stage4 = stages
        self.conv5 = ConvNormAct(channels, c[4], 1)
        self.num_features = c[4]
        self.fc = nn.Linear(c[4], num_classes)
        self.num_classes = num_classes

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, H, W) -> (N, conv5 channels, H/32, W/32)."""
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(x)))
        return self.conv5(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool and FC; ``pre_logits`` returns the pooled features."""
        x = x.mean([2, 3])
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(family="shufflenet_v2", paper=PAPER)
def shufflenet_v2_x0_5(num_classes: int = 1000, in_chans: int = 3) -> ShuffleNetV2:
    """ShuffleNet v2 0.5x (41M FLOPs, 1.4M parameters)."""
    return ShuffleNetV2("0.5", num_classes, in_chans)


@register_model(family="shufflenet_v2", paper=PAPER)
def shufflenet_v2_x1_0(num_classes: int = 1000, in_chans: int = 3) -> ShuffleNetV2:
    """ShuffleNet v2 1x (146M FLOPs, 2.3M parameters)."""
    return ShuffleNetV2("1.0", num_classes, in_chans)


@register_model(family="shufflenet_v2", paper=PAPER)
def shufflenet_v2_x1_5(num_classes: int = 1000, in_chans: int = 3) -> ShuffleNetV2:
    """ShuffleNet v2 1.5x (299M FLOPs, 3.5M parameters)."""
    return ShuffleNetV2("1.5", num_classes, in_chans)


@register_model(family="shufflenet_v2", paper=PAPER)
def shufflenet_v2_x2_0(num_classes: int = 1000, in_chans: int = 3) -> ShuffleNetV2:
    """ShuffleNet v2 2x (591M FLOPs, 7.4M parameters)."""
    return ShuffleNetV2("2.0", num_classes, in_chans)
