"""The checking policy: values are checked on the CPU, never read back from another device.

A tensor on the meta device has a shape and a dtype but no values: reading one (``.item()``,
``bool()``, ``.tolist()``) raises. Every function that runs on meta tensors below therefore never
waits for a value, which on CUDA would be a host synchronisation per call. The same calls on CPU
tensors with a bad value must raise.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torchvision

from cnnlab import detection

Call = Callable[[str, torch.Tensor], object]


def _boxes(device: str, bad: float | None = None) -> torch.Tensor:
    boxes = torch.tensor([[0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 5.0, 6.0], [2.0, 0.0, 3.0, 9.0]])
    if bad is not None:
        boxes[1, 2] = bad
    return boxes.to(device)


# name -> (call on boxes that live on `device`, shape of the result)
CALLS: dict[str, tuple[Call, tuple[int, ...]]] = {
    "box_iou": (lambda d, b: detection.box_iou(b, _boxes(d)), (3, 3)),
    "generalized_box_iou": (lambda d, b: detection.generalized_box_iou(_boxes(d), b), (3, 3)),
    "box_area": (lambda d, b: detection.box_area(b), (3,)),
    "box_convert": (lambda d, b: detection.box_convert(b, "xyxy", "cxcywh"), (3, 4)),
    "encode_boxes": (lambda d, b: detection.encode_boxes(b, _boxes(d) + 1), (3, 4)),
    "decode_boxes": (lambda d, b: detection.decode_boxes(_boxes(d), b), (3, 4)),
    "roi_pool": (
        lambda d, b: detection.roi_pool(torch.zeros(1, 2, 8, 8, device=d), [b], 2),
        (3, 2, 2, 2),
    ),
    "roi_align": (
        lambda d, b: detection.roi_align(
            torch.zeros(2, 2, 8, 8, device=d),
            torch.cat([torch.zeros(3, 1, device=d), b], dim=1),
            (2, 3),
        ),
        (3, 2, 2, 3),
    ),
    "sigmoid_focal_loss": (
        lambda d, b: detection.sigmoid_focal_loss(b, torch.ones(3, 4, device=d)),
        (3, 4),
    ),
}


@pytest.mark.parametrize("name", list(CALLS), ids=list(CALLS))
def test_no_value_is_read_off_the_cpu(name: str) -> None:
    call, shape = CALLS[name]
    out = call("meta", _boxes("meta"))
    assert isinstance(out, torch.Tensor) and out.device.type == "meta"
    assert tuple(out.shape) == shape


@pytest.mark.parametrize("name", list(CALLS), ids=list(CALLS))
def test_values_are_checked_on_the_cpu(name: str) -> None:
    call, _ = CALLS[name]
    call("cpu", _boxes("cpu"))  # fine as it is
    with pytest.raises(ValueError, match="must be finite, got nan"):
        call("cpu", _boxes("cpu", bad=float("nan")))


@pytest.mark.parametrize("batched", [False, True], ids=["nms", "batched_nms"])
def test_nms_reads_no_value_off_the_cpu(batched: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """torchvision's NMS itself returns a data-dependent size, which meta tensors cannot hold,
    so its kernel is replaced by a recorder: the checks and the overflow guard run up to it."""
    seen: list[torch.Tensor] = []

    def kernel(boxes: torch.Tensor, scores: torch.Tensor, *rest: object) -> torch.Tensor:
        seen.append(boxes)
        return torch.zeros(0, dtype=torch.int64, device=boxes.device)

    monkeypatch.setattr(torchvision.ops, "batched_nms" if batched else "nms", kernel)
    boxes, scores = _boxes("meta"), torch.ones(3, device="meta")
    if batched:
        keep = detection.batched_nms(
            boxes, scores, torch.zeros(3, dtype=torch.int64, device="meta"), 0.5
        )
    else:
        keep = detection.nms(boxes, scores, 0.5)
    assert keep.device.type == "meta"
    assert len(seen) == 1 and seen[0].device.type == "meta" and seen[0].shape == (3, 4)


def test_boxes_and_scores_on_different_devices() -> None:
    with pytest.raises(ValueError, match="same device, got cpu and meta"):
        detection.nms(_boxes("cpu"), torch.ones(3, device="meta"), 0.5)
