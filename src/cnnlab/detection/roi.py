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

import numbers

import numpy as np
from torch import Tensor
from torchvision import ops

from cnnlab.core.validate import InvalidArgument, int_pair, number
from cnnlab.detection._checks import check_boxes, check_tensor, host_values


def _check_rois(
    input: Tensor, boxes: Tensor | list[Tensor], output_size: int | tuple[int, int], scale: float
) -> tuple[Tensor | list[Tensor], tuple[int, int], float]:
    """Check the arguments; return the boxes in the dtype of ``input`` (torchvision needs it).

    The batch indices and the corners are values: checked on the CPU only (see
    :mod:`cnnlab.detection._checks`).
    """
    size = int_pair("output_size", output_size)
    scale = number("spatial_scale", scale, minimum=0, exclusive_minimum=True)
    input = check_tensor(input, "input")
    if input.dim() != 4:
        raise ValueError(f"input must have shape (N, C, H, W), got {tuple(input.shape)}")
    if isinstance(boxes, (list, tuple)):
        if len(boxes) != input.shape[0]:
            raise ValueError(
                f"boxes as a list needs one (K_i, 4) tensor per image: got {len(boxes)} "
                f"tensors for a batch of {input.shape[0]}"
            )
        rois = [check_boxes(b, f"boxes[{i}]").to(input.dtype) for i, b in enumerate(boxes)]
        return rois, size, scale
    rois = check_tensor(boxes, "boxes")
    if rois.dim() != 2 or rois.shape[1] != 5:
        raise ValueError(
            f"boxes must be a (K, 5) tensor (batch index, x1, y1, x2, y2) or a list of "
            f"(K_i, 4) tensors, got shape {tuple(rois.shape)}"
        )
    check_boxes(rois[:, 1:], "boxes[:, 1:]")
    values = host_values(rois)
    if values is not None:
        index = values[:, 0]
        bad = (index != np.round(index)) | (index < 0) | (index >= input.shape[0])
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"boxes[{i}, 0] = {index[i].item():g} is not a batch index in "
                f"[0, {input.shape[0] - 1}]"
            )
    return rois.to(input.dtype), size, scale


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
    rois, size, scale = _check_rois(input, boxes, output_size, spatial_scale)
    return ops.roi_pool(input, rois, size, scale)


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
    rois, size, scale = _check_rois(input, boxes, output_size, spatial_scale)
    ok = isinstance(sampling_ratio, numbers.Integral) and not isinstance(sampling_ratio, bool)
    if not (ok and sampling_ratio >= -1):
        raise InvalidArgument(
            "sampling_ratio",
            f"sampling_ratio must be an integer >= -1 (-1 or 0: adaptive), got {sampling_ratio!r}",
        )
    return ops.roi_align(input, rois, size, scale, int(sampling_ratio), bool(aligned))
