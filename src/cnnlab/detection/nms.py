"""Non-maximum suppression: keep the best box of each cluster of overlapping boxes.

Greedy NMS sorts the boxes by score, keeps the best, drops every remaining box whose IoU with it is
above ``iou_threshold``, and repeats with the next survivor. The loop is written out in NumPy in
:func:`cnnlab.scratch.nms`; here ``torchvision.ops`` does the work (C++/CUDA) after the inputs
are checked.
"""

from __future__ import annotations

from torch import Tensor
from torchvision import ops

from cnnlab.detection._checks import (
    check_boxes,
    check_iou_threshold,
    check_same_length,
    check_tensor,
)


def _check_scores(boxes: object, scores: object, iou_threshold: object) -> tuple[Tensor, Tensor]:
    boxes = check_boxes(boxes)
    scores = check_tensor(scores, "scores")
    if scores.dim() != 1:
        raise ValueError(f"scores must have shape (N,), got {tuple(scores.shape)}")
    check_same_length(boxes, "boxes", scores, "scores")
    check_iou_threshold(iou_threshold)
    return boxes, scores.to(boxes.dtype)


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy non-maximum suppression.

    Args:
        boxes: ``(x1, y1, x2, y2)`` boxes.
        scores: one score per box.
        iou_threshold: a box is discarded when its IoU with a kept, higher-scoring box is
            *greater* than this (in [0, 1]).

    Returns:
        int64 indices of the kept boxes, sorted by decreasing score.

    Shape:
        boxes: (N, 4), scores: (N,) -> (K,)
    """
    boxes, scores = _check_scores(boxes, scores, iou_threshold)
    return ops.nms(boxes, scores, float(iou_threshold))


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """NMS within each category: boxes with different ``idxs`` never suppress each other.

    Args:
        boxes: ``(x1, y1, x2, y2)`` boxes.
        scores: one score per box.
        idxs: integer category of each box.
        iou_threshold: as for :func:`nms`.

    Returns:
        int64 indices of the kept boxes, sorted by decreasing score.

    Shape:
        boxes: (N, 4), scores: (N,), idxs: (N,) -> (K,)
    """
    boxes, scores = _check_scores(boxes, scores, iou_threshold)
    if not isinstance(idxs, Tensor) or idxs.dim() != 1 or idxs.is_floating_point():
        shape = tuple(idxs.shape) if isinstance(idxs, Tensor) else type(idxs).__name__
        raise ValueError(f"idxs must be an integer tensor of shape (N,), got {shape}")
    check_same_length(boxes, "boxes", idxs, "idxs")
    return ops.batched_nms(boxes, scores, idxs, float(iou_threshold))
