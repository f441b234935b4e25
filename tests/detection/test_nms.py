"""nms and batched_nms: identical kept indices to torchvision.ops, and the NMS contract itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torchvision.ops as tv

from cnnlab.core.validate import InvalidArgument
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
    for t in (-0.1, 1.5, float("nan"), "0.5"):
        with pytest.raises(
            InvalidArgument, match=rf"^iou_threshold must be a finite number in \[0, 1\], got {t!r}"
        ):
            nms(boxes, scores, t)  # type: ignore[arg-type]
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


HUGE = 3e38  # float32's largest finite value is 3.4e38: the area (9e76) overflows to inf there


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("iou_threshold", [0.0, 0.5, 0.99], ids=["t0", "t0.5", "t0.99"])
@pytest.mark.parametrize("side", [10.0, HUGE], ids=["side10", "side3e38"])
def test_nms_keeps_one_of_two_identical_boxes(
    side: float, iou_threshold: float, dtype: torch.dtype
) -> None:
    """By hand: identical boxes have IoU exactly 1 > threshold, so only the better one stays."""
    boxes = torch.tensor([[0.0, 0.0, side, side], [0.0, 0.0, side, side]], dtype=dtype)
    scores = torch.tensor([0.8, 0.9], dtype=dtype)
    assert nms(boxes, scores, iou_threshold).tolist() == [1]
    idxs = torch.tensor([3, 3])
    assert batched_nms(boxes, scores, idxs, iou_threshold).tolist() == [1]


def test_nms_at_huge_coordinates_by_hand() -> None:
    """Boxes near float32's limit: IoU(a, b) = 1/2, IoU(a, c) = 1/3, IoU(b, c) = 0 (worked by
    hand at side 1 and scaled); threshold 0.4 drops b only, 0.3 drops b and c."""
    s = HUGE / 3
    a = [0.0, 0.0, 2 * s, s]
    b = [0.0, 0.0, s, s]  # half of a
    c = [s, 0.0, 3 * s, s]  # overlaps a on [s, 2s]: inter 1, union 3
    boxes = torch.tensor([a, b, c], dtype=torch.float32)
    assert torch.isinf(tv.box_area(boxes)).all()  # what broke torchvision's arithmetic
    scores = torch.tensor([0.9, 0.8, 0.7])
    assert nms(boxes, scores, 0.4).tolist() == [0, 2]
    assert nms(boxes, scores, 0.3).tolist() == [0]
    # the same boxes at a sane scale, where torchvision is the oracle
    small = torch.tensor([[0.0, 0, 2, 1], [0, 0, 1, 1], [1, 0, 3, 1]])
    for t in (0.3, 0.4):
        assert nms(boxes, scores, t).tolist() == tv.nms(small, scores, t).tolist()
    # and a tiny box far from the huge ones is untouched
    mixed = torch.cat([boxes, torch.tensor([[-HUGE, -HUGE, -HUGE + 1e32, -HUGE + 1e32]])])
    assert nms(mixed, torch.tensor([0.9, 0.8, 0.7, 0.95]), 0.4).tolist() == [3, 0, 2]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["f16", "bf16"])
def test_nms_in_half_precision_matches_float32(random_boxes: BoxMaker, dtype: torch.dtype) -> None:
    """Half-precision boxes (areas overflow float16 above 256 x 256) are suppressed in float32;
    torchvision's CPU kernel has no half version at all."""
    boxes = (random_boxes(500, seed=37) * 4).to(dtype)
    scores = _scores(500, 38).to(dtype)
    keep = nms(boxes, scores, 0.5)
    assert torch.equal(keep, tv.nms(boxes.float(), scores.float(), 0.5))


def test_batched_nms_never_suppresses_across_classes_with_negative_coordinates() -> None:
    """torchvision's offset trick assumes x1, y1 >= 0: with max coordinate 10 the class-1 box is
    shifted by 11 onto the class-0 box and suppressed. Different classes must never interact."""
    boxes = torch.tensor([[5.0, 0.0, 10.0, 10.0], [-6.0, -11.0, -1.0, -1.0]])
    scores = torch.tensor([0.9, 0.8])
    idxs = torch.tensor([0, 1])
    assert tv.batched_nms(boxes, scores, idxs, 0.5).tolist() == [0]  # the trap
    assert batched_nms(boxes, scores, idxs, 0.5).tolist() == [0, 1]


def test_batched_nms_matches_torchvision_on_shifted_boxes(random_boxes: BoxMaker) -> None:
    """Boxes partly at negative coordinates: the union of per-class torchvision NMS."""
    boxes = random_boxes(1500, seed=39) - 100.0
    scores = _scores(1500, 40)
    idxs = torch.randint(0, 4, (1500,), generator=torch.Generator().manual_seed(41))
    keep = batched_nms(boxes, scores, idxs, 0.5)
    per_class = [
        torch.nonzero(idxs == c).flatten()[tv.nms(boxes[idxs == c], scores[idxs == c], 0.5)]
        for c in range(4)
    ]
    expected = torch.cat(per_class)
    expected = expected[scores[expected].argsort(descending=True)]
    assert torch.equal(keep, expected)


def test_batched_nms_at_huge_coordinates() -> None:
    s = HUGE / 3
    boxes = torch.tensor([[0.0, 0.0, 2 * s, s], [0.0, 0.0, s, s], [0.0, 0.0, s, s]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    # class 0 holds a and b (IoU 1/2 > 0.4: b dropped); class 1 holds c alone
    assert batched_nms(boxes, scores, torch.tensor([0, 0, 1]), 0.4).tolist() == [0, 2]
