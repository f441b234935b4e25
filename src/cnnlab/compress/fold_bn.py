"""Fold eval-mode batch norms into the convolution or linear layer before them.

At inference a batch norm is a fixed per-channel affine map, ``y = gamma (x - mu) / sqrt(var +
eps) + beta``, so it can be merged into the weights of the layer that feeds it: the folded network
computes the same function with one layer less per block (fewer parameters, less memory traffic).
Written out here for the notes' sake; the tests compare the folded weights with
``torch.nn.utils.fusion.fuse_conv_bn_eval`` / ``fuse_linear_bn_eval``.
"""

from __future__ import annotations

import copy

import torch
from torch import fx, nn

from cnnlab.compress.graph import Traced, replace_module, trace

#: Layers a following batch norm can be folded into (weight's dim 0 is the output channel).
FOLDABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
#: The batch norms (public classes; their running statistics make them foldable).
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
BatchNorm = nn.BatchNorm1d | nn.BatchNorm2d | nn.BatchNorm3d | nn.SyncBatchNorm


def _out_channels(layer: nn.Module) -> int:
    return layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels


def conv_bn_pairs(model: nn.Module) -> list[tuple[str, str]]:
    """The ``(layer, batch_norm)`` qualified names whose batch norm can be folded.

    A pair qualifies when the batch norm's input is the layer's output and nothing else uses
    that output, both modules run once per forward, the channel counts agree and the batch norm
    keeps running statistics.
    """
    return _pairs(trace(model))


def _pairs(traced: Traced) -> list[tuple[str, str]]:
    pairs = []
    for node in traced.graph.nodes:
        bn = traced.module_of(node)
        if not isinstance(bn, BATCH_NORMS) or not bn.track_running_stats:
            continue
        source = node.args[0] if node.args else None
        layer = traced.module_of(source)
        if not isinstance(layer, FOLDABLE) or not isinstance(source, fx.Node):
            continue
        if len(source.users) != 1 or not (traced.called_once(source) and traced.called_once(node)):
            continue
        if _out_channels(layer) != bn.num_features:
            continue
        pairs.append((str(source.target), str(node.target)))
    return pairs


@torch.no_grad()
def fold_into(layer: nn.Module, bn: BatchNorm) -> nn.Module:
    """A copy of ``layer`` with ``bn`` (eval mode: its running statistics) merged into it.

    Math:
        s = gamma / sqrt(var + eps)          (one factor per output channel)
        W' = W * s   (scaling output channel c of W by s_c)
        b' = (b - mu) * s + beta             (b = 0 when the layer has no bias)

    Shape:
        W: (C_out, ...) for convolutions and linear layers; s, b': (C_out,).
    """
    w = layer.weight.detach().double()
    gamma = bn.weight.detach().double() if bn.affine else torch.ones_like(bn.running_mean).double()
    beta = bn.bias.detach().double() if bn.affine else torch.zeros_like(bn.running_mean).double()
    s = gamma / torch.sqrt(bn.running_var.double() + bn.eps)
    b = layer.bias.detach().double() if layer.bias is not None else torch.zeros_like(s)
    folded = copy.deepcopy(layer)
    folded.weight = nn.Parameter((w * s.reshape(-1, *[1] * (w.ndim - 1))).to(layer.weight.dtype))
    folded.bias = nn.Parameter(((b - bn.running_mean.double()) * s + beta).to(layer.weight.dtype))
    return folded


def fold_bn(model: nn.Module, *, inplace: bool = False) -> nn.Module:
    """Fold every eval-mode batch norm that directly follows a conv/linear layer into it.

    Folded batch norms become ``nn.Identity``; the returned model (in eval mode) computes the same
    outputs as ``model.eval()`` up to float rounding. Batch norms that follow something else
    (ResNet v2's pre-activation, a residual sum) stay.

    Args:
        model: a model in eval mode (folding uses the running statistics).
        inplace: change ``model`` itself instead of a deep copy.

    Raises:
        ValueError: the model is in training mode, or its forward cannot be traced.
    """
    if any(isinstance(m, BATCH_NORMS) and m.training for m in model.modules()):
        raise ValueError(
            "fold_bn folds batch norms with their running statistics, which is eval-mode "
            "behaviour; call model.eval() first"
        )
    target = model if inplace else copy.deepcopy(model)
    for layer_name, bn_name in conv_bn_pairs(target):
        layer = target.get_submodule(layer_name)
        bn = target.get_submodule(bn_name)
        replace_module(target, layer_name, fold_into(layer, bn))
        replace_module(target, bn_name, nn.Identity())
    return target.eval()
