"""Torch datasets of in-memory images for the four tasks, and the collate detection needs.

Each returns ``(image, target)`` with the image a float32 tensor (C, H, W) after the dataset's
transform, and the target:

=================  ====================================================================
task               target
=================  ====================================================================
classification     int64 class index (0-d tensor)
multilabel         float32 multi-hot vector (num_classes,)
segmentation       int64 mask (H, W): class per pixel, 255 = ignore
detection          ``{"boxes": float32 (k, 4) x1 y1 x2 y2, "labels": int64 (k,)}``,
                   torchvision's detection target (labels start at 1; 0 is background)
=================  ====================================================================

Segmentation and detection samples go through the transform together with their targets as
``tv_tensors`` (``Mask``, ``BoundingBoxes``), so a flip or a crop moves the labels with the pixels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils.data import Dataset
from torchvision import tv_tensors


class TransformedImages(Dataset):
    """Images held in memory, a target per image, and a transform applied on every access.

    Args:
        images: float images in [0, 1] (N, C, H, W) (or uint8).
        targets: one target per image (N, ...): class indices or multi-hot rows.
        transform: applied to each image (a ``tv_tensors.Image``).
    """

    def __init__(
        self, images: torch.Tensor, targets: torch.Tensor, transform: Callable[[Any], Any]
    ) -> None:
        if len(images) != len(targets):
            raise ValueError(f"{len(images)} images but {len(targets)} targets")
        self.images = images
        self.targets = targets
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.transform(tv_tensors.Image(self.images[index])), self.targets[index]


class SegmentationSamples(Dataset):
    """Images and their class masks in memory, transformed jointly.

    Args:
        images: float images in [0, 1] (N, C, H, W) (or uint8).
        masks: int64 class masks (N, H, W); 255 marks pixels without a label.
        transform: takes ``(tv_tensors.Image, tv_tensors.Mask)`` and returns the pair.
    """

    def __init__(
        self, images: torch.Tensor, masks: torch.Tensor, transform: Callable[..., Any]
    ) -> None:
        if len(images) != len(masks) or images.shape[-2:] != masks.shape[-2:]:
            raise ValueError(
                f"images {tuple(images.shape)} and masks {tuple(masks.shape)} do not match"
            )
        self.images = images
        self.masks = masks
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, mask = self.transform(
            tv_tensors.Image(self.images[index]), tv_tensors.Mask(self.masks[index])
        )
        return image, mask.to(torch.int64)


class DetectionSamples(Dataset):
    """Images in memory with boxes and labels per image, transformed jointly.

    Args:
        images: float images in [0, 1] (N, C, H, W).
        boxes: per image, float (k, 4) x1 y1 x2 y2 in pixels.
        labels: per image, int64 (k,), from 1 (0 is the background).
        transform: takes ``(tv_tensors.Image, {"boxes": BoundingBoxes, "labels": Tensor})``.
    """

    def __init__(
        self,
        images: torch.Tensor,
        boxes: Sequence[torch.Tensor],
        labels: Sequence[torch.Tensor],
        transform: Callable[..., Any],
    ) -> None:
        if not len(images) == len(boxes) == len(labels):
            raise ValueError(
                f"{len(images)} images, {len(boxes)} box sets, {len(labels)} label sets"
            )
        self.images = images
        self.boxes = list(boxes)
        self.labels = list(labels)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image = self.images[index]
        boxes = tv_tensors.BoundingBoxes(
            self.boxes[index], format="XYXY", canvas_size=tuple(image.shape[-2:])
        )
        image, target = self.transform(
            tv_tensors.Image(image), {"boxes": boxes, "labels": self.labels[index]}
        )
        return image, {
            "boxes": target["boxes"].as_subclass(torch.Tensor).to(torch.float32),
            "labels": target["labels"].to(torch.int64),
        }


def detection_collate(
    batch: Sequence[tuple[torch.Tensor, dict[str, torch.Tensor]]],
) -> tuple[list[torch.Tensor], list[dict[str, torch.Tensor]]]:
    """Batch detection samples as torchvision's detection models take them.

    Images may differ in size and targets in their number of boxes, so nothing is stacked:
    ``(images, targets)`` are two lists, as in torchvision's detection references
    (``collate_fn = lambda batch: tuple(zip(*batch))``), as lists.
    """
    images = [image for image, _ in batch]
    targets = [target for _, target in batch]
    return images, targets
