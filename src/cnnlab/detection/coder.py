"""Bounding-box regression targets: R-CNN's equations (1)-(4) and (6)-(9).

A proposal ``P`` and its ground truth ``G`` are written in centre/size form ``(x, y, w, h)``.
The regression target is the shift in units of the proposal's size and the log of the scale::

    t_x = (G_x - P_x) / P_w      (6)        G^_x = P_w d_x(P) + P_x     (1)
    t_y = (G_y - P_y) / P_h      (7)        G^_y = P_h d_y(P) + P_y     (2)
    t_w = log(G_w / P_w)         (8)        G^_w = P_w exp(d_w(P))      (3)
    t_h = log(G_h / P_h)         (9)        G^_h = P_h exp(d_h(P))      (4)

Faster R-CNN multiplies the targets by weights ``(wx, wy, ww, wh)`` (``(10, 10, 5, 5)`` in
torchvision's detection heads) and, when decoding, clamps ``d_w``, ``d_h`` at ``log(1000 / 16)``
before the exponential so that a wild prediction gives a big but finite box.

Written out here for the notes: torchvision's equivalent, ``BoxCoder`` in its private
``torchvision.models.detection._utils``, is no public API to build on; the tests compare the two
(weights ``(1, 1, 1, 1)`` and ``(10, 10, 5, 5)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from cnnlab.core.validate import number
from cnnlab.detection._checks import (
    check_boxes,
    check_same_length,
    check_tensor,
    check_weights,
)

BBOX_XFORM_CLIP = math.log(1000.0 / 16)
"""Largest ``d_w``/``d_h`` passed to ``exp`` when decoding (a box at most 62.5x its proposal)."""


def _centre_size(boxes: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h, w, h


def encode_boxes(
    proposals: Tensor,
    gt_boxes: Tensor,
    weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
) -> Tensor:
    """Regression targets ``t = (t_x, t_y, t_w, t_h)`` taking each proposal to its ground truth.

    Args:
        proposals: boxes ``P`` in ``(x1, y1, x2, y2)``, with positive width and height.
        gt_boxes: matched ground-truth boxes ``G``, one per proposal, positive width and height.
        weights: ``(wx, wy, ww, wh)`` multiplying the four targets.

    Returns:
        ``(wx t_x, wy t_y, ww t_w, wh t_h)`` per row, eq. (6)-(9) of R-CNN.

    Shape:
        proposals: (N, 4), gt_boxes: (N, 4) -> (N, 4)
    """
    proposals = check_boxes(proposals, "proposals", positive=True)
    gt_boxes = check_boxes(gt_boxes, "gt_boxes", positive=True)
    check_same_length(proposals, "proposals", gt_boxes, "gt_boxes")
    wx, wy, ww, wh = check_weights(weights)
    px, py, pw, ph = _centre_size(proposals)
    gx, gy, gw, gh = _centre_size(gt_boxes.to(proposals.dtype))
    return torch.stack(
        (
            wx * (gx - px) / pw,
            wy * (gy - py) / ph,
            ww * torch.log(gw / pw),
            wh * torch.log(gh / ph),
        ),
        dim=1,
    )


def decode_boxes(
    proposals: Tensor,
    deltas: Tensor,
    weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
    clip: float = BBOX_XFORM_CLIP,
) -> Tensor:
    """Apply predicted offsets ``d(P)`` to proposals: R-CNN's eq. (1)-(4), the inverse of encode.

    Args:
        proposals: boxes ``P`` in ``(x1, y1, x2, y2)``.
        deltas: ``(wx d_x, wy d_y, ww d_w, wh d_h)`` per proposal; ``4 K`` columns give ``K``
            boxes per proposal (one per class, as Fast R-CNN's class-specific regression).
        weights: the weights used when encoding.
        clip: ``d_w`` and ``d_h`` are clamped to at most this before ``exp`` (default
            ``log(1000 / 16)``, as Faster R-CNN).

    Returns:
        The regressed boxes ``G^`` in ``(x1, y1, x2, y2)``, in the dtype of ``deltas``.

    Shape:
        proposals: (N, 4), deltas: (N, 4K) -> (N, 4K)
    """
    proposals = check_boxes(proposals, "proposals")
    deltas = check_tensor(deltas, "deltas")
    if deltas.dim() != 2 or deltas.shape[1] == 0 or deltas.shape[1] % 4:
        raise ValueError(f"deltas must have shape (N, 4K), got {tuple(deltas.shape)}")
    check_same_length(proposals, "proposals", deltas, "deltas")
    wx, wy, ww, wh = check_weights(weights)
    clip = number("clip", clip)
    px, py, pw, ph = (v[:, None] for v in _centre_size(proposals.to(deltas.dtype)))
    dx = deltas[:, 0::4] / wx
    dy = deltas[:, 1::4] / wy
    dw = (deltas[:, 2::4] / ww).clamp(max=clip)
    dh = (deltas[:, 3::4] / wh).clamp(max=clip)
    cx = pw * dx + px
    cy = ph * dy + py
    half_w = 0.5 * (pw * torch.exp(dw))
    half_h = 0.5 * (ph * torch.exp(dh))
    boxes = torch.stack((cx - half_w, cy - half_h, cx + half_w, cy + half_h), dim=2)
    return boxes.flatten(1)
