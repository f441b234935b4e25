"""Matcher and BalancedSampler against torchvision's (``models.detection._utils``)."""

from __future__ import annotations

import pytest
import torch
from torchvision.models.detection._utils import BalancedPositiveNegativeSampler
from torchvision.models.detection._utils import Matcher as TvMatcher
from torchvision.ops import box_iou

from cnnlab.detection import BalancedSampler, Matcher


def _iou(seed: int, random_boxes, n_gt: int = 5, n_pred: int = 300) -> torch.Tensor:
    gt = random_boxes(n_gt, seed, size=100.0, max_side=50.0, min_side=10.0)
    pred = random_boxes(n_pred, seed + 1, size=100.0, max_side=50.0, min_side=10.0)
    return box_iou(gt, pred).float()


@pytest.mark.parametrize("low_quality", [False, True], ids=["strict", "low-quality"])
@pytest.mark.parametrize(("high", "low"), [(0.7, 0.3), (0.5, 0.4), (0.5, 0.5)], ids=str)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_equal_torchvision(
    random_boxes, seed: int, high: float, low: float, low_quality: bool
) -> None:
    iou = _iou(seed, random_boxes)
    ours = Matcher(high, low, allow_low_quality_matches=low_quality)(iou.clone())
    theirs = TvMatcher(high, low, allow_low_quality_matches=low_quality)(iou.clone())
    assert torch.equal(ours, theirs)
    assert {-2, -1} & set(ours.tolist())  # the thresholds did something


def test_low_quality_matches_by_hand() -> None:
    # gt 0 overlaps prediction 1 at most (0.2, below every threshold) and ties with prediction 2;
    # prediction 2 overlaps gt 1 more (0.3), so it stays matched to gt 1 (its own best).
    iou = torch.tensor([[0.1, 0.2, 0.2, 0.0], [0.0, 0.0, 0.3, 0.9]])
    assert Matcher(0.5, 0.4)(iou.clone()).tolist() == [-1, -1, -1, 1]
    assert Matcher(0.5, 0.4, allow_low_quality_matches=True)(iou.clone()).tolist() == [-1, 0, 1, 1]
    assert Matcher(0.5, 0.25)(iou.clone()).tolist() == [-1, -1, -2, 1]


@pytest.mark.parametrize(
    ("args", "message"),
    [((0.3, 0.7), "low_threshold must be <= high_threshold"), ((1.5, 0.3), "high_threshold")],
    ids=["low-above-high", "above-one"],
)
def test_bad_thresholds(args: tuple[float, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Matcher(*args)


def test_empty_matrix_is_an_error() -> None:
    with pytest.raises(ValueError, match="M >= 1 ground-truth boxes"):
        Matcher(0.5, 0.4)(torch.zeros(0, 10))


def test_sampler_draws_as_torchvision() -> None:
    g = torch.Generator().manual_seed(0)
    labels = [torch.randint(-1, 3, (500,), generator=g), torch.randint(-1, 1, (40,), generator=g)]
    torch.manual_seed(7)
    ours = BalancedSampler(64, 0.25)(labels)
    torch.manual_seed(7)
    theirs = BalancedPositiveNegativeSampler(64, 0.25)(labels)
    for a, b in zip(ours, theirs, strict=True):
        for x, y in zip(a, b, strict=True):
            assert torch.equal(x, y.bool())
    pos, neg = ours
    assert pos[0].sum() == 16 and neg[0].sum() == 48  # a quarter positive
    assert pos[1].sum() == 0 and neg[1].sum() == (labels[1] == 0).sum()  # no positives to draw
    assert not (pos[0] & (labels[0] < 1)).any() and not (neg[0] & (labels[0] != 0)).any()
