"""Structured (channel) pruning: remove whole output channels, so the layers really shrink.

Li et al., "Pruning Filters for Efficient ConvNets" (ICLR 2017): rank a convolution's filters by
their L1 norm and drop the weakest. Removing output channel ``c`` of a convolution also removes
channel ``c`` of what follows it up to the next layer that mixes channels: the batch norm, a
depthwise convolution (MobileNet) and its batch norm, and input channel ``c`` of the next
convolution (or column ``c`` of a linear layer after global pooling). Unlike zeroing weights
(:mod:`cnnlab.compress.prune`), the result is a smaller dense network: fewer parameters, fewer
MACs, less time.

Only channels whose path to the next mixing layer is a simple chain are pruned: an output that
also feeds a residual sum, a concatenation or a squeeze-and-excite product keeps its channels
(ResNet prunes the middle of each block, not the block outputs).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import fx, nn

from cnnlab.compress.fold_bn import BATCH_NORMS
from cnnlab.compress.graph import Traced, replace_module, trace
from cnnlab.core.validate import number

#: Element-wise or per-channel modules without parameters: channel c stays channel c.
_PASS_THROUGH = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.SiLU,
    nn.GELU,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Sigmoid,
    nn.Tanh,
    nn.Mish,
    nn.Identity,
    nn.Dropout,
    nn.Dropout2d,
    nn.MaxPool2d,
    nn.AvgPool2d,
)
_PASS_FUNCTIONS = {F.relu, F.relu6, torch.relu, F.silu, F.gelu, F.dropout, F.max_pool2d}
_PASS_METHODS = {"relu", "relu_", "sigmoid", "contiguous"}
_GLOBAL_POOLS = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


@dataclass
class ChannelChain:
    """A convolution whose output channels can go, and the layers that lose them with it."""

    producer: str  # conv whose output channels are removed
    channelwise: list[str] = field(default_factory=list)  # BNs, depthwise convs in between
    consumer: str = ""  # conv (input channels) or linear (input features) at the end


def _is_depthwise(m: nn.Module) -> bool:
    return isinstance(m, nn.Conv2d) and m.groups == m.in_channels == m.out_channels > 1


def _is_flatten(node: fx.Node, traced: Traced) -> bool:
    module = traced.module_of(node)
    if isinstance(module, nn.Flatten):
        return module.start_dim == 1 and module.end_dim == -1
    start = node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0)
    if node.op == "call_function" and node.target is torch.flatten:
        return start == 1 and len(node.args) <= 2
    return node.op == "call_method" and node.target == "flatten" and start == 1


def _passes_through(node: fx.Node, module: nn.Module | None) -> bool:
    """Whether ``node`` keeps channel c in place and has no parameters (ReLU, pooling...)."""
    if module is not None:
        return isinstance(module, _PASS_THROUGH)
    if node.op == "call_function":
        return node.target in _PASS_FUNCTIONS
    return node.op == "call_method" and node.target in _PASS_METHODS


def _walk(traced: Traced, start: fx.Node) -> ChannelChain | None:
    """Follow ``start``'s output through single-user channel-wise steps to a mixing layer."""
    chain = ChannelChain(str(start.target))
    node, pooled, flat = start, False, False
    while True:
        if len(node.users) != 1:
            return None
        nxt = next(iter(node.users))
        if not nxt.args or nxt.args[0] is not node:
            return None
        module = traced.module_of(nxt)
        shared = module is not None and not traced.called_once(nxt)
        if shared and not isinstance(module, _PASS_THROUGH + _GLOBAL_POOLS):
            return None  # a layer with weights used twice cannot lose channels for one use
        if flat:  # after global pooling and flatten: dropout, then a linear layer
            if isinstance(module, nn.Linear):
                chain.consumer = str(nxt.target)
                return chain
            if not isinstance(module, nn.Dropout):
                return None
        elif isinstance(module, BATCH_NORMS) or _is_depthwise(module):
            chain.channelwise.append(str(nxt.target))
        elif isinstance(module, nn.Conv2d):
            if module.groups != 1:
                return None
            chain.consumer = str(nxt.target)
            return chain
        elif isinstance(module, _GLOBAL_POOLS):
            pooled = module.output_size in (1, (1, 1))
        elif pooled and _is_flatten(nxt, traced):
            flat = True
        elif not _passes_through(nxt, module):
            return None
        node = nxt


