"""A small CNN built only from scratch layers, for the in-memory digits (8x8 grey images).

Named apart from the model registry's ``digits_cnn`` (the PyTorch tier's model): the two are
different networks in different tiers.
"""

from __future__ import annotations

import numpy as np

from cnnlab.core.validate import InvalidArgument, number, positive_int
from cnnlab.scratch.activation import ReLU
from cnnlab.scratch.batchnorm import BatchNorm2d
from cnnlab.scratch.container import Sequential
from cnnlab.scratch.conv import Conv2d
from cnnlab.scratch.dropout import Dropout
from cnnlab.scratch.init import RngLike
from cnnlab.scratch.linear import Flatten, Linear
from cnnlab.scratch.pooling import MaxPool2d


def tiny_cnn(
    width: int = 16,
    dropout: float = 0.25,
    num_classes: int = 10,
    in_chans: int = 1,
    image_size: int = 8,
    rng: RngLike = 0,
) -> Sequential:
    """conv-BN-ReLU-maxpool twice, dropout, linear.

    Shape:
        (N, C, S, S) -> conv3x3 (N, w, S, S) -> pool (N, w, S/2, S/2) -> conv3x3 (N, 2w, S/2, S/2)
        -> pool (N, 2w, S/4, S/4) -> flatten (N, 2w (S/4)^2) -> linear (N, num_classes);
        for the 8x8 digits: flatten (N, 8w)

    Args:
        width: channels of the first convolution (the second has twice as many).
        dropout: drop probability before the linear layer, in [0, 1).
        num_classes: outputs of the linear layer.
        in_chans: channels of the input images.
        image_size: side of the (square) input images, at least 4.
        rng: Generator or seed for the weights and the dropout masks.

    Raises:
        InvalidArgument: a bad width, dropout, num_classes, in_chans or image_size.
    """
    width = positive_int("width", width)
    number("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
    side = positive_int("image_size", image_size)
    num_classes = positive_int("num_classes", num_classes)
    if side < 4:
        raise InvalidArgument(
            "image_size", f"image_size must be at least 4 (two 2x2 poolings), got {side}"
        )
    generator = np.random.default_rng(rng)
    return Sequential(
        Conv2d(positive_int("in_chans", in_chans), width, 3, padding=1, bias=False, rng=generator),
        BatchNorm2d(width),
        ReLU(),
        MaxPool2d(2),
        Conv2d(width, 2 * width, 3, padding=1, bias=False, rng=generator),
        BatchNorm2d(2 * width),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Dropout(dropout, rng=generator),
        Linear(2 * width * (side // 4) ** 2, num_classes, rng=generator),
    )
