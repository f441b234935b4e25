"""RPN anchors: ``len(scales) * len(ratios)`` reference boxes at every feature-map position.

Faster R-CNN (Ren et al., 2015, sec. 3.1.1) places k = 3 scales x 3 aspect ratios = 9 anchors at
each position of the conv feature map, so its RPN predicts 4k = 36 box offsets and 2k = 18
objectness scores per position.

Conventions follow torchvision's ``AnchorGenerator``: ratio = height / width, an anchor of scale
``s`` and ratio ``r`` has width ``s / sqrt(r)`` and height ``s * sqrt(r)`` (area ``s**2``), the
anchors of position ``(i, j)`` are centred at ``(j * stride, i * stride)`` and the rows are
ordered position-major (row by row), then ratio, then scale. One difference: torchvision rounds
the base anchors to whole pixels, cnnlab does not by default, so areas are exactly ``s**2`` and
ratios exact; ``round_base=True`` rounds them as torchvision does (the detectors use it, so that
their anchors, hence their detections, are torchvision's).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from cnnlab.core.validate import int_pair
from cnnlab.detection._checks import positive_numbers


def make_anchors(
    feature_size: int | tuple[int, int],
    stride: int | tuple[int, int],
    scales: Sequence[float] = (128, 256, 512),
    ratios: Sequence[float] = (0.5, 1.0, 2.0),
    dtype: torch.dtype = torch.float32,
    round_base: bool = False,
) -> Tensor:
    """All anchors of one feature map, in image pixels.

    Args:
        feature_size: ``(H, W)`` of the feature map (an int for a square).
        stride: image pixels per feature-map cell, ``(s_y, s_x)`` or an int (16 for VGG-16 conv5).
        scales: anchor sizes in pixels (square root of the area).
        ratios: aspect ratios height / width.
        dtype: floating dtype of the result.
        round_base: round the anchors of one position to whole pixels (half to even) before
            shifting them over the grid, as torchvision's ``AnchorGenerator``.

    Returns:
        ``(x1, y1, x2, y2)`` anchors; row ``(i * W + j) * A + r * len(scales) + s`` is the anchor
        of scale ``s`` and ratio ``r`` at position ``(i, j)``, with ``A = len(scales) *
        len(ratios)``.

    Shape:
        -> (H * W * A, 4)
    """
    height, width = int_pair("feature_size", feature_size)
    stride_y, stride_x = int_pair("stride", stride)
    scale_t = torch.tensor(positive_numbers("scales", scales), dtype=torch.float64)
    ratio_t = torch.tensor(positive_numbers("ratios", ratios), dtype=torch.float64)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating-point dtype, got {dtype}")
    h_ratio = torch.sqrt(ratio_t)
    ws = (scale_t[None, :] / h_ratio[:, None]).reshape(-1)
    hs = (scale_t[None, :] * h_ratio[:, None]).reshape(-1)
    base = torch.stack((-ws, -hs, ws, hs), dim=1) / 2
    if round_base:
        base = base.round()
    ys = torch.arange(height, dtype=torch.float64) * stride_y
    xs = torch.arange(width, dtype=torch.float64) * stride_x
    cy, cx = torch.meshgrid(ys, xs, indexing="ij")
    shifts = torch.stack((cx, cy, cx, cy), dim=-1).reshape(-1, 1, 4)
    return (shifts + base[None]).reshape(-1, 4).to(dtype)