def find_chains(model: nn.Module) -> list[ChannelChain]:
    """Every convolution of ``model`` whose output channels can be removed, with its chain."""
    traced = trace(model)
    chains = []
    for node in traced.graph.nodes:
        module = traced.module_of(node)
        if isinstance(module, nn.Conv2d) and module.groups == 1 and traced.called_once(node):
            chain = _walk(traced, node)
            if chain is not None:
                chains.append(chain)
    return chains


def channel_plan(model: nn.Module, amount: float) -> dict[str, list[int]]:
    """The output channels each prunable conv keeps: the largest filter L1 norms, in order.

    Each conv keeps ``max(1, round(C * (1 - amount)))`` of its ``C`` channels.

    Raises:
        ValueError: no convolution of the model can lose channels.
    """
    amount = number("amount", amount, minimum=0, maximum=1, exclusive_maximum=True)
    chains = find_chains(model)
    if not chains:
        raise ValueError(
            f"{type(model).__name__} has no convolution whose output channels can be pruned "
            "(each feeds a residual sum, a concatenation or nothing that mixes channels)"
        )
    plan = {}
    for chain in chains:
        weight = model.get_submodule(chain.producer).weight.detach()
        norms = weight.abs().flatten(1).sum(1)
        keep = max(1, round(weight.shape[0] * (1.0 - amount)))
        kept = torch.argsort(norms, descending=True, stable=True)[:keep]
        plan[chain.producer] = sorted(int(i) for i in kept)
    return plan


def _param(t: torch.Tensor) -> nn.Parameter:
    return nn.Parameter(t.detach().clone())


def _slice_out(m: nn.Module, idx: torch.Tensor) -> nn.Module:
    """Copy of a conv (output channels), depthwise conv or batch norm keeping channels ``idx``."""
    m = copy.deepcopy(m)
    with torch.no_grad():
        if isinstance(m, BATCH_NORMS):
            m.num_features = len(idx)
            if m.affine:
                m.weight, m.bias = _param(m.weight[idx]), _param(m.bias[idx])
            if m.track_running_stats:
                m.running_mean = m.running_mean[idx].clone()
                m.running_var = m.running_var[idx].clone()
            return m
        if _is_depthwise(m):
            m.in_channels = m.groups = len(idx)
        m.weight = _param(m.weight[idx])
        if m.bias is not None:
            m.bias = _param(m.bias[idx])
        m.out_channels = len(idx)
    return m


def _slice_in(m: nn.Module, idx: torch.Tensor) -> nn.Module:
    """Copy of a conv or linear layer keeping input channels/features ``idx``."""
    m = copy.deepcopy(m)
    with torch.no_grad():
        m.weight = _param(m.weight[:, idx])
    if isinstance(m, nn.Linear):
        m.in_features = len(idx)
    else:
        m.in_channels = len(idx)
    return m


def shrink_channels(model: nn.Module, plan: dict[str, list[int]]) -> nn.Module:
    """A copy of ``model`` where each conv in ``plan`` keeps only the listed output channels.

    The batch norms, depthwise convolutions and the next layer of each chain shrink with it.
    """
    target = copy.deepcopy(model)
    chains = {c.producer: c for c in find_chains(target)}
    unknown = sorted(set(plan) - set(chains))
    if unknown:
        raise ValueError(f"cannot prune the output channels of {unknown}")
    for name, kept in plan.items():
        chain = chains[name]
        idx = torch.as_tensor(kept, dtype=torch.long)
        for layer in [chain.producer, *chain.channelwise]:
            replace_module(target, layer, _slice_out(target.get_submodule(layer), idx))
        replace_module(target, chain.consumer, _slice_in(target.get_submodule(chain.consumer), idx))
    return target


def prune_channels(model: nn.Module, amount: float) -> tuple[nn.Module, dict[str, list[int]]]:
    """Remove the ``amount`` of output channels with the smallest filter L1 norms.

    Returns:
        The smaller copy and the plan (kept channel indices by conv name).
    """
    plan = channel_plan(model, amount)
    return shrink_channels(model, plan), plan
