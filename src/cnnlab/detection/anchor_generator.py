"""Anchors over every level of a feature pyramid, for a batch of images.

Level ``l`` has its own anchor sizes and aspect ratios; its anchors are
:func:`cnnlab.detection.make_anchors` on that level's grid, with the stride of the level
(padded image size // feature-map size). The anchors of all levels are concatenated, finest
level first, in the order the heads' outputs are flattened.

How many anchors per position: Faster R-CNN on a single feature map uses 3 sizes x 3 ratios = 9
(so its RPN head predicts 36 + 18 numbers per position); with an FPN it uses **one size per
level** x 3 ratios = 3 anchors per position (sizes 32, 64, 128, 256, 512 on P2-P6: the
pyramid takes over the role of the scales). RetinaNet keeps 3 sizes per octave (``2^0``,
``2^(1/3)``, ``2^(2/3)``) x 3 ratios = **9 anchors per position** on each of P3-P7.

Same anchors as torchvision's ``AnchorGenerator`` (base anchors rounded to whole pixels, see
``round_base``), which the tests check.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from cnnlab.core.validate import InvalidArgument
from cnnlab.detection._checks import positive_numbers
from cnnlab.detection.anchors import make_anchors
from cnnlab.detection.transform import ImageBatch


def octave_sizes(base_sizes: Sequence[int], scales_per_octave: int = 3) -> tuple[tuple[int, ...]]:
    """RetinaNet's sizes: ``int(s * 2 ** (k / n))`` for ``k < n`` at each level's base size.

    Example:
        >>> octave_sizes((32, 64))
        ((32, 40, 50), (64, 80, 101))
    """
    return tuple(
        tuple(int(s * 2 ** (k / scales_per_octave)) for k in range(scales_per_octave))
        for s in base_sizes
    )


class AnchorGenerator(nn.Module):
    """Anchors of every pyramid level: ``len(sizes[l]) * len(aspect_ratios[l])`` per position.

    Args:
        sizes: per level, the anchor sizes in pixels (square root of the area).
        aspect_ratios: per level, the ratios height / width.
        round_base: round each level's base anchors to whole pixels (torchvision's anchors).

    Shape:
        images.tensors (N, C, H, W), features [(N, C_l, H_l, W_l)] -> N tensors
        (sum_l H_l * W_l * A_l, 4)
    """

    def __init__(
        self,
        sizes: Sequence[Sequence[float]] = ((128, 256, 512),),
        aspect_ratios: Sequence[Sequence[float]] = ((0.5, 1.0, 2.0),),
        round_base: bool = True,
    ) -> None:
        super().__init__()
        if len(sizes) != len(aspect_ratios) or not sizes:
            raise InvalidArgument(
                "sizes",
                f"sizes and aspect_ratios need one entry per pyramid level, got {len(sizes)} "
                f"and {len(aspect_ratios)}",
            )
        self.sizes = tuple(tuple(positive_numbers("sizes", s)) for s in sizes)
        self.aspect_ratios = tuple(
            tuple(positive_numbers("aspect_ratios", r)) for r in aspect_ratios
        )
        self.round_base = bool(round_base)

    def num_anchors_per_location(self) -> list[int]:
        """Anchors per position of each level."""
        return [len(s) * len(r) for s, r in zip(self.sizes, self.aspect_ratios, strict=True)]

    def forward(self, images: ImageBatch, features: Sequence[Tensor]) -> list[Tensor]:
        if len(features) != len(self.sizes):
            raise ValueError(
                f"AnchorGenerator has sizes for {len(self.sizes)} levels, got {len(features)} "
                "feature maps"
            )
        height, width = images.tensors.shape[-2:]
        dtype, device = features[0].dtype, features[0].device
        levels = []
        for feature, sizes, ratios in zip(features, self.sizes, self.aspect_ratios, strict=True):
            grid_h, grid_w = feature.shape[-2:]
            stride = (height // grid_h, width // grid_w)
            anchors = make_anchors(
                (grid_h, grid_w), stride, sizes, ratios, torch.float64, round_base=self.round_base
            )
            levels.append(anchors.to(dtype=dtype, device=device))
        anchors = torch.cat(levels)
        return [anchors for _ in images.image_sizes]

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}, aspect_ratios={self.aspect_ratios}"
