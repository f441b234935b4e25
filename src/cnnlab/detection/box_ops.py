"""Box formats, areas, IoU and generalised IoU: torchvision's functions, after our checks.

Boxes are ``(x1, y1, x2, y2)`` with widths ``x2 - x1`` (no ``+ 1``), exactly as
``torchvision.ops``. The notes use the centre/size form ``(x, y, w, h)`` for the regression targets:
that is ``cxcywh`` here. The arithmetic is torchvision's (``torchvision.ops.box_iou`` and friends,
which also compute half-precision boxes in float32); what cnnlab adds is the check of the inputs
(see :mod:`cnnlab.detection._checks` for which checks run on which device) and an error that
names the box at fault instead of a silent ``nan``.
"""

from __future__ import annotations

from torch import Tensor
from torchvision import ops

from cnnlab.core.validate import one_of
from cnnlab.detection._checks import check_boxes

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
"""The axis-aligned box formats: corners, corner + size, centre + size."""


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert boxes between ``xyxy``, ``xywh`` (corner + size) and ``cxcywh`` (centre + size).

    Args:
        boxes: boxes in ``in_fmt``; widths and heights must not be negative.
        in_fmt: one of ``"xyxy"``, ``"xywh"``, ``"cxcywh"``.
        out_fmt: one of the same.

    Returns:
        The boxes in ``out_fmt``, a new tensor (``torchvision.ops.box_convert``).

    Shape:
        boxes: (N, 4) -> (N, 4)

    Example:
        >>> box_convert(torch.tensor([[10.0, 20.0, 30.0, 60.0]]), "xyxy", "cxcywh")
        tensor([[20., 40., 20., 40.]])
    """
    one_of("in_fmt", in_fmt, BOX_FORMATS)
    one_of("out_fmt", out_fmt, BOX_FORMATS)
    boxes = check_boxes(boxes, fmt=in_fmt)
    return ops.box_convert(boxes, in_fmt, out_fmt)


def box_area(boxes: Tensor) -> Tensor:
    """Areas ``(x2 - x1) * (y2 - y1)`` of ``(x1, y1, x2, y2)`` boxes.

    Shape:
        boxes: (N, 4) -> (N,)
    """
    return ops.box_area(check_boxes(boxes))


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise intersection over union, ``|A ∩ B| / |A ∪ B|``.

    Two boxes of zero area that do not overlap give ``0 / 0 = nan`` (as torchvision).

    Shape:
        boxes1: (N, 4), boxes2: (M, 4) -> (N, M)
    """
    return ops.box_iou(check_boxes(boxes1, "boxes1"), check_boxes(boxes2, "boxes2"))


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise generalised IoU (Rezatofighi et al., 2019): ``IoU - |C \\ (A ∪ B)| / |C|``.

    ``C`` is the smallest box enclosing both; GIoU lies in [-1, 1] and, unlike IoU, still tells
    how far apart two disjoint boxes are.

    Shape:
        boxes1: (N, 4), boxes2: (M, 4) -> (N, M)
    """
    return ops.generalized_box_iou(check_boxes(boxes1, "boxes1"), check_boxes(boxes2, "boxes2"))
