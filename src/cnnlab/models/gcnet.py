"""GCNet: Cao, Xu, Lin, Wei & Hu, "GCNet: Non-local Networks Meet Squeeze-Excitation Networks
and Beyond" (ICCV Workshops 2019).

What GC changes: a ResNet-50 whose bottlenecks in stages c3-c5 (``layer2``-``layer4``) get a
global context block (:class:`cnnlab.layers.GlobalContext`, ratio 1/16) after their last 1x1
convolution and its BN, before the shortcut is added (the position the paper's ablation
settles on). The block models long-range dependencies like a non-local block at the cost of an
SE block: 28.08M parameters against ResNet-50's 25.56M (the paper's ablation, ratio 1/16 on
c3-c5).

No reference weights: parameter names are the ResNet-50 ones (torchvision's) plus ``se.*`` for
the context blocks, so torchvision's ResNet-50 weights fill everything but the blocks, which
start as identities.
"""

from __future__ import annotations

from cnnlab.layers.global_context import GlobalContext
from cnnlab.models._registry import register_model
from cnnlab.models.resnet import ResNet, build_resnet

PAPER = "Cao, Xu, Lin, Wei & Hu, ICCV Workshops 2019"


@register_model(family="gcnet", paper=PAPER)
def gc_resnet50(
    num_classes: int = 1000,
    in_chans: int = 3,
    ratio: float = 1.0 / 16,
    zero_init_residual: bool = False,
) -> ResNet:
    """GC-ResNet-50: global context blocks (ratio 1/16) in stages c3-c5 (28.08M parameters)."""
    model = build_resnet(50, num_classes, in_chans, zero_init_residual=zero_init_residual)
    for stage in (model.layer2, model.layer3, model.layer4):
        for block in stage:
            # Built after ResNet's initialisation, so each block keeps its own (last conv zero).
            block.se = GlobalContext(block.conv3.out_channels, ratio)
    return model
