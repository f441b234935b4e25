"""Low-rank factorisation of linear layers by truncated SVD.

A linear layer's weight ``W`` (out x in) is replaced by two thinner layers, ``in -> r -> out``,
whose product is the best rank-``r`` approximation of ``W`` (Eckart-Young): ``r (in + out)``
weights instead of ``in * out``. VGG-16's fc6 (25088 -> 4096, 102.8M weights) at rank 512 keeps
512 * (25088 + 4096) = 14.9M. Cf. Denton et al., "Exploiting Linear Structure Within
Convolutional Networks for Efficient Evaluation" (NeurIPS 2014).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from cnnlab.compress.graph import replace_module
from cnnlab.core.validate import number, positive_int


@dataclass
class TruncatedSVD:
    """``W ~ second @ first`` with ``first = S_r V_r^T`` (r x in) and ``second = U_r`` (out x r)."""

    first: torch.Tensor
    second: torch.Tensor
    singular_values: torch.Tensor  # all of them, descending
    rank: int

    @property
    def error(self) -> float:
        """``||W - W_r||_F = sqrt(sum of the dropped squared singular values)`` (Eckart-Young)."""
        return float(self.singular_values[self.rank :].double().square().sum().sqrt())


def truncated_svd(weight: torch.Tensor, rank: int) -> TruncatedSVD:
    """The rank-``rank`` truncated SVD of a matrix, computed in float64.

    Math:
        W = U S V^T,  W_r = U_r S_r V_r^T = second @ first,
        ||W - W_r||_F^2 = sum_{i > r} s_i^2, the smallest over all rank-r matrices.

    Shape:
        weight: (out, in); first: (r, in); second: (out, r).
    """
    if weight.ndim != 2:
        raise ValueError(f"weight must be a matrix (out, in), got shape {tuple(weight.shape)}")
    rank = positive_int("rank", rank, maximum=min(weight.shape))
    u, s, vh = torch.linalg.svd(weight.detach().double(), full_matrices=False)
    first = (s[:rank, None] * vh[:rank]).to(weight.dtype)
    second = u[:, :rank].contiguous().to(weight.dtype)
    return TruncatedSVD(first, second, s, rank)


def factorize_linear(layer: nn.Linear, rank: int) -> nn.Sequential:
    """``layer`` as ``Linear(in, r, bias=False)`` then ``Linear(r, out)`` from its truncated SVD.

    Shape:
        (*, in) -> (*, out), as ``layer``.
    """
    svd = truncated_svd(layer.weight, rank)
    where = {"device": layer.weight.device, "dtype": layer.weight.dtype}  # meta stays meta
    first = nn.Linear(layer.in_features, rank, bias=False, **where)
    second = nn.Linear(rank, layer.out_features, bias=layer.bias is not None, **where)
    with torch.no_grad():
        first.weight.copy_(svd.first)
        second.weight.copy_(svd.second)
        if layer.bias is not None:
            second.bias.copy_(layer.bias)
    return nn.Sequential(first, second)


def rank_for(layer: nn.Linear, amount: float) -> int | None:
    """The rank that drops ``amount`` of the singular values; None if it would not save weights."""
    full = min(layer.in_features, layer.out_features)
    rank = max(1, round(full * (1.0 - amount)))
    saves = rank * (layer.in_features + layer.out_features) < layer.in_features * layer.out_features
    return rank if saves else None


def lowrank(
    model: nn.Module, amount: float = 0.5, *, ranks: dict[str, int] | None = None
) -> tuple[nn.Module, dict[str, int]]:
    """Factorise every linear layer of a copy of ``model`` by truncated SVD.

    Args:
        model: any model.
        amount: share of each layer's singular values to drop, in [0, 1); layers where the
            factorisation would not save weights stay as they are.
        ranks: explicit ``{layer name: rank}`` (overrides ``amount``; rebuilds a saved model).

    Returns:
        The factorised copy and the ranks used, by layer name.

    Raises:
        ValueError: no linear layer would get smaller.
    """
    amount = number("amount", amount, minimum=0, maximum=1, exclusive_maximum=True)
    target = copy.deepcopy(model)
    linears = {n: m for n, m in target.named_modules() if isinstance(m, nn.Linear)}
    if ranks is None:
        chosen = {n: rank_for(m, amount) for n, m in linears.items()}
        ranks = {n: r for n, r in chosen.items() if r is not None}
    unknown = sorted(set(ranks) - set(linears))
    if unknown:
        raise ValueError(f"ranks name layers that are not linear layers of the model: {unknown}")
    if not ranks:
        raise ValueError(
            f"{type(model).__name__} has no linear layer that a rank-{1 - amount:.0%} "
            "factorisation would make smaller; nothing to factorise"
        )
    for name, rank in ranks.items():
        replace_module(target, name, factorize_linear(linears[name], rank))
    return target, dict(ranks)
