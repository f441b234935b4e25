"""SKNet: Li, Wang, Hu & Yang, "Selective Kernel Networks" (CVPR 2019).

What SK changes: the 3x3 convolution of a ResNet/ResNeXt block becomes a selective kernel
convolution (:class:`cnnlab.layers.SelectiveKernel`): a 3x3 and a dilated 3x3 (a 5x5 field)
branch, mixed per channel by softmax attention computed from the input, so each neuron chooses
its receptive field size. SKNet-50 (the paper's SK-ResNeXt-50, 32 groups, r = 16, L = 32) has
27.5M parameters and 4.47 GFLOPs (Table 2) against ResNeXt-50's 25.0M / 4.24G.

Layout and parameter names are timm's ``skresnet18``, ``skresnet34`` and ``skresnext50_32x4d``,
so their weights load unchanged: the ResNet stem, stages, shortcuts and head of
:class:`cnnlab.models.resnet.ResNet`, with SK blocks. timm's SK-ResNet-18/34 (not in the paper)
split the input channels between the two branches to keep the parameters down.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cnnlab.layers.conv_norm_act import ConvBnAct
from cnnlab.layers.selective_kernel import SelectiveKernel
from cnnlab.models._registry import register_model
from cnnlab.models.resnet import ResNet

PAPER = "Li, Wang, Hu & Yang, CVPR 2019"


class SelectiveKernelBasic(nn.Module):
    """SK conv 3x3 (with stride), conv-BN 3x3, plus the shortcut, then ReLU.

    Shape:
        input (N, inplanes, H, W); output (N, planes, H / stride, W / stride).
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
        sk_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError(
                f"SelectiveKernelBasic supports only groups=1, base_width=64, got "
                f"{groups}, {base_width}"
            )
        self.conv1 = SelectiveKernel(
            inplanes, planes, stride=stride, dilation=dilation, **(sk_kwargs or {})
        )
        self.conv2 = ConvBnAct(planes, planes, 3, dilation=dilation, act=None)
        self.act = nn.ReLU(inplace=True)
        self.downsample = downsample

    def zero_init_last(self) -> None:
        """Zero the last BN's scale: the residual starts at zero."""
        nn.init.zeros_(self.conv2.bn.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.act(self.conv2(self.conv1(x)) + shortcut)


class SelectiveKernelBottleneck(nn.Module):
    """1x1 conv-BN-ReLU, SK conv 3x3 (grouped, with stride), 1x1 conv-BN, shortcut, ReLU.

    Shape:
        input (N, inplanes, H, W); output (N, 4 * planes, H / stride, W / stride).
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
        sk_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        width = int(planes * base_width / 64) * groups
        self.conv1 = ConvBnAct(inplanes, width, 1)
        self.conv2 = SelectiveKernel(
            width, width, stride=stride, dilation=dilation, groups=groups, **(sk_kwargs or {})
        )
        self.conv3 = ConvBnAct(width, planes * self.expansion, 1, act=None)
        self.act = nn.ReLU(inplace=True)
        self.downsample = downsample

    def zero_init_last(self) -> None:
        """Zero the last BN's scale: the residual starts at zero."""
        nn.init.zeros_(self.conv3.bn.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.act(self.conv3(self.conv2(self.conv1(x))) + shortcut)


# timm's settings: SK-ResNet-18/34 split the input, r = 1/8, d rounded to 16; SK-ResNeXt-50 is
# the paper's (no split, r = 1/16, d >= L = 32).
SK_BASIC = {"rd_ratio": 1 / 8, "rd_divisor": 16, "split_input": True}
SK_NEXT = {"rd_ratio": 1 / 16, "rd_divisor": 32, "split_input": False}


@register_model(family="sknet", paper=PAPER)
def skresnet18(
    num_classes: int = 1000, in_chans: int = 3, zero_init_residual: bool = False
) -> ResNet:
    """SK-ResNet-18, timm's layout (11.96M parameters)."""
    return ResNet(
        SelectiveKernelBasic,
        (2, 2, 2, 2),
        num_classes,
        in_chans,
        zero_init_residual=zero_init_residual,
        block_kwargs={"sk_kwargs": SK_BASIC},
    )


@register_model(family="sknet", paper=PAPER)
def skresnet34(
    num_classes: int = 1000, in_chans: int = 3, zero_init_residual: bool = False
) -> ResNet:
    """SK-ResNet-34, timm's layout (22.28M parameters)."""
    return ResNet(
        SelectiveKernelBasic,
        (3, 4, 6, 3),
        num_classes,
        in_chans,
        zero_init_residual=zero_init_residual,
        block_kwargs={"sk_kwargs": SK_BASIC},
    )


@register_model(family="sknet", paper=PAPER)
def skresnext50_32x4d(
    num_classes: int = 1000, in_chans: int = 3, zero_init_residual: bool = False
) -> ResNet:
    """SKNet-50 (SK-ResNeXt-50 32x4d), the paper's model, timm's layout (27.5M parameters)."""
    return ResNet(
        SelectiveKernelBottleneck,
        (3, 4, 6, 3),
        num_classes,
        in_chans,
        groups=32,
        width_per_group=4,
        zero_init_residual=zero_init_residual,
        block_kwargs={"sk_kwargs": SK_NEXT},
    )
