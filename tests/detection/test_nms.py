"""nms and batched_nms: identical kept indices to torchvision.ops, and the NMS contract itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torchvision.ops as tv

from cnnlab.detection import batched_nms, box_iou, nms

BoxMaker = Callable[..., torch.Tensor]
THRESHOLDS = [0.0, 0.3, 0.5, 0.7, 1.0]


def _scores(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("iou_threshold", THRESHOLDS, ids=[f"t{t}" for t in THRESHOLDS])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
def test_nms_matches_torchvision(
    random_boxes: BoxMaker, iou_threshold: float, dtype: torch.dtype
) -> None:
    boxes, scores = random_boxes(3000, seed=30).to(dtype), _scores(3000, 31).to(dtype)
    keep = nms(boxes, scores, iou_threshold)
    assert keep.dtype == torch.int64
    assert torch.equal(keep, tv.nms(boxes, scores, iou_threshold))


@pytest.mark.parametrize("iou_threshold", [0.2, 0.5], ids=["t0.2", "t0.5"])
def test_nms_contract(random_boxes: BoxMaker, iou_threshold: float) -> None:
    """Checked from the definition, not against a library."""
    boxes, scores = random_boxes(400, seed=32), _scores(400, 33)
    keep = nms(boxes, scores, iou_threshold)
    assert torch.all(scores[keep][:-1] >= scores[keep][1:]), "not sorted by decreasing score"
    iou = box_iou(boxes, boxes)
    kept_iou = iou[keep][:, keep] - torch.eye(len(keep), dtype=iou.dtype)
    assert kept_iou.max() <= iou_threshold, "two survivors overlap above the threshold"
    dropped = torch.ones(400, dtype=torch.bool)
    dropped[keep] = False
    for j in torch.nonzero(dropped).flatten():
        better = keep[scores[keep] > scores[j]]
        assert (iou[j, better] > iou_threshold).any(), f"box {int(j)} dropped without a reason"


def test_batched_nms_matches_torchvision(random_boxes: BoxMaker) -> None:
    boxes, scores = random_boxes(2000, seed=34), _scores(2000, 35)
    idxs = torch.randint(0, 5, (2000,), generator=torch.Generator().manual_seed(36))
    for t in (0.3, 0.6):
        keep = batched_nms(boxes, scores, idxs, t)
        assert torch.equal(keep, tv.batched_nms(boxes, scores, idxs, t))
    # classes never suppress each other: the union of per-class NMS
    keep = batched_nms(boxes, scores, idxs, 0.5)
    per_class = torch.cat(
        [
            torch.nonzero(idxs == c).flatten()[nms(boxes[idxs == c], scores[idxs == c], 0.5)]
            for c in range(5)
        ]
    )
    assert sorted(keep.tolist()) == sorted(per_class.tolist())


def test_empty_input() -> None:
    keep = nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert keep.shape == (0,) and keep.dtype == torch.int64


def test_bad_inputs() -> None:
    boxes = torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0]])
    scores = torch.tensor([0.9, 0.8])
    for t in (-0.1, 1.5):
        with pytest.raises(ValueError, match=rf"iou_threshold must be in \[0, 1\], got {t}"):
            nms(boxes, scores, t)
    with pytest.raises(ValueError, match="same length, got 2 and 3"):
        nms(boxes, torch.rand(3), 0.5)
    with pytest.raises(ValueError, match=r"boxes\[1\].*x2 >= x1"):
        nms(torch.tensor([[0.0, 0.0, 2.0, 2.0], [3.0, 1.0, 1.0, 3.0]]), scores, 0.5)
    with pytest.raises(ValueError, match="scores must be finite"):
        nms(boxes, torch.tensor([0.9, float("nan")]), 0.5)
    with pytest.raises(ValueError, match=r"scores must have shape \(N,\)"):
        nms(boxes, scores[:, None], 0.5)
    with pytest.raises(ValueError, match="idxs must be an integer tensor"):
        batched_nms(boxes, scores, torch.tensor([0.0, 1.0]), 0.5)
    with pytest.raises(ValueError, match="same length"):
        batched_nms(boxes, scores, torch.tensor([0, 1, 1]), 0.5)
