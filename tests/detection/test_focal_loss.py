"""sigmoid_focal_loss against torchvision.ops and the paper's formula."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
import torchvision.ops as tv

from cnnlab.core.validate import InvalidArgument
from cnnlab.detection import sigmoid_focal_loss


def _data(seed: int, soft: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(6, 10, generator=g, dtype=torch.float64) * 3
    targets = torch.rand(6, 10, generator=g, dtype=torch.float64)
    return logits, targets if soft else (targets > 0.8).to(torch.float64)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize(
    "alpha,gamma", [(0.25, 2.0), (0.5, 0.0), (0.9, 3.5)], ids=["paper", "a.5-g0", "a.9-g3.5"]
)
def test_matches_torchvision_forward_and_backward(
    alpha: float, gamma: float, reduction: str
) -> None:
    logits, targets = _data(50)
    logits.requires_grad_(True)
    ours = sigmoid_focal_loss(logits, targets, alpha, gamma, reduction)
    ref = tv.sigmoid_focal_loss(logits, targets, alpha, gamma, reduction)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)
    (g_ours,) = torch.autograd.grad(ours.sum(), logits)
    (g_ref,) = torch.autograd.grad(ref.sum(), logits)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-12, atol=1e-14)


def test_no_alpha_is_torchvisions_minus_one_and_soft_targets() -> None:
    logits, targets = _data(51, soft=True)
    torch.testing.assert_close(
        sigmoid_focal_loss(logits, targets, None, 2.0),
        tv.sigmoid_focal_loss(logits, targets, -1, 2.0),
    )


def test_paper_formula_by_hand() -> None:
    # FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t), Lin et al. 2017, eq. 5
    logits = torch.tensor([2.0, -1.0, 0.5, -3.0], dtype=torch.float64)
    targets = torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    expected = []
    for x, y in zip(logits.tolist(), targets.tolist(), strict=True):
        p = 1 / (1 + math.exp(-x))
        p_t, alpha_t = (p, 0.25) if y == 1 else (1 - p, 0.75)
        expected.append(-alpha_t * (1 - p_t) ** 2 * math.log(p_t))
    torch.testing.assert_close(
        sigmoid_focal_loss(logits, targets), torch.tensor(expected, dtype=torch.float64)
    )


def test_gamma_zero_without_alpha_is_binary_cross_entropy() -> None:
    logits, targets = _data(52)
    torch.testing.assert_close(
        sigmoid_focal_loss(logits, targets, alpha=None, gamma=0.0, reduction="mean"),
        F.binary_cross_entropy_with_logits(logits, targets),
    )


def test_easy_examples_are_down_weighted() -> None:
    # p_t = 0.9 -> (1 - 0.9)^2 = 1/100 of the cross-entropy (the paper's example)
    x = torch.tensor([math.log(9.0)], dtype=torch.float64)  # sigmoid = 0.9
    y = torch.ones(1, dtype=torch.float64)
    ratio = sigmoid_focal_loss(x, y, None, 2.0) / F.binary_cross_entropy_with_logits(x, y)
    torch.testing.assert_close(ratio, torch.tensor([0.01], dtype=torch.float64))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"alpha": -0.25}, r"^alpha must be a finite number in \[0, 1\], got -0.25"),
        ({"alpha": 1.5}, r"^alpha must be a finite number in \[0, 1\]"),
        ({"gamma": -1.0}, "^gamma must be a finite number >= 0, got -1.0"),
        ({"gamma": float("inf")}, "^gamma must be a finite number >= 0, got inf"),
        ({"reduction": "avg"}, r"^reduction must be one of \['mean', 'none', 'sum'\], got 'avg'"),
    ],
    ids=["alpha-neg", "alpha-big", "gamma-neg", "gamma-inf", "reduction"],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    logits, targets = _data(53)
    with pytest.raises(InvalidArgument, match=match) as err:
        sigmoid_focal_loss(logits, targets, **kwargs)
    assert err.value.argument == next(iter(kwargs))


def test_bad_tensors() -> None:
    logits, targets = _data(54)
    with pytest.raises(ValueError, match="same shape"):
        sigmoid_focal_loss(logits, targets[:3])
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\], got 2.0"):
        sigmoid_focal_loss(logits, targets * 2)
    for bad in (float("nan"), float("inf")):
        targets[2, 3] = bad
        with pytest.raises(ValueError, match=rf"targets must lie in \[0, 1\], got {bad}"):
            sigmoid_focal_loss(logits, targets)
    with pytest.raises(ValueError, match="inputs must be finite"):
        sigmoid_focal_loss(logits / 0, targets)
