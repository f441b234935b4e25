"""Global context block (Cao, Xu, Lin, Wei & Hu, "GCNet: Non-local Networks Meet
Squeeze-Excitation Networks and Beyond", ICCV Workshops 2019).

A non-local block computes, for every position, an attention-weighted sum over all positions;
GCNet observes that the attention maps of different query positions are almost identical, so it
computes *one* query-independent context for the whole image: a 1x1 convolution to one channel
and a softmax over the H x W positions give the weights, and the context is the weighted sum of
the features (N, C, 1, 1). A bottleneck transform (1x1 conv C -> C/r, LayerNorm, ReLU, 1x1 conv
C/r -> C) follows, as in SE, and the result is *added* to every position (SE multiplies). The
cost is that of an SE block; the last 1x1 convolution starts at zero, so a new block is the
identity (``tests/models/test_attention_blocks.py``).

Parameter names follow the authors' mmcv ``ContextBlock`` (``conv_mask``, ``channel_add_conv``).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.core.validate import number


class GlobalContext(nn.Module):
    """x + transform(sum_j softmax_j(W_k x_j) x_j), the context added at every position.

    Args:
        channels: C, the input channels.
        ratio: r, the bottleneck ratio of the transform (1/16 in the paper's GC-ResNet-50).

    Attributes:
        conv_mask: 1x1 conv C -> 1 (with bias), the attention logits.
        channel_add_conv: [1x1 conv C -> C*r, LayerNorm, ReLU, 1x1 conv C*r -> C].

    Shape:
        input (N, C, H, W); output (N, C, H, W).
    """

    def __init__(self, channels: int, ratio: float = 1.0 / 16) -> None:
        super().__init__()
        number("ratio", ratio, minimum=0, maximum=1, exclusive_minimum=True)
        hidden = max(1, int(channels * ratio))
        self.conv_mask = nn.Conv2d(channels, 1, 1)
        self.channel_add_conv = nn.Sequential(
            nn.Conv2d(channels, hidden, 1),
            nn.LayerNorm([hidden, 1, 1]),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """mmcv's initialisation: Kaiming (fan-in) attention, last conv zero (identity block)."""
        nn.init.kaiming_normal_(self.conv_mask.weight, mode="fan_in", nonlinearity="relu")
        nn.init.zeros_(self.conv_mask.bias)
        first, last = self.channel_add_conv[0], self.channel_add_conv[-1]
        nn.init.kaiming_normal_(first.weight, mode="fan_in", nonlinearity="relu")
        nn.init.zeros_(first.bias)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def context(self, x: torch.Tensor) -> torch.Tensor:
        """The attention-pooled context (N, C, 1, 1)."""
        n, c, h, w = x.shape
        weights = torch.softmax(self.conv_mask(x).view(n, 1, h * w), dim=-1)  # (N, 1, HW)
        pooled = torch.matmul(x.view(n, c, h * w), weights.transpose(1, 2))  # (N, C, 1)
        return pooled.view(n, c, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.channel_add_conv(self.context(x))
