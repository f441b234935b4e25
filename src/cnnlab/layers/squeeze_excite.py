"""Squeeze-and-excitation (Hu, Shen & Sun, "Squeeze-and-Excitation Networks", CVPR 2018).

Squeeze: global average pooling summarises each channel as one number. Excitation: two fully
connected layers (C -> C/r -> C, ReLU then sigmoid) turn the summary into a weight in (0, 1) per
channel. Scale: the input's channels are multiplied by their weights, so the network learns to
emphasise useful channels and suppress the others ("feature recalibration", as the notes put it).
The fully connected layers are written as 1x1 convolutions on the pooled (N, C, 1, 1) tensor,
which is the same computation without reshapes. Extra parameters: 2 * C^2 / r (+ C/r + C biases).
"""

from __future__ import annotations

import torch
from torch import nn


class SqueezeExcite(nn.Module):
    """x * sigmoid(W2 relu(W1 mean_hw(x) + b1) + b2), per channel.

    Args:
        channels: C, the channels of the input.
        reduction: r, the bottleneck ratio (16 in the paper).
        min_channels: lower bound on the hidden width C / r.

    Attributes:
        fc1: 1x1 conv C -> C/r with bias (the paper's first FC layer).
        fc2: 1x1 conv C/r -> C with bias (the second FC layer).

    Shape:
        input (N, C, H, W); output (N, C, H, W).
    """

    def __init__(self, channels: int, reduction: int = 16, min_channels: int = 1) -> None:
        super().__init__()
        if reduction <= 0:
            raise ValueError(f"reduction must be a positive integer, got {reduction}")
        hidden = max(min_channels, channels // reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))
        return x * s
