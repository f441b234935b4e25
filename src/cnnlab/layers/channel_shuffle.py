"""Channel shuffle (ShuffleNet v1): let the groups of a group convolution talk to each other.

Stacked group convolutions keep each group's channels apart: output group i only ever sees input
group i. Channel shuffle reshapes the C = g * n channels to (g, n), transposes to (n, g) and
flattens, so that the next group convolution's every group receives channels from every group of
the previous one. Channel ``i * n + j`` moves to position ``j * g + i``.
"""

from __future__ import annotations

import torch
from torch import nn


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Permute the channels of ``x`` as (groups, C/groups) -> (C/groups, groups).

    Args:
        x: tensor of shape (N, C, H, W).
        groups: number of groups g; must divide C.

    Shape:
        input (N, C, H, W); output (N, C, H, W).

    Raises:
        ValueError: ``groups`` is not a positive divisor of the channel count.
    """
    n, c, h, w = x.shape
    if groups <= 0 or c % groups:
        raise ValueError(
            f"channel_shuffle: groups must be a positive divisor of C={c}, got {groups}"
        )
    x = x.reshape(n, groups, c // groups, h, w).transpose(1, 2).contiguous()
    return x.reshape(n, c, h, w)


class ChannelShuffle(nn.Module):
    """Module form of :func:`channel_shuffle` (no parameters).

    Args:
        groups: number of groups g.

    Shape:
        input (N, C, H, W) with C divisible by g; output (N, C, H, W).
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        if groups <= 0:
            raise ValueError(f"groups must be a positive integer, got {groups}")
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
