"""AlexNet: Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep Convolutional
Neural Networks" (NIPS 2012).

The notes list what made it work: ReLU instead of saturating activations, dropout in the fully
connected layers, and data augmentation; 5 convolutional and 3 fully connected layers, about 60M
parameters, 1000 classes. Most of the parameters sit in the fully connected layers (fc6 alone has
6*6*256*4096 = 37.7M).

This is torchvision's layout, the single-GPU variant from Krizhevsky's "One weird trick for
parallelizing convolutional neural networks" (2014): 64/192/384/256/256 channels instead of the
paper's 96/256/384/384/256 split over two GPUs, and no local response normalisation. It has
61.1M parameters and loads torchvision's ``alexnet`` weights unchanged.

"650,000 neurons" (the paper's abstract) counts the outputs of the conv and FC layers of the
paper's two-GPU layout on 227x227 inputs: 659,272. This single-GPU layout has fewer channels and
on 224x224 inputs has 494,184 (``tests/models/test_paper_tables.py`` counts both).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.models._registry import register_model

PAPER = "Krizhevsky, Sutskever & Hinton, NIPS 2012 (torchvision's single-GPU variant, 2014)"


class AlexNet(nn.Module):
    """Five conv layers (11x11/4, 5x5, 3x3 x3) with max pooling, then three FC layers.

    Args:
        num_classes: output classes.
        in_chans: input channels.
        dropout: dropout probability before fc6 and fc7.

    Shape:
        input (N, in_chans, H, W) with H, W >= 63; output (N, num_classes). The adaptive pool
        makes any size from 63 up work; 224x224 gives the 6x6x256 map fc6 was designed for.
    """

    def __init__(self, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )
        self.num_classes = num_classes

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, H, W) -> the last conv block's map (N, 256, H', W')."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool to 6x6, flatten, FC layers; ``pre_logits`` returns the fc7 activations."""
        x = torch.flatten(self.avgpool(x), 1)
        return self.classifier[:-1](x) if pre_logits else self.classifier(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(family="alexnet", paper=PAPER)
def alexnet(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> AlexNet:
    """AlexNet, torchvision layout (61.1M parameters)."""
    return AlexNet(num_classes=num_classes, in_chans=in_chans, dropout=dropout)
