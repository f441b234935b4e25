"""Box formats, areas, IoU and GIoU against torchvision.ops."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
import torch
import torchvision.ops as tv

from cnnlab.detection import (
    BOX_FORMATS,
    box_area,
    box_convert,
    box_iou,
    generalized_box_iou,
)

BoxMaker = Callable[..., torch.Tensor]


def _with_degenerate(random_boxes: BoxMaker, n: int, seed: int) -> torch.Tensor:
    boxes = random_boxes(n, seed)
    boxes[::7, 2] = boxes[::7, 0]  # zero width
    boxes[3::11, 3] = boxes[3::11, 1]  # zero height
    return boxes


@pytest.mark.parametrize(
    "in_fmt,out_fmt",
    list(itertools.product(BOX_FORMATS, BOX_FORMATS)),
    ids=[f"{a}-to-{b}" for a, b in itertools.product(BOX_FORMATS, BOX_FORMATS)],
)
def test_box_convert_matches_torchvision(in_fmt: str, out_fmt: str, random_boxes: BoxMaker) -> None:
    xyxy = random_boxes(50, seed=1)
    given = tv.box_convert(xyxy, "xyxy", in_fmt)
    torch.testing.assert_close(
        box_convert(given, in_fmt, out_fmt), tv.box_convert(given, in_fmt, out_fmt)
    )


def test_box_convert_round_trip_and_hand_example(random_boxes: BoxMaker) -> None:
    box = torch.tensor([[10.0, 20.0, 30.0, 60.0]], dtype=torch.float64)
    # centre (20, 40), size (20, 40), worked by hand
    assert box_convert(box, "xyxy", "cxcywh").tolist() == [[20.0, 40.0, 20.0, 40.0]]
    assert box_convert(box, "xyxy", "xywh").tolist() == [[10.0, 20.0, 20.0, 40.0]]
    boxes = random_boxes(30, seed=2)
    back = box_convert(box_convert(boxes, "xyxy", "cxcywh"), "cxcywh", "xyxy")
    torch.testing.assert_close(back, boxes)


def test_box_area_matches_torchvision(random_boxes: BoxMaker) -> None:
    boxes = _with_degenerate(random_boxes, 100, seed=3)
    torch.testing.assert_close(box_area(boxes), tv.box_area(boxes), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
def test_box_iou_matches_torchvision(dtype: torch.dtype, random_boxes: BoxMaker) -> None:
    a = _with_degenerate(random_boxes, 80, seed=4).to(dtype)
    b = _with_degenerate(random_boxes, 60, seed=5).to(dtype)
    ours, ref = box_iou(a, b), tv.box_iou(a, b)
    assert ours.shape == (80, 60)
    torch.testing.assert_close(ours, ref, equal_nan=True)
    assert ours[~ours.isnan()].max() <= 1 and ours[~ours.isnan()].min() >= 0


def test_box_iou_by_hand() -> None:
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [2.0, 0.0, 4.0, 2.0], [0.0, 0.0, 2.0, 2.0]])
    # overlap 1 of union 4 + 4 - 1 = 7; touching edges: 0; identical: 1
    torch.testing.assert_close(box_iou(a, b), torch.tensor([[1 / 7, 0.0, 1.0]]))


def test_generalized_box_iou_matches_torchvision(random_boxes: BoxMaker) -> None:
    a, b = random_boxes(70, seed=6), random_boxes(40, seed=7)
    ours = generalized_box_iou(a, b)
    torch.testing.assert_close(ours, tv.generalized_box_iou(a, b))
    assert ours.min() >= -1 and ours.max() <= 1
    # disjoint boxes: IoU 0 for all, GIoU still ranks them by distance
    near = torch.tensor([[3.0, 0.0, 5.0, 2.0], [10.0, 0.0, 12.0, 2.0]])
    g = generalized_box_iou(torch.tensor([[0.0, 0.0, 2.0, 2.0]]), near)
    # by hand: C = 5 x 2 = 10, union 8 -> -0.2; C = 12 x 2 = 24, union 8 -> -2/3
    torch.testing.assert_close(g, torch.tensor([[-0.2, -2 / 3]]))


BAD_BOXES = {
    "x2-lt-x1": torch.tensor([[5.0, 0.0, 4.0, 1.0]]),
    "y2-lt-y1": torch.tensor([[0.0, 5.0, 1.0, 4.0]]),
    "nan": torch.tensor([[0.0, 0.0, float("nan"), 1.0]]),
    "inf": torch.tensor([[0.0, 0.0, float("inf"), 1.0]]),
    "shape": torch.zeros(3, 5),
    "integer": torch.zeros(2, 4, dtype=torch.int64),
}


@pytest.mark.parametrize("name", list(BAD_BOXES), ids=list(BAD_BOXES))
def test_bad_boxes_raise(name: str, random_boxes: BoxMaker) -> None:
    good = random_boxes(3, seed=8).float()
    bad = BAD_BOXES[name]
    for call in (
        lambda: box_iou(bad, good),
        lambda: generalized_box_iou(good, bad),
        lambda: box_area(bad),
        lambda: box_convert(bad, "xyxy", "cxcywh"),
    ):
        with pytest.raises(ValueError, match="boxes"):
            call()


def test_bad_box_message_names_the_box() -> None:
    with pytest.raises(ValueError, match=r"boxes1\[1\] = \[5.0, 0.0, 4.0, 1.0\] has width -1"):
        box_iou(torch.tensor([[0.0, 0.0, 1.0, 1.0], [5.0, 0.0, 4.0, 1.0]]), torch.zeros(1, 4))


@pytest.mark.parametrize("fmt", ["xywh", "cxcywh"])
def test_negative_size_in_xywh_raises(fmt: str) -> None:
    with pytest.raises(ValueError, match=rf"boxes\[1\] = .* has height -2; {fmt} boxes are"):
        box_convert(torch.tensor([[0.0, 0.0, 1.0, 2.0], [0.0, 0.0, 1.0, -2.0]]), fmt, "xyxy")


def test_unknown_format_lists_close_matches() -> None:
    with pytest.raises(ValueError, match="did you mean cxcywh"):
        box_convert(torch.zeros(1, 4), "cxcyhw", "xyxy")
    with pytest.raises(ValueError, match=r"must be a torch\.Tensor"):
        box_iou([[0.0, 0.0, 1.0, 1.0]], torch.zeros(1, 4))  # type: ignore[arg-type]
