"""Non-maximum suppression: keep the best box of each cluster of overlapping boxes.

Greedy NMS sorts the boxes by score, keeps the best, drops every remaining box whose IoU with it is
above ``iou_threshold``, and repeats with the next survivor. The loop is written out in NumPy in
:func:`cnnlab.scratch.nms`; here ``torchvision.ops`` does the work (C++/CUDA) after the inputs
are checked, on a copy of the boxes made safe for its arithmetic:

- half-precision boxes are suppressed in float32 (a 256 x 256 box's area already overflows
  float16, and torchvision's CPU kernel has no half version);
- boxes so large that an area would overflow (float32 coordinates near 3e38) are scaled by a power
  of two first. IoU does not change under scaling, and a power of two scales every intermediate
  exactly, so the result is the one exact arithmetic would give. Ordinary boxes are not touched,
  so the kept indices are torchvision's, bit for bit.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch import Tensor
from torchvision import ops

from cnnlab.detection._checks import (
    check_boxes,
    check_iou_threshold,
    check_same_length,
    check_tensor,
    host_values,
)


@functools.cache
def _safe_exponent(dtype: torch.dtype) -> int:
    """Largest ``E`` such that boxes with ``|coordinate| < 2**E`` have finite areas and unions.

    A width is below ``2 * 2**E``, an area below ``4 * 4**E``, the sum of two areas (the union)
    below ``8 * 4**E``; that must stay under the dtype's largest value ``2**maxexp``. One more
    bit is kept for batched NMS, which shifts negative boxes to start at 0.
    """
    maxexp = math.frexp(torch.finfo(dtype).max)[1]
    return (maxexp - 4) // 2 - 1


def _working_copy(boxes: Tensor, scores: Tensor) -> tuple[Tensor, Tensor]:
    """The boxes and scores as torchvision's kernel will see them (see the module docstring)."""
    dtype = torch.promote_types(torch.promote_types(boxes.dtype, scores.dtype), torch.float32)
    boxes, scores = boxes.to(dtype), scores.to(dtype)
    if boxes.numel() == 0:
        return boxes, scores
    limit = _safe_exponent(dtype)
    values = host_values(boxes)
    if values is not None:  # on the CPU the answer is free: scale only when needed
        exponent = math.frexp(float(np.abs(values).max()))[1]  # |coordinates| < 2**exponent
        if exponent > limit:
            boxes = boxes * math.ldexp(1.0, limit - exponent)
        return boxes, scores
    # on an accelerator decide on the device: a scale of 2**0 = 1 leaves the boxes as they are
    exponent = torch.frexp(boxes.abs().amax()).exponent
    shift = (exponent - limit).clamp(min=0).to(dtype)
    return boxes * torch.exp2(-shift), scores


def _check(boxes: object, scores: object, iou_threshold: object) -> tuple[Tensor, Tensor, float]:
    threshold = check_iou_threshold(iou_threshold)
    boxes = check_boxes(boxes)
    scores = check_tensor(scores, "scores")
    if scores.dim() != 1:
        raise ValueError(f"scores must have shape (N,), got {tuple(scores.shape)}")
    check_same_length(boxes, "boxes", scores, "scores")
    if boxes.device != scores.device:
        raise ValueError(
            f"boxes and scores must be on the same device, got {boxes.device} and {scores.device}"
        )
    return boxes, scores, threshold


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy non-maximum suppression.

    Args:
        boxes: ``(x1, y1, x2, y2)`` boxes.
        scores: one score per box.
        iou_threshold: a box is discarded when its IoU with a kept, higher-scoring box is
            *greater* than this (in [0, 1]). Of two identical boxes only the better one stays
            (IoU 1), unless the threshold is 1; boxes of zero area have no IoU (``0 / 0``) and
            never suppress each other, as in torchvision.

    Returns:
        int64 indices of the kept boxes, sorted by decreasing score.

    Shape:
        boxes: (N, 4), scores: (N,) -> (K,)
    """
    boxes, scores, threshold = _check(boxes, scores, iou_threshold)
    boxes, scores = _working_copy(boxes, scores)
    return ops.nms(boxes, scores, threshold)


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """NMS within each category: boxes with different ``idxs`` never suppress each other.

    torchvision's ``batched_nms`` separates the categories by shifting each one's boxes by
    ``idx * (max coordinate + 1)``, which assumes coordinates ``>= 0``; here the boxes are first
    translated to start at 0 when some coordinate is negative, so the promise holds for every box.

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
    boxes, scores, threshold = _check(boxes, scores, iou_threshold)
    if not isinstance(idxs, Tensor) or idxs.dim() != 1 or idxs.is_floating_point():
        shape = tuple(idxs.shape) if isinstance(idxs, Tensor) else type(idxs).__name__
        raise ValueError(f"idxs must be an integer tensor of shape (N,), got {shape}")
    check_same_length(boxes, "boxes", idxs, "idxs")
    boxes, scores = _working_copy(boxes, scores)
    if boxes.numel():
        boxes = boxes - boxes.amin().clamp(max=0)  # exact no-op when no coordinate is negative
    return ops.batched_nms(boxes, scores, idxs, threshold)
