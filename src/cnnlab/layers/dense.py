"""DenseNet's building blocks (Huang, Liu, van der Maaten & Weinberger, CVPR 2017).

In a dense block every layer receives the concatenation of the block's input and of *all*
previous layers' outputs, and adds k new channels (the growth rate): layer l of a block with k0
input channels sees k0 + k(l - 1) channels. Features are reused instead of re-learned, so each
layer can be thin (k = 32) and the network needs fewer parameters than a ResNet of the same
accuracy; every layer also gets a short path to the loss (implicit deep supervision).

The price is memory: every layer concatenates, normalises and activates a wider and wider input,
so a naive implementation stores O(L^2) activations per block for the backward pass.
``memory_efficient=True`` recomputes the concatenation, BN and ReLU of the bottleneck during the
backward pass (``torch.utils.checkpoint``; Pleiss et al., "Memory-Efficient Implementation of
DenseNets", 2017) instead of storing them.

Parameter names are torchvision's (``norm1``, ``conv1``, ..., ``denselayer1``, ``transition1``);
a load-state-dict hook also accepts the old ``norm.1`` / ``conv.1`` names of torchvision's first
DenseNet weights, as torchvision's own loader does.
"""

from __future__ import annotations

import re
from typing import Any

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from torch import nn

_OLD_KEY = re.compile(
    r"^(norm|relu|conv)\.([12])\.(weight|bias|running_mean|running_var|num_batches_tracked)$"
)


def _accept_old_names(
    module: nn.Module, state_dict: dict[str, Any], prefix: str, *args: Any
) -> None:
    # "norm.1.weight" -> "norm1.weight": the names of torchvision's first DenseNet weights.
    for key in list(state_dict):
        if not key.startswith(prefix):
            continue
        found = _OLD_KEY.match(key[len(prefix) :])
        if found:
            name, index, param = found.groups()
            state_dict[f"{prefix}{name}{index}.{param}"] = state_dict.pop(key)


class DenseLayer(nn.Module):
    """BN-ReLU-conv1x1 (to ``bn_size * k`` channels), BN-ReLU-conv3x3 (to k channels).

    Args:
        num_input_features: channels of the concatenated input, k0 + k(l - 1).
        growth_rate: k, the channels this layer adds.
        bn_size: width of the 1x1 bottleneck in multiples of k (4 in DenseNet-BC).
        dropout: dropout on the new features.
        memory_efficient: recompute the bottleneck input in the backward pass.

    Shape:
        input: a list of tensors (N, C_i, H, W) with sum C_i = ``num_input_features`` (or one
        tensor); output (N, growth_rate, H, W).
    """

    def __init__(
        self,
        num_input_features: int,
        growth_rate: int,
        bn_size: int = 4,
        dropout: float = 0.0,
        memory_efficient: bool = False,
    ) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)
        self.dropout = float(dropout)
        self.memory_efficient = memory_efficient
        self.register_load_state_dict_pre_hook(_accept_old_names)

    def bottleneck(self, *inputs: torch.Tensor) -> torch.Tensor:
        """Concatenate, BN, ReLU, 1x1 conv: the part ``memory_efficient`` recomputes."""
        return self.conv1(self.relu1(self.norm1(torch.cat(inputs, 1))))

    def forward(self, features: list[torch.Tensor] | torch.Tensor) -> torch.Tensor:
        inputs = [features] if isinstance(features, torch.Tensor) else list(features)
        if self.memory_efficient and any(t.requires_grad for t in inputs):
            out = cp.checkpoint(self.bottleneck, *inputs, use_reentrant=False)
        else:
            out = self.bottleneck(*inputs)
        out = self.conv2(self.relu2(self.norm2(out)))
        if self.dropout > 0:
            out = F.dropout(out, p=self.dropout, training=self.training)
        return out


class DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers; returns the input and every layer's output, concatenated.

    Shape:
        input (N, C, H, W); output (N, C + num_layers * growth_rate, H, W).
    """

    def __init__(
        self,
        num_layers: int,
        num_input_features: int,
        bn_size: int,
        growth_rate: int,
        dropout: float = 0.0,
        memory_efficient: bool = False,
    ) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = DenseLayer(
                num_input_features + i * growth_rate,
                growth_rate,
                bn_size,
                dropout,
                memory_efficient,
            )
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    """Between dense blocks: BN, ReLU, 1x1 conv (compression: halve the channels), 2x2 avg pool.

    Shape:
        input (N, C_in, H, W); output (N, C_out, floor(H/2), floor(W/2)).
    """

    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, 1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)
