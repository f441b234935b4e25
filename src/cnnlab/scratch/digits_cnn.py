"""A small CNN for 8x8 digits built only from scratch layers."""

from __future__ import annotations

import numpy as np

from cnnlab.scratch.activation import ReLU
from cnnlab.scratch.batchnorm import BatchNorm2d
from cnnlab.scratch.container import Sequential
from cnnlab.scratch.conv import Conv2d
from cnnlab.scratch.dropout import Dropout
from cnnlab.scratch.init import RngLike
from cnnlab.scratch.linear import Flatten, Linear
from cnnlab.scratch.pooling import MaxPool2d


def digits_cnn(
    width: int = 16, dropout: float = 0.25, num_classes: int = 10, rng: RngLike = 0
) -> Sequential:
    """conv-BN-ReLU-maxpool twice, dropout, linear.

    Shape:
        (N, 1, 8, 8) -> conv3x3 (N, w, 8, 8) -> pool (N, w, 4, 4) -> conv3x3 (N, 2w, 4, 4)
        -> pool (N, 2w, 2, 2) -> flatten (N, 8w) -> linear (N, num_classes)
    """
    generator = np.random.default_rng(rng)
    return Sequential(
        Conv2d(1, width, 3, padding=1, bias=False, rng=generator),
        BatchNorm2d(width),
        ReLU(),
        MaxPool2d(2),
        Conv2d(width, 2 * width, 3, padding=1, bias=False, rng=generator),
        BatchNorm2d(2 * width),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Dropout(dropout, rng=generator),
        Linear(8 * width, num_classes, rng=generator),
    )
