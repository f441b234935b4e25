"""A small VGG-style CNN for tiny images such as the 8x8 handwritten digits.

Two stages of two 3x3 conv-BN-ReLU layers, each stage closed by 2x2 max pooling (the notes'
"local connectivity, weight sharing, pooling, hierarchy"), then global average pooling, dropout
and a linear classifier. Global pooling makes the head independent of the input size, so the
same network takes 8x8 digits, 28x28 MNIST or 32x32 CIFAR-10 images. Stacking 3x3 convolutions
follows Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition" (ICLR 2015).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.models._registry import register_model


def _conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]


class DigitsCNN(nn.Module):
    """conv-BN-ReLU x2, maxpool, conv-BN-ReLU x2, maxpool, global average pool, dropout, linear.

    Args:
        num_classes: output classes.
        in_chans: input channels.
        width: channels of the first stage (the second has twice as many).
        dropout: dropout probability before the classifier.

    Shape:
        input (N, in_chans, H, W) with H, W >= 4; output (N, num_classes).
    """

    def __init__(
        self, num_classes: int = 10, in_chans: int = 1, width: int = 32, dropout: float = 0.2
    ) -> None:
        super().__init__()
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        w1, w2 = width, 2 * width
        self.features = nn.Sequential(
            *_conv_bn_relu(in_chans, w1),
            *_conv_bn_relu(w1, w1),
            nn.MaxPool2d(2),
            *_conv_bn_relu(w1, w2),
            *_conv_bn_relu(w2, w2),
            nn.MaxPool2d(2),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(w2, num_classes)
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
