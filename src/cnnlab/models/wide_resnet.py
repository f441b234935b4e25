"""Wide ResNet: Zagoruyko & Komodakis, "Wide Residual Networks" (BMVC 2016).

Depth is not the only way to grow a ResNet: widening the residual blocks trains faster and, at
equal parameters, is often as accurate as going deeper (the paper's WRN-40-4 matches ResNet-1001
on CIFAR). For ImageNet the paper widens the bottleneck: WRN-50-2 doubles the width of the inner
1x1-3x3-1x1 layers (128 ... 1024 instead of 64 ... 512) and keeps the block outputs, which gives
68.9M parameters and 11.4 GMACs against ResNet-50's 25.6M / 4.1G.

These are :class:`cnnlab.models.resnet.ResNet` with ``width_per_group=128`` (the bottleneck
width formula ``planes * width_per_group / 64``); parameter names are torchvision's, so its
``wide_resnet*`` weights load unchanged.
"""

from __future__ import annotations

from cnnlab.models._registry import register_model
from cnnlab.models.resnet import ResNet, build_resnet

PAPER = "Zagoruyko & Komodakis, BMVC 2016"


@register_model(family="wide_resnet", paper=PAPER)
def wide_resnet50_2(
    num_classes: int = 1000, in_chans: int = 3, zero_init_residual: bool = False
) -> ResNet:
    """Wide ResNet-50-2: ResNet-50 with bottlenecks twice as wide (68.9M parameters)."""
    return build_resnet(
        50, num_classes, in_chans, zero_init_residual=zero_init_residual, width_per_group=128
    )


@register_model(family="wide_resnet", paper=PAPER)
def wide_resnet101_2(
    num_classes: int = 1000, in_chans: int = 3, zero_init_residual: bool = False
) -> ResNet:
    """Wide ResNet-101-2: ResNet-101 with bottlenecks twice as wide (126.9M parameters)."""
    return build_resnet(
        101, num_classes, in_chans, zero_init_residual=zero_init_residual, width_per_group=128
    )
