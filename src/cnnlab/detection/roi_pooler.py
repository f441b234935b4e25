"""RoI Align over a feature pyramid: each box is pooled from the level that suits its size.

FPN (Lin et al., 2017, eq. 1) assigns a box of width ``w`` and height ``h`` (in input pixels) to
level::

    k = floor(k0 + log2(sqrt(w h) / 224)),   clamped to the pyramid's levels

with ``k0 = 4``: a 224 x 224 box (an ImageNet-sized object) is pooled from P4, a box half as big
from P3, one twice as big from P5. Each level's ``spatial_scale`` is its size over the image's,
rounded to a power of two. The pooling itself is :func:`cnnlab.detection.roi_align`.

Same level rule, scales and result as ``torchvision.ops.MultiScaleRoIAlign`` (which a test
compares), except that the scales are worked out on every call instead of cached on the first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn
from torchvision.ops import box_area

from cnnlab.core.validate import int_pair, positive_int
from cnnlab.detection._checks import has_values
from cnnlab.detection.roi import roi_align


def _scale(feature: Tensor, image_size: tuple[int, int]) -> float:
    """The feature map's size over the image's (first axis), rounded to a power of two."""
    approx = float(feature.shape[-2]) / float(image_size[0])
    return 2 ** float(torch.tensor(approx, device="cpu").log2().round())  # also under meta


def fpn_levels(
    boxes: Tensor, k_min: int, k_max: int, canonical_scale: int = 224, canonical_level: int = 4
) -> Tensor:
    """FPN's eq. 1: the level of each box, ``floor(k0 + log2(sqrt(area) / 224))``, minus
    ``k_min`` (an index into the levels ``k_min ... k_max``).

    Shape:
        boxes: (K, 4) -> (K,) int64
    """
    s = torch.sqrt(box_area(boxes))
    eps = torch.tensor(1e-6, dtype=s.dtype)
    k = torch.floor(canonical_level + torch.log2(s / canonical_scale) + eps)
    return (k.clamp(min=k_min, max=k_max).to(torch.int64) - k_min).to(torch.int64)


class MultiScaleRoIAlign(nn.Module):
    """Pool each box from its FPN level with RoI Align.

    Args:
        featmap_names: which pyramid maps to pool from, finest first (``["0", "1", "2",
            "3"]``: P2-P5).
        output_size: ``(h, w)`` of each pooled feature (7 in Faster R-CNN).
        sampling_ratio: bilinear samples per bin side (2).
        canonical_scale: the box size pooled from ``canonical_level`` (224).
        canonical_level: ``k0`` of eq. 1 (4).

    Shape:
        features {name: (N, C, H_l, W_l)}, boxes N x (K_i, 4) -> (sum K_i, C, h, w)
    """

    def __init__(
        self,
        featmap_names: Sequence[str],
        output_size: int | tuple[int, int],
        sampling_ratio: int,
        *,
        canonical_scale: int = 224,
        canonical_level: int = 4,
    ) -> None:
        super().__init__()
        self.featmap_names = list(featmap_names)
        self.output_size = int_pair("output_size", output_size)
        self.sampling_ratio = int(sampling_ratio)
        self.canonical_scale = positive_int("canonical_scale", canonical_scale)
        self.canonical_level = positive_int("canonical_level", canonical_level)

    def forward(
        self,
        features: Mapping[str, Tensor],
        boxes: list[Tensor],
        image_sizes: list[tuple[int, int]],
    ) -> Tensor:
        maps = [v for k, v in features.items() if k in self.featmap_names]
        largest = (max(s[0] for s in image_sizes), max(s[1] for s in image_sizes))
        scales = [_scale(m, largest) for m in maps]
        rois = torch.cat(
            [torch.cat([torch.full_like(b[:, :1], i), b], dim=1) for i, b in enumerate(boxes)]
        )
        if len(maps) == 1 or not has_values(rois):  # meta: shapes only, any level will do
            return roi_align(maps[0], rois, self.output_size, scales[0], self.sampling_ratio)
        k_min, k_max = int(-math.log2(scales[0])), int(-math.log2(scales[-1]))
        levels = fpn_levels(
            torch.cat(boxes), k_min, k_max, self.canonical_scale, self.canonical_level
        )
        result = maps[0].new_zeros((rois.shape[0], maps[0].shape[1], *self.output_size))
        for level, (feature, scale) in enumerate(zip(maps, scales, strict=True)):
            idx = torch.where(levels == level)[0]
            pooled = roi_align(feature, rois[idx], self.output_size, scale, self.sampling_ratio)
            result[idx] = pooled.to(result.dtype)
        return result

    def extra_repr(self) -> str:
        return (
            f"featmap_names={self.featmap_names}, output_size={self.output_size}, "
            f"sampling_ratio={self.sampling_ratio}"
        )
