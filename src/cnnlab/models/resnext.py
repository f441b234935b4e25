"""ResNeXt: Xie, Girshick, Dollar, Tu & He, "Aggregated Residual Transformations for Deep Neural
Networks" (CVPR 2017).

The notes' question, "what does ResNeXt add to ResNet?": a third dimension besides depth and
width, *cardinality*, the number of parallel paths in a block. A ResNeXt bottleneck sums C = 32
identical small transformations (1x1 256 -> 4, 3x3 4 -> 4, 1x1 4 -> 256) of the same input, the
split-transform-merge idea of Inception without Inception's hand-tuned branches. The paper shows
three equivalent forms of the block (Fig. 3): (a) 32 separate paths summed; (b) the 32 4-channel
intermediate maps concatenated and merged by one 1x1 128 -> 256 convolution; (c) one *grouped*
3x3 convolution with 32 groups between two dense 1x1 convolutions. Form (c) is the fast one and
the one built here (``tests/models/test_resnext_inception.py`` checks that (a) with copied
weights gives the same output). ResNeXt-50 32x4d has about the parameters and MACs of ResNet-50
(25.0M / 4.2G against 25.6M / 4.1G; Table 1) and is more accurate.

These are :class:`cnnlab.models.resnet.ResNet` with ``groups`` (the cardinality C) and
``width_per_group`` (the width d of one path); parameter names are torchvision's, so its
``resnext*`` weights load unchanged. The stride sits on the 3x3 convolution, as in the paper's
code.
"""

from __future__ import annotations

from cnnlab.models._registry import register_model
from cnnlab.models.resnet import ResNet, build_resnet

PAPER = "Xie, Girshick, Dollar, Tu & He, CVPR 2017"


@register_model(family="resnext", paper=PAPER)
def resnext50_32x4d(
    num_classes: int = 1000, in_chans: int = 3, zero_init_residual: bool = False
) -> ResNet:
    """ResNeXt-50 (32x4d): 32 paths of width 4 (25.0M parameters, 4.2 GMACs)."""
    kw = {"groups": 32, "width_per_group": 4}
    return build_resnet(50, num_classes, in_chans, zero_init_residual=zero_init_residual, **kw)


@register_model(family="resnext", paper=PAPER)
def resnext101_32x8d(
    num_classes: int = 1000, in_chans: int = 3, zero_init_residual: bool = False
) -> ResNet:
    """ResNeXt-101 (32x8d): 32 paths of width 8 (88.8M parameters)."""
    kw = {"groups": 32, "width_per_group": 8}
    return build_resnet(101, num_classes, in_chans, zero_init_residual=zero_init_residual, **kw)


@register_model(family="resnext", paper=PAPER)
def resnext101_64x4d(
    num_classes: int = 1000, in_chans: int = 3, zero_init_residual: bool = False
) -> ResNet:
    """ResNeXt-101 (64x4d): 64 paths of width 4 (83.5M parameters)."""
    kw = {"groups": 64, "width_per_group": 4}
    return build_resnet(101, num_classes, in_chans, zero_init_residual=zero_init_residual, **kw)
