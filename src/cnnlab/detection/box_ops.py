"""Box formats, areas, IoU and generalised IoU.

Boxes are ``(x1, y1, x2, y2)`` with widths ``x2 - x1`` (no ``+ 1``), exactly as
``torchvision.ops``. The notes use the centre/size form ``(x, y, w, h)`` for the regression targets:
that is ``cxcywh`` here.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from cnnlab.core.names import unknown_name_message
from cnnlab.detection._checks import check_boxes, check_tensor


def _xywh_to_xyxy(b: Tensor) -> Tensor:
    x, y, w, h = b.unbind(-1)
    return torch.stack((x, y, x + w, y + h), dim=-1)


def _cxcywh_to_xyxy(b: Tensor) -> Tensor:
    cx, cy, w, h = b.unbind(-1)
    return torch.stack((cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h), dim=-1)


def _xyxy_to_xywh(b: Tensor) -> Tensor:
    x1, y1, x2, y2 = b.unbind(-1)
    return torch.stack((x1, y1, x2 - x1, y2 - y1), dim=-1)


def _xyxy_to_cxcywh(b: Tensor) -> Tensor:
    x1, y1, x2, y2 = b.unbind(-1)
    return torch.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=-1)


_TO_XYXY: dict[str, Callable[[Tensor], Tensor]] = {
    "xyxy": lambda b: b,
    "xywh": _xywh_to_xyxy,
    "cxcywh": _cxcywh_to_xyxy,
}
_FROM_XYXY: dict[str, Callable[[Tensor], Tensor]] = {
    "xyxy": lambda b: b,
    "xywh": _xyxy_to_xywh,
    "cxcywh": _xyxy_to_cxcywh,
}
BOX_FORMATS = tuple(_TO_XYXY)


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert boxes between ``xyxy``, ``xywh`` (corner + size) and ``cxcywh`` (centre + size).

    Args:
        boxes: boxes in ``in_fmt``; widths and heights must not be negative.
        in_fmt: one of ``"xyxy"``, ``"xywh"``, ``"cxcywh"``.
        out_fmt: one of the same.

    Returns:
        The boxes in ``out_fmt`` (a new tensor; ``boxes`` itself when the formats agree).

    Shape:
        boxes: (N, 4) -> (N, 4)

    Example:
        >>> box_convert(torch.tensor([[10.0, 20.0, 30.0, 60.0]]), "xyxy", "cxcywh")
        tensor([[20., 40., 20., 40.]])
    """
    for fmt in (in_fmt, out_fmt):
        if fmt not in _TO_XYXY:
            raise ValueError(unknown_name_message("box format", str(fmt), BOX_FORMATS))
    boxes = check_tensor(boxes, "boxes")
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4), got {tuple(boxes.shape)}")
    xyxy = check_boxes(_TO_XYXY[in_fmt](boxes), f"boxes (converted from {in_fmt} to xyxy)")
    if in_fmt == out_fmt:
        return boxes
    return _FROM_XYXY[out_fmt](xyxy)


def box_area(boxes: Tensor) -> Tensor:
    """Areas ``(x2 - x1) * (y2 - y1)`` of ``(x1, y1, x2, y2)`` boxes.

    Shape:
        boxes: (N, 4) -> (N,)
    """
    boxes = check_boxes(boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _inter_union(boxes1: Tensor, boxes2: Tensor) -> tuple[Tensor, Tensor]:
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    top_left = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter, area1[:, None] + area2[None, :] - inter


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise intersection over union, ``|A ∩ B| / |A ∪ B|``.

    Two boxes of zero area that do not overlap give ``0 / 0 = nan`` (as torchvision).

    Shape:
        boxes1: (N, 4), boxes2: (M, 4) -> (N, M)
    """
    inter, union = _inter_union(check_boxes(boxes1, "boxes1"), check_boxes(boxes2, "boxes2"))
    return inter / union


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise generalised IoU (Rezatofighi et al., 2019): ``IoU - |C \\ (A ∪ B)| / |C|``.

    ``C`` is the smallest box enclosing both; GIoU lies in [-1, 1] and, unlike IoU, still tells
    how far apart two disjoint boxes are.

    Shape:
        boxes1: (N, 4), boxes2: (M, 4) -> (N, M)
    """
    boxes1 = check_boxes(boxes1, "boxes1")
    boxes2 = check_boxes(boxes2, "boxes2")
    inter, union = _inter_union(boxes1, boxes2)
    top_left = torch.min(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = torch.max(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    enclosing = wh[..., 0] * wh[..., 1]
    return inter / union - (enclosing - union) / enclosing
