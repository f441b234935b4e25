"""A small VGG-style CNN for tiny images such as the 8x8 handwritten digits.

Two stages of two 3x3 conv-BN-ReLU layers, each stage closed by 2x2 max pooling (the notes'
"local connectivity, weight sharing, pooling, hierarchy"), then global average pooling, dropout
and a linear classifier. Global pooling makes the head independent of the input size, so the
same network takes 8x8 digits, 28x28 MNIST or 32x32 CIFAR-10 images. Stacking 3x3 convolutions
follows Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition" (ICLR 2015).

``multilabel_cnn`` is the same network with a third stage and global *max* pooling, the default
model of ``cnnlab train --task multilabel``: a label says "this digit is somewhere in the
image", and the maximum over positions answers exactly that (one confident position suffices),
where the average dilutes a small digit over an empty canvas (Oquab et al., "Is object
localization for free?", CVPR 2015, train multi-label classifiers with global max pooling for
this reason). The third stage widens the receptive field to a whole digit of the 32x32 scenes.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.models._registry import register_model

GLOBAL_POOLS = {"avg": nn.AdaptiveAvgPool2d, "max": nn.AdaptiveMaxPool2d}


def _conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]


class DigitsCNN(nn.Module):
    """Stages of (conv-BN-ReLU x2, maxpool), global pool, dropout, linear.

    Args:
        num_classes: output classes.
        in_chans: input channels.
        width: channels of the first stage (each further stage has twice as many).
        dropout: dropout probability before the classifier.
        stages: number of stages (each halves the resolution).
        global_pool: ``"avg"`` or ``"max"`` over the last stage's positions.

    Shape:
        input (N, in_chans, H, W) with H, W >= 2 ** stages; output (N, num_classes).
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_chans: int = 1,
        width: int = 32,
        dropout: float = 0.2,
        stages: int = 2,
        global_pool: str = "avg",
    ) -> None:
        super().__init__()
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if stages <= 0:
            raise ValueError(f"stages must be positive, got {stages}")
        if global_pool not in GLOBAL_POOLS:
            raise ValueError(
                f"global_pool must be one of {sorted(GLOBAL_POOLS)}, got {global_pool!r}"
            )
        layers: list[nn.Module] = []
        cin = in_chans
        for i in range(stages):
            cout = width * 2**i
            layers += [*_conv_bn_relu(cin, cout), *_conv_bn_relu(cout, cout), nn.MaxPool2d(2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.pool = GLOBAL_POOLS[global_pool](1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(cin, num_classes)
        self.num_classes = num_classes

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(self.pool(x), 1)
        return x if pre_logits else self.fc(self.dropout(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(
    family="simple",
    default_input_size=(1, 8, 8),
    paper="Simonyan & Zisserman, ICLR 2015 (3x3 stacks); sized for 8x8 digits",
)
def digits_cnn(
    num_classes: int = 10, in_chans: int = 1, width: int = 32, dropout: float = 0.2
) -> DigitsCNN:
    """Small VGG-style CNN for 8x8 to 32x32 images (about 66k parameters at width 32)."""
    return DigitsCNN(num_classes, in_chans, width, dropout)


@register_model(
    family="simple",
    default_input_size=(1, 32, 32),
    paper="Oquab et al., CVPR 2015 (global max pooling for multi-label); 3x3 stacks",
)
def multilabel_cnn(num_classes: int = 10, in_chans: int = 1, dropout: float = 0.2) -> DigitsCNN:
    """The digits CNN with three stages (32-64-128 channels) and global max pooling: "is this
    digit anywhere in the image?" (about 0.29M parameters). The default model of
    ``cnnlab train --task multilabel``."""
    return DigitsCNN(num_classes, in_chans, 32, dropout, stages=3, global_pool="max")
