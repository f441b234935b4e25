"""SE-ResNet: Hu, Shen & Sun, "Squeeze-and-Excitation Networks" (CVPR 2018).

The notes: SENet models the relations between channels explicitly. Instead of a new spatial
mechanism it *recalibrates* features: each block learns, from globally pooled information, how
important every channel is, then strengthens the useful channels and suppresses the rest. The
SE block (:class:`cnnlab.layers.SqueezeExcite`, reduction r = 16) scales the residual branch of
every ResNet block just before the shortcut is added (the paper's Fig. 3). It costs little: for
ResNet-50 it adds 2/r * sum(N_s * C_s^2) ~ 2.5M parameters (25.6M -> 28.1M) and under 1% MACs.

These are :mod:`cnnlab.models.resnet` networks with the SE block plugged in; everything else
(torchvision's layout, ``stride_in_1x1`` for the Caffe layout the paper's models used) is shared.
"""

from __future__ import annotations

from functools import partial

from cnnlab.layers import SqueezeExcite
from cnnlab.models._registry import register_model
from cnnlab.models.resnet import ResNet, build_resnet

PAPER = "Hu, Shen & Sun, CVPR 2018"


def build_se_resnet(
    depth: int,
    num_classes: int = 1000,
    in_chans: int = 3,
    reduction: int = 16,
    stride_in_1x1: bool = False,
) -> ResNet:
    """SE-ResNet of ``depth`` (18, 34, 50, 101, 152) with SE reduction ratio ``reduction``."""
    if isinstance(reduction, bool) or not isinstance(reduction, int) or reduction <= 0:
        raise ValueError(f"reduction must be a positive integer, got {reduction!r}")
    se = partial(SqueezeExcite, reduction=reduction)
    return build_resnet(depth, num_classes, in_chans, stride_in_1x1=stride_in_1x1, attn_layer=se)


@register_model(family="senet", paper=PAPER)
def se_resnet18(
    num_classes: int = 1000, in_chans: int = 3, reduction: int = 16, stride_in_1x1: bool = False
) -> ResNet:
    """SE-ResNet-18."""
    return build_se_resnet(18, num_classes, in_chans, reduction, stride_in_1x1)


@register_model(family="senet", paper=PAPER)
def se_resnet34(
    num_classes: int = 1000, in_chans: int = 3, reduction: int = 16, stride_in_1x1: bool = False
) -> ResNet:
    """SE-ResNet-34."""
    return build_se_resnet(34, num_classes, in_chans, reduction, stride_in_1x1)


@register_model(family="senet", paper=PAPER)
def se_resnet50(
    num_classes: int = 1000, in_chans: int = 3, reduction: int = 16, stride_in_1x1: bool = False
) -> ResNet:
    """SE-ResNet-50 (28.1M parameters)."""
    return build_se_resnet(50, num_classes, in_chans, reduction, stride_in_1x1)


@register_model(family="senet", paper=PAPER)
def se_resnet101(
    num_classes: int = 1000, in_chans: int = 3, reduction: int = 16, stride_in_1x1: bool = False
) -> ResNet:
    """SE-ResNet-101 (49.3M parameters)."""
    return build_se_resnet(101, num_classes, in_chans, reduction, stride_in_1x1)


@register_model(family="senet", paper=PAPER)
def se_resnet152(
    num_classes: int = 1000, in_chans: int = 3, reduction: int = 16, stride_in_1x1: bool = False
) -> ResNet:
    """SE-ResNet-152 (66.8M parameters)."""
    return build_se_resnet(152, num_classes, in_chans, reduction, stride_in_1x1)
