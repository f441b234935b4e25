"""ShuffleNet v1: Zhang, Zhou, Lin & Sun, "ShuffleNet: An Extremely Efficient Convolutional Neural
Network for Mobile Devices" (CVPR 2018).

In a bottleneck with depthwise 3x3 convolutions the dense 1x1 convolutions take most of the
cost, so ShuffleNet makes them *group* convolutions (g groups: g times cheaper). Stacked group
convolutions would keep every group's channels apart, so after the first one a channel shuffle
(:func:`cnnlab.layers.channel_shuffle`: reshape to (g, C/g), transpose, flatten) hands each group
of the next layer channels from every group of the previous one. A stride-2 unit concatenates
the branch with a 3x3 average-pooled shortcut instead of adding, doubling the width for free.

Widths are the paper's Table 1 (1x: 144/288/576 channels for g=1 ... 384/768/1536 for g=8, about
140M mult-adds each). The scaled networks ("0.5x", "0.25x") multiply every width by
``width_mult``, rounded to a multiple of 4g (so the bottleneck, a quarter of the output,
splits into g groups); the 24-channel stem is scaled too, but kept at >= 12 channels and rounded
to a multiple of g. That reproduces Table 2's 38M (0.5x) and 13M (0.25x) mult-adds for g=3 and
Megvii's released 0.5x models (12 stem channels for g=3, 16 for g=8). As in the paper, the first
1x1 convolution of stage 2 is not grouped (its input has only 24 channels).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.layers import ChannelShuffle, ConvNormAct
from cnnlab.models._registry import register_model

PAPER = "Zhang, Zhou, Lin & Sun, CVPR 2018"

# Table 1: output channels of stage 2 for each group count (stages 3, 4 double it each time).
STAGE2_CHANNELS: dict[int, int] = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}
REPEATS = (4, 8, 4)


def _round_to(value: float, multiple: int) -> int:
    """``value`` rounded half-up to a positive multiple of ``multiple``."""
    return max(multiple, int(value / multiple + 0.5) * multiple)


class ShuffleUnit(nn.Module):
    """1x1 group conv-BN-ReLU, channel shuffle, 3x3 depthwise conv-BN, 1x1 group conv-BN, merged
    with the shortcut (add at stride 1, concat with 3x3 avg-pool at stride 2), then ReLU.

    Args:
        in_channels: input channels.
        out_channels: output channels (at stride 2 the branch makes ``out - in`` of them).
        groups: g, the groups of both 1x1 convolutions.
        stride: 1 or 2.
        group_first: group the first 1x1 conv (``False`` for the first unit of stage 2).

    Shape:
        input (N, in_channels, H, W); output (N, out_channels, ceil(H/stride), ceil(W/stride)).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        groups: int,
        stride: int,
        group_first: bool = True,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        if stride == 1 and in_channels != out_channels:
            raise ValueError(
                f"a stride-1 unit needs in == out, got {in_channels} -> {out_channels}"
            )
        branch = out_channels - in_channels if stride == 2 else out_channels
        mid = out_channels // 4
        self.stride = stride
        self.conv1 = ConvNormAct(in_channels, mid, 1, groups=groups if group_first else 1)
        self.shuffle = ChannelShuffle(groups)
        self.dwconv = ConvNormAct(mid, mid, 3, stride, groups=mid, act=None)
        self.conv2 = ConvNormAct(mid, branch, 1, groups=groups, act=None)
        self.shortcut = nn.AvgPool2d(3, stride=2, padding=1) if stride == 2 else nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.dwconv(self.shuffle(self.conv1(x))))
        if self.stride == 2:
            return self.relu(torch.cat([self.shortcut(x), out], dim=1))
        return self.relu(out + x)


class ShuffleNetV1(nn.Module):
    """Conv 3x3/2 (24), max pool 3x3/2, three stages of shuffle units (4, 8, 4), pool, FC.

    Args:
        num_classes: output classes.
        in_chans: input channels.
        groups: g in {1, 2, 3, 4, 8} (Table 1).
        width_mult: the scale factor s of "ShuffleNet s x" (1, 0.5, 0.25 in Table 2).

    Shape:
        input (N, in_chans, H, W); output (N, num_classes).
    """

    def __init__(
        self, num_classes: int = 1000, in_chans: int = 3, groups: int = 3, width_mult: float = 1.0
    ) -> None:
        super().__init__()
        if groups not in STAGE2_CHANNELS:
            raise ValueError(f"groups must be one of {sorted(STAGE2_CHANNELS)}, got {groups!r}")
        if isinstance(width_mult, bool) or not width_mult > 0:
            raise ValueError(f"width_mult must be a positive number, got {width_mult!r}")
        stem = _round_to(max(24 * width_mult, 12), groups)
        self.conv1 = ConvNormAct(in_chans, stem, 3, stride=2)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        channels = stem
        stages: list[nn.Sequential] = []
        for i, repeats in enumerate(REPEATS):
            out = _round_to(STAGE2_CHANNELS[groups] * 2**i * width_mult, 4 * groups)
            units = [ShuffleUnit(channels, out, groups, 2, group_first=i > 0)]
            units += [ShuffleUnit(out, out, groups, 1) for _ in range(repeats - 1)]
            stages.append(nn.Sequential(*units))
            channels = out
        self.stage2, self.stage3, self.stage4 = stages
        self.num_features = channels
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        self.num_classes = num_classes

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, H, W) -> (N, stage-4 channels, H/32, W/32)."""
        x = self.maxpool(self.conv1(x))
        return self.stage4(self.stage3(self.stage2(x)))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool and FC; ``pre_logits`` returns the pooled features."""
        x = torch.flatten(self.pool(x), 1)
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(family="shufflenet_v1", paper=PAPER)
def shufflenet_v1(
    num_classes: int = 1000, in_chans: int = 3, groups: int = 3, width_mult: float = 1.0
) -> ShuffleNetV1:
    """ShuffleNet v1 ``width_mult`` x with ``groups`` groups (1x, g=3: 137M MACs at 224)."""
    return ShuffleNetV1(num_classes, in_chans, groups=groups, width_mult=width_mult)
