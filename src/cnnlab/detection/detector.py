"""What every cnnlab detector does around its heads: torchvision's calling convention.

``model(images, targets)`` takes a list of ``(C, H, W)`` float images of any sizes (or one
``(N, C, H, W)`` batch) and, in training mode, one target dict per image: ``boxes`` float
``(K, 4)`` ``(x1, y1, x2, y2)`` in the image's pixels with positive widths and heights,
``labels`` int64 ``(K,)`` (0 is the background; ``K = 0`` is an image without objects). It
returns the dict of losses in training mode and, in evaluation mode, one dict per image with
``boxes`` ``(D, 4)`` in the original image's pixels, ``scores`` ``(D,)`` and ``labels`` ``(D,)``,
best first. In between: :class:`~cnnlab.detection.DetectionTransform` (standardise, resize,
pad), the backbone with its pyramid, and the detector's own heads (:meth:`Detector.detect`).

Inputs are checked here (types, shapes, dtypes; box values on the CPU), so a bad target is a
``ValueError`` naming the image and the box, not an error deep in the loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import Tensor, nn

from cnnlab.detection._checks import check_boxes
from cnnlab.detection.transform import DetectionTransform, ImageBatch


def _check_images(images: object, channels: int) -> Sequence[Tensor] | Tensor:
    if isinstance(images, Tensor):
        if images.dim() != 4 or not images.shape[0]:
            raise ValueError(
                f"images must be a list of (C, H, W) tensors or one (N, C, H, W) batch, got a "
                f"tensor of shape {tuple(images.shape)}"
            )
        if not images.is_floating_point():
            raise ValueError(f"images must be a floating-point tensor, got {images.dtype}")
        if images.shape[1] != channels:
            raise ValueError(
                f"images have {images.shape[1]} channels; this detector takes {channels} "
                "(one image_mean/image_std value per channel)"
            )
        return images
    if not isinstance(images, (list, tuple)) or not images:
        raise ValueError(
            f"images must be a non-empty list of (C, H, W) tensors, got {type(images).__name__}"
        )
    for i, image in enumerate(images):
        if not isinstance(image, Tensor) or image.dim() != 3:
            shape = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
            raise ValueError(f"images[{i}] must be a (C, H, W) tensor, got {shape}")
        if not image.is_floating_point():
            raise ValueError(f"images[{i}] must be a floating-point tensor, got {image.dtype}")
        if image.shape[0] != channels:
            raise ValueError(
                f"images[{i}] has {image.shape[0]} channels; this detector takes {channels} "
                "(one image_mean/image_std value per channel)"
            )
    return images


def _check_targets(targets: object, count: int) -> list[dict[str, Tensor]]:
    if not isinstance(targets, (list, tuple)) or len(targets) != count:
        size = len(targets) if isinstance(targets, (list, tuple)) else type(targets).__name__
        raise ValueError(f"targets must be a list of {count} dicts (one per image), got {size}")
    for i, target in enumerate(targets):
        if not isinstance(target, dict) or not {"boxes", "labels"} <= set(target):
            raise ValueError(f"targets[{i}] must be a dict with 'boxes' and 'labels'")
        boxes, labels = target["boxes"], target["labels"]
        check_boxes(boxes, f"targets[{i}]['boxes']", positive=True)
        if not isinstance(labels, Tensor) or labels.dtype != torch.int64 or labels.dim() != 1:
            got = f"{labels.dtype} {tuple(labels.shape)}" if isinstance(labels, Tensor) else labels
            raise ValueError(f"targets[{i}]['labels'] must be an int64 tensor (K,), got {got}")
        if labels.shape[0] != boxes.shape[0]:
            raise ValueError(
                f"targets[{i}] has {boxes.shape[0]} boxes and {labels.shape[0]} labels"
            )
    return list(targets)


class Detector(nn.Module):
    """Base of the detectors: checks, transform, backbone, :meth:`detect`, boxes back.

    Args:
        backbone: image -> ordered dict of feature maps, with an ``out_channels`` attribute.
        transform: the detector's :class:`~cnnlab.detection.DetectionTransform`.
    """

    # The keys of the loss dict that training mode returns, in order (set by each detector).
    loss_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, backbone: nn.Module, transform: DetectionTransform) -> None:
        super().__init__()
        self.transform = transform
        self.backbone = backbone

    def detect(
        self,
        images: ImageBatch,
        features: dict[str, Tensor],
        targets: list[dict[str, Tensor]] | None,
    ) -> tuple[list[dict[str, Tensor]], dict[str, Tensor]]:
        """The heads: detections (evaluation) and losses (training) on the resized batch."""
        raise NotImplementedError

    def forward(
        self,
        images: Sequence[Tensor] | Tensor,
        targets: Sequence[dict[str, Tensor]] | None = None,
    ) -> dict[str, Tensor] | list[dict[str, Tensor]]:
        images = _check_images(images, len(self.transform.image_mean))
        if targets is not None:
            targets = _check_targets(targets, len(images))
        elif self.training:
            raise ValueError("in training mode the detector needs targets (one dict per image)")
        shapes = (
            [images.shape] * len(images)
            if isinstance(images, Tensor)
            else [i.shape for i in images]
        )
        original_sizes = [(int(s[-2]), int(s[-1])) for s in shapes]
        batch, targets = self.transform(images, targets if self.training else None)
        features = self.backbone(batch.tensors)
        detections, losses = self.detect(batch, features, targets)
        if self.training:
            return losses
        return self.transform.postprocess(detections, batch.image_sizes, original_sizes)


def check_options(model: str, options: dict[str, object], accepted: Sequence[str]) -> None:
    """Raise a ``ValueError`` naming the options of ``model`` that it does not take."""
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        from cnnlab.core.names import close_matches

        hints = [
            f"{u} (did you mean {', '.join(close_matches(u, accepted))}?)"
            if close_matches(u, accepted)
            else u
            for u in unknown
        ]
        raise ValueError(
            f"{model} got unexpected option(s) {', '.join(hints)}; it accepts {sorted(accepted)}"
        )


def refuse_weights(weights: object, weights_backbone: object) -> None:
    """torchvision's ``weights``/``weights_backbone`` arguments: only ``None`` (no downloads)."""
    for name, value in (("weights", weights), ("weights_backbone", weights_backbone)):
        if value is not None:
            raise ValueError(
                f"{name} must be None: cnnlab downloads nothing; build the model and load a "
                f"state dict (torchvision's loads unchanged), got {value!r}"
            )
