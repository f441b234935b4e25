"""Pruning: l1_unstructured's masks; channel pruning that shrinks, against silenced channels."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from cnnlab.analysis import summary
from cnnlab.compress import (
    accuracy,
    find_chains,
    finetune,
    magnitude_mask,
    prune_channels,
    prune_unstructured,
    sparsity,
)
from cnnlab.models import create_model

from .conftest import calibrate_bn


@pytest.mark.parametrize("amount", [0.0, 0.3, 0.5, 0.77, 0.95])
@pytest.mark.parametrize(
    "layer", [lambda: nn.Conv2d(8, 16, 3), lambda: nn.Linear(30, 7)], ids=["conv", "linear"]
)
def test_mask_equals_l1_unstructured(layer, amount: float) -> None:
    torch.manual_seed(0)
    ours = layer()
    theirs = copy.deepcopy(ours)
    torch_prune.l1_unstructured(theirs, "weight", amount=amount)
    assert torch.equal(magnitude_mask(ours.weight, amount), theirs.weight_mask)


def test_prune_unstructured_model_matches_torch_per_layer() -> None:
    torch.manual_seed(0)
    model = create_model("digits_cnn").eval()
    pruned, masks = prune_unstructured(model, 0.6)
    reference = copy.deepcopy(model)
    for name, m in reference.named_modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            torch_prune.l1_unstructured(m, "weight", amount=0.6)
            torch_prune.remove(m, "weight")
            assert torch.equal(pruned.get_submodule(name).weight, m.weight), name
    assert sparsity(pruned) == pytest.approx(0.6, abs=1e-3)
    assert sparsity(model) == 0.0  # the original is untouched
    assert set(masks) == {"features.0", "features.3", "features.7", "features.10", "fc"}


def _zero_channels(model: nn.Module, plan: dict[str, list[int]]) -> nn.Module:
    """The oracle: silence the dropped channels (their BN scale and shift set to 0)."""
    out = copy.deepcopy(model)
    modules = dict(out.named_modules())
    names = list(modules)
    with torch.no_grad():
        for conv, kept in plan.items():
            bn = modules[names[names.index(conv) + 1]]  # the BN registered right after the conv
            assert isinstance(bn, nn.BatchNorm2d)
            drop = [c for c in range(bn.num_features) if c not in kept]
            bn.weight[drop] = 0.0
            bn.bias[drop] = 0.0
    return out


@pytest.mark.parametrize(
    ("name", "size", "n_chains"),
    [
        ("digits_cnn", (1, 8, 8), 4),  # every conv, the last one into the linear classifier
        ("resnet18", (3, 32, 32), 8),  # the middle of each block; block outputs feed sums
        # the stem and the 13 pointwise convs, each through the next depthwise conv
        ("mobilenet_v1", (3, 32, 32), 14),
    ],
)
def test_pruned_model_is_smaller_and_equals_zeroed_channels(
    name: str, size: tuple[int, ...], n_chains: int
) -> None:
    torch.manual_seed(0)
    x = torch.randn(4, *size)
    model = calibrate_bn(create_model(name, num_classes=10, in_chans=size[0]), x)
    pruned, plan = prune_channels(model, 0.5)
    assert len(find_chains(model)) == len(plan) == n_chains
    before, after = summary(model, size), summary(pruned, size)
    assert after.total_params < before.total_params
    assert after.total_macs < before.total_macs
    # (MobileNet's depthwise BN would turn a silenced channel back on: no oracle there)
    oracle = _zero_channels(model, plan) if name != "mobilenet_v1" else None
    with torch.no_grad():
        if oracle is not None:  # ReLU(0) = 0: silenced channels contribute nothing downstream
            torch.testing.assert_close(pruned(x), oracle(x), rtol=1e-4, atol=1e-5)
        assert pruned(x).shape == (4, 10)


def test_channels_with_smallest_l1_norm_go() -> None:
    torch.manual_seed(0)
    model = create_model("digits_cnn").eval()
    _, plan = prune_channels(model, 0.25)
    norms = model.features[0].weight.abs().sum((1, 2, 3))
    kept = plan["features.0"]
    assert len(kept) == 24
    assert norms[kept].min() >= norms[[c for c in range(32) if c not in kept]].max()


def test_finetune_keeps_pruned_weights_at_zero(trained) -> None:
    pruned, masks = prune_unstructured(trained.model, 0.8)
    before = accuracy(pruned, trained.data.val)
    losses = finetune(pruned, trained.data.train, epochs=1, lr=2e-3, batch_size=64, masks=masks)
    assert len(losses) == 1
    assert accuracy(pruned, trained.data.val) > before  # fine-tuning recovers accuracy
    assert sparsity(pruned) == pytest.approx(0.8, abs=1e-3)
    for name, mask in masks.items():
        assert torch.equal(pruned.get_submodule(name).weight * (1 - mask), torch.zeros_like(mask))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: prune_channels(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), 0.5), "no conv"),
        (lambda: prune_unstructured(nn.Sequential(nn.ReLU()), 0.5), "no conv or linear"),
        (lambda: prune_channels(create_model("digits_cnn"), 1.5), "amount"),
        (lambda: magnitude_mask(torch.ones(3), -0.1), "amount"),
    ],
    ids=["nothing-to-shrink", "nothing-to-zero", "amount-1.5", "amount-negative"],
)
def test_bad_input(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
