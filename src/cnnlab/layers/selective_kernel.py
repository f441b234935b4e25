"""Selective kernel convolution (Li, Wang, Hu & Yang, "Selective Kernel Networks", CVPR 2019).

Neurons of the visual cortex adapt their receptive field to the stimulus; SK convolution lets a
layer do the same. *Split*: run the input through M branches with different kernels (a 3x3 and a
"5x5", the latter as a 3x3 with dilation 2). *Fuse*: add the branches, global-average-pool, and
squeeze through a small FC layer (d = max(C / r, L) channels). *Select*: one FC layer per branch
turns that into C logits, a softmax *across the branches* gives every channel M weights summing
to 1, and the output is the weighted sum of the branches (``tests/models/test_attention_blocks.py``
checks the sum). It is SENet's idea applied to choosing kernels instead of scaling channels.

Parameter names are timm's (``paths.{i}.conv``/``bn``, ``attn.fc_reduce``/``bn``/``fc_select``).
With ``split_input=True`` (timm's SK-ResNet-18/34) each branch sees only its share of the input
channels, which keeps the parameter count down.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.layers.conv_norm_act import ConvBnAct
from cnnlab.layers.make_divisible import make_divisible


class SelectiveKernelAttn(nn.Module):
    """Fuse and select: per-channel softmax weights over the branches.

    Args:
        channels: C, channels of each branch.
        num_paths: M, the number of branches.
        attn_channels: d, width of the squeezed descriptor.

    Shape:
        input (N, C, H, W), U = the sum of the M branches; output (N, M, C, 1, 1), the weight of
        every branch per channel (summing to 1 over M).
    """

    def __init__(self, channels: int, num_paths: int = 2, attn_channels: int = 32) -> None:
        super().__init__()
        self.num_paths = num_paths
        self.fc_reduce = nn.Conv2d(channels, attn_channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(attn_channels)
        self.act = nn.ReLU(inplace=True)
        self.fc_select = nn.Conv2d(attn_channels, channels * num_paths, 1, bias=False)

    def forward(self, fused: torch.Tensor) -> torch.Tensor:
        s = fused.mean((2, 3), keepdim=True)  # global average pool of U = sum of the branches
        z = self.fc_select(self.act(self.bn(self.fc_reduce(s))))
        n, c = z.shape[:2]
        return torch.softmax(z.view(n, self.num_paths, c // self.num_paths, 1, 1), dim=1)


class SelectiveKernel(nn.Module):
    """M conv-BN-ReLU branches with growing receptive fields, mixed by :class:`SelectiveKernelAttn`.

    Args:
        in_channels: input channels.
        out_channels: output channels (of every branch).
        kernel_sizes: nominal kernel of each branch; ``keep_3x3`` builds a kernel k as a 3x3
            with dilation (k - 1) / 2 (the paper's choice for 5x5).
        stride: stride of every branch.
        dilation: dilation of the whole layer (multiplies the branches').
        groups: groups of every branch's convolution (32 in SK-ResNeXt).
        rd_ratio: r, the squeeze ratio: d = make_divisible(C * r, rd_divisor).
        rd_divisor: rounding of d (the paper's L = 32 lower bound in SK-ResNeXt-50).
        keep_3x3: see ``kernel_sizes``.
        split_input: feed each branch ``in_channels / M`` of the input channels.

    Shape:
        input (N, in_channels, H, W); output (N, out_channels, H / stride, W / stride).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_sizes: tuple[int, ...] = (3, 5),
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        rd_ratio: float = 1.0 / 16,
        rd_divisor: int = 8,
        keep_3x3: bool = True,
        split_input: bool = True,
    ) -> None:
        super().__init__()
        if keep_3x3:
            dilations = [dilation * (k - 1) // 2 for k in kernel_sizes]
            kernels = [3] * len(kernel_sizes)
        else:
            dilations, kernels = [dilation] * len(kernel_sizes), list(kernel_sizes)
        self.num_paths = len(kernels)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.split_input = split_input
        if split_input and in_channels % self.num_paths:
            raise ValueError(
                f"split_input needs in_channels divisible by {self.num_paths}, got {in_channels}"
            )
        cin = in_channels // self.num_paths if split_input else in_channels
        groups = min(out_channels, groups)
        self.paths = nn.ModuleList(
            ConvBnAct(cin, out_channels, k, stride, groups=groups, dilation=d)
            for k, d in zip(kernels, dilations, strict=True)
        )
        attn_channels = make_divisible(out_channels * rd_ratio, rd_divisor)
        self.attn = SelectiveKernelAttn(out_channels, self.num_paths, attn_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.split_input:
            parts = torch.split(x, self.in_channels // self.num_paths, 1)
            branches = [path(part) for path, part in zip(self.paths, parts, strict=True)]
        else:
            branches = [path(x) for path in self.paths]
        weights = self.attn(sum(branches[1:], branches[0]))  # fuse, then select
        # The weighted sum written out (not stack-multiply-sum): the same numbers, and the
        # receptive-field analysis follows element-wise ops through it.
        out = branches[0] * weights[:, 0]
        for i in range(1, self.num_paths):
            out = out + branches[i] * weights[:, i]
        return out
