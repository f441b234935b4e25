"""What a detector does to its images before the backbone, and to its boxes after the heads.

Each image is standardised per channel, resized so that its short side is ``min_size`` unless
its long side would then exceed ``max_size`` (one scale factor for both sides: the aspect ratio
is kept), and the images of a batch are zero-padded at the bottom and right to a common size
divisible by 32 (the backbone's largest stride, so that every FPN level lines up). Ground-truth
boxes are scaled with their image; detections are scaled back to the original image.

This is torchvision's ``GeneralizedRCNNTransform`` arithmetic, written out so that cnnlab's
detectors keep torchvision's outputs to the bit (the same ``F.interpolate`` call, the same
float32 ratios for the boxes); a test compares the two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cnnlab.core.validate import InvalidArgument, number, positive_int

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def default_normalisation(in_chans: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The detectors' default ``(image_mean, image_std)``: ImageNet's statistics for RGB images
    in [0, 1] (torchvision's), and none (0, 1) for other channel counts, whose images are
    expected to come standardised (as cnnlab's datasets deliver them)."""
    if in_chans == 3:
        return IMAGENET_MEAN, IMAGENET_STD
    return (0.0,) * in_chans, (1.0,) * in_chans


@dataclass
class ImageBatch:
    """Resized, standardised, padded images and the size of each before padding.

    Attributes:
        tensors: the padded batch.
        image_sizes: ``(height, width)`` of each resized image inside the padding.

    Shape:
        tensors: (N, C, H, W), H and W multiples of ``size_divisible``.
    """

    tensors: Tensor
    image_sizes: list[tuple[int, int]]


def resize_boxes(boxes: Tensor, original_size: Sequence[int], new_size: Sequence[int]) -> Tensor:
    """Scale ``(x1, y1, x2, y2)`` boxes from an image of ``original_size`` to ``new_size``.

    The ratios are computed in float32, as torchvision does.

    Shape:
        boxes: (K, 4) -> (K, 4)
    """
    ratio_h, ratio_w = (
        torch.tensor(s, dtype=torch.float32, device=boxes.device)
        / torch.tensor(s_orig, dtype=torch.float32, device=boxes.device)
        for s, s_orig in zip(new_size, original_size, strict=True)
    )
    x1, y1, x2, y2 = boxes.unbind(1)
    return torch.stack((x1 * ratio_w, y1 * ratio_h, x2 * ratio_w, y2 * ratio_h), dim=1)


class RestoreBoxes(nn.Module):
    """Scale each image's detected boxes from the resized image back to the original.

    Shape:
        N dicts with ``boxes`` (D_i, 4) -> the same dicts, boxes in original pixels
    """

    def forward(
        self,
        detections: list[dict[str, Tensor]],
        image_sizes: list[tuple[int, int]],
        original_sizes: list[tuple[int, int]],
    ) -> list[dict[str, Tensor]]:
        return [
            {**det, "boxes": resize_boxes(det["boxes"], size, original)}
            for det, size, original in zip(detections, image_sizes, original_sizes, strict=True)
        ]


class DetectionTransform(nn.Module):
    """Standardise, resize and batch images (and their targets); rescale detections back.

    Args:
        min_size: short side after resizing; a sequence picks one at random per image in
            training (multi-scale training) and uses the last in evaluation.
        max_size: the long side never exceeds this.
        image_mean: per-channel mean subtracted from the images.
        image_std: per-channel standard deviation the images are divided by.
        size_divisible: the padded batch's height and width are multiples of this.

    Attributes:
        postprocess: :class:`RestoreBoxes`, called as ``postprocess(detections, image_sizes,
            original_sizes)``.

    Shape:
        images: [(C, H_i, W_i)] or (N, C, H, W) -> ImageBatch.tensors (N, C, H, W)
    """

    def __init__(
        self,
        min_size: int | Sequence[int],
        max_size: int,
        image_mean: Sequence[float],
        image_std: Sequence[float],
        size_divisible: int = 32,
    ) -> None:
        super().__init__()
        sizes = tuple(min_size) if isinstance(min_size, (list, tuple)) else (min_size,)
        if not sizes:
            raise InvalidArgument("min_size", "min_size must be a positive integer, got ()")
        self.min_size = tuple(positive_int("min_size", s) for s in sizes)
        self.max_size = positive_int("max_size", max_size)
        self.image_mean = [number("image_mean", m) for m in image_mean]
        self.image_std = [
            number("image_std", s, minimum=0, exclusive_minimum=True) for s in image_std
        ]
        if len(self.image_mean) != len(self.image_std) or not self.image_mean:
            raise InvalidArgument(
                "image_mean",
                f"image_mean and image_std need one value per channel, got {len(self.image_mean)} "
                f"and {len(self.image_std)}",
            )
        self.size_divisible = positive_int("size_divisible", size_divisible)
        self.postprocess = RestoreBoxes()

    def normalize(self, image: Tensor) -> Tensor:
        """``(image - mean) / std`` per channel."""
        mean = torch.as_tensor(self.image_mean, dtype=image.dtype, device=image.device)
        std = torch.as_tensor(self.image_std, dtype=image.dtype, device=image.device)
        return (image - mean[:, None, None]) / std[:, None, None]

    def resize(self, image: Tensor, target: dict[str, Tensor] | None) -> tuple[Tensor, dict | None]:
        """Resize one image (bilinear, aspect ratio kept) and its target's boxes."""
        h, w = image.shape[-2:]
        if self.training:  # one draw per image even for one size, as torchvision's torch_choice
            index = int(torch.empty(1).uniform_(0.0, float(len(self.min_size))).item())
            size = self.min_size[index]
        else:
            size = self.min_size[-1]
        scale = min(size / min(h, w), self.max_size / max(h, w))
        if (math.floor(h * scale), math.floor(w * scale)) != (h, w):
            image = F.interpolate(
                image[None],
                scale_factor=scale,
                mode="bilinear",
                recompute_scale_factor=True,
                align_corners=False,
            )[0]
        if target is not None:
            target = {**target, "boxes": resize_boxes(target["boxes"], (h, w), image.shape[-2:])}
        return image, target

    def batch_images(self, images: list[Tensor]) -> Tensor:
        """Zero-pad the images at the bottom and right to one size divisible by
        ``size_divisible``."""
        channels = images[0].shape[0]
        stride = float(self.size_divisible)
        height = int(math.ceil(max(img.shape[1] for img in images) / stride) * stride)
        width = int(math.ceil(max(img.shape[2] for img in images) / stride) * stride)
        batch = images[0].new_full((len(images), channels, height, width), 0)
        for i, img in enumerate(images):
            batch[i, :, : img.shape[1], : img.shape[2]].copy_(img)
        return batch

    def forward(
        self, images: Sequence[Tensor] | Tensor, targets: Sequence[dict[str, Tensor]] | None = None
    ) -> tuple[ImageBatch, list[dict[str, Tensor]] | None]:
        out_images, out_targets = [], None if targets is None else []
        for i, image in enumerate(images):
            target = None if targets is None else dict(targets[i])
            image, target = self.resize(self.normalize(image), target)
            out_images.append(image)
            if out_targets is not None:
                out_targets.append(target)
        sizes = [(int(img.shape[-2]), int(img.shape[-1])) for img in out_images]
        return ImageBatch(self.batch_images(out_images), sizes), out_targets

    def extra_repr(self) -> str:
        return (
            f"min_size={self.min_size}, max_size={self.max_size}, mean={self.image_mean}, "
            f"std={self.image_std}"
        )
