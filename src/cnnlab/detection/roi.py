"""RoI Pooling (Fast R-CNN) and RoI Align (Mask R-CNN): a fixed-size feature per box.

RoI Pool rounds the box to the feature grid (``round(x * spatial_scale)``), splits it into
``output_size`` bins with floor/ceil edges and takes the maximum of each bin; the rounding
misaligns box and feature by up to half a cell. RoI Align keeps the box continuous, samples each
bin at ``sampling_ratio`` x ``sampling_ratio`` bilinearly interpolated points and averages them;
``aligned=True`` shifts the box by half a pixel so that pixel centres sit at ``k + 0.5``.

Both call ``torchvision.ops`` (same signatures) after checking the inputs. The NumPy version of
RoI Pool, loops written out, is :func:`cnnlab.scratch.roi_pool`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torchvision import ops

from cnnlab.detection._checks import check_boxes, check_tensor, pair


def _check_rois(
    input: Tensor, boxes: Tensor | list[Tensor], output_size: int | tuple[int, int], scale: float
) -> Tensor | list[Tensor]:
    """Check the arguments; return the boxes in the dtype of ``input`` (torchvision needs it)."""
    input = check_tensor(input, "input")
    if input.dim() != 4:
        raise ValueError(f"input must have shape (N, C, H, W), got {tuple(input.shape)}")
    pair(output_size, "output_size")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
        raise ValueError(f"spatial_scale must be a positive number, got {scale!r}")
    if not math.isfinite(scale):
        raise ValueError(f"spatial_scale must be finite, got {scale!r}")
    if isinstance(boxes, (list, tuple)):
        if len(boxes) != input.shape[0]:
            raise ValueError(
                f"boxes as a list needs one (K_i, 4) tensor per image: got {len(boxes)} "
                f"tensors for a batch of {input.shape[0]}"
            )
        return [check_boxes(b, f"boxes[{i}]").to(input.dtype) for i, b in enumerate(boxes)]
    rois = check_tensor(boxes, "boxes")
    if rois.dim() != 2 or rois.shape[1] != 5:
        raise ValueError(
            f"boxes must be a (K, 5) tensor (batch index, x1, y1, x2, y2) or a list of "
            f"(K_i, 4) tensors, got shape {tuple(rois.shape)}"
        )
    index = rois[:, 0]
    bad = (index != index.round()) | (index < 0) | (index >= input.shape[0])
    if bool(bad.any()):
        i = int(torch.nonzero(bad)[0])
        raise ValueError(
            f"boxes[{i}, 0] = {index[i].item():g} is not a batch index in [0, {input.shape[0] - 1}]"
        )
    check_boxes(rois[:, 1:], "boxes[:, 1:]")
    return rois.to(input.dtype)


def roi_pool(
    input: Tensor,
    boxes: Tensor | list[Tensor],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
) -> Tensor:
    """Max-pool each box of ``input`` into ``output_size`` bins (Fast R-CNN's RoI Pooling).

    Args:
        input: feature maps.
        boxes: ``(K, 5)`` rows ``(batch_index, x1, y1, x2, y2)``, or a list with one ``(K_i, 4)``
            tensor per image; coordinates in the input image's pixels (cast to the dtype of
            ``input``).
        output_size: ``(h, w)`` of the pooled feature (an int for a square).
        spatial_scale: feature-map size / image size, e.g. ``1/16`` for VGG-16's conv5.

    Shape:
        input: (N, C, H, W), boxes: (K, 5) -> (K, C, h, w)
    """
    boxes = _check_rois(input, boxes, output_size, spatial_scale)
    return ops.roi_pool(input, boxes, output_size, float(spatial_scale))


def roi_align(
    input: Tensor,
    boxes: Tensor | list[Tensor],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
) -> Tensor:
    """Average bilinear samples in each bin of each box (Mask R-CNN's RoI Align).

    Args:
        input: feature maps.
        boxes: as for :func:`roi_pool`.
        output_size: ``(h, w)`` of the pooled feature (an int for a square).
        spatial_scale: feature-map size / image size.
        sampling_ratio: sample points per bin side; ``-1`` (or 0) picks
            ``ceil(roi_size / output_size)`` adaptively.
        aligned: shift the box by ``-0.5`` pixel so that sampling lines up with pixel centres.

    Shape:
        input: (N, C, H, W), boxes: (K, 5) -> (K, C, h, w)
    """
    boxes = _check_rois(input, boxes, output_size, spatial_scale)
    if isinstance(sampling_ratio, bool) or not isinstance(sampling_ratio, int):
        raise ValueError(f"sampling_ratio must be an int (-1 for adaptive), got {sampling_ratio!r}")
    if sampling_ratio < -1:
        raise ValueError(f"sampling_ratio must be >= -1, got {sampling_ratio}")
    return ops.roi_align(
        input, boxes, output_size, float(spatial_scale), sampling_ratio, bool(aligned)
    )
