"""What a dataset loader returns, and the options every loader takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch.utils.data import Dataset

from cnnlab.data.transforms.preprocess import Preprocess
from cnnlab.data.transforms.presets import AugmentConfig

# What a dataset's targets are (see cnnlab.data.samples for each target's format).
TASKS = ("classification", "segmentation", "multilabel", "detection")


@dataclass(frozen=True)
class LoadOptions:
    """The options of :func:`cnnlab.data.load_dataset` that reach every loader.

    Attributes:
        image_size: side length to resize to, or ``None`` for the dataset's native size.
        val_fraction: validation share where the dataset has no split of its own.
        skip_bad_images: leave out image files that cannot be decoded (with a count) instead of
            refusing the dataset.
        task: one of :data:`TASKS`: which targets the dataset returns.
        augment: the training augmentation (``AugmentConfig()``: none).
    """

    image_size: int | None = None
    val_fraction: float = 0.2
    skip_bad_images: bool = False
    task: str = "classification"
    augment: AugmentConfig = field(default_factory=AugmentConfig)


@dataclass
class DatasetBundle:
    """A train/validation pair and what a model needs to know about it.

    Attributes:
        task: what the targets are (:data:`TASKS`).
        preprocess: the validation transform's size and statistics (``preprocess.transform()``
            turns an image file into a network input exactly as validation images were);
            ``None`` for a loader that does not say.
        collate_fn: the ``DataLoader`` collate function the targets need (detection), or
            ``None`` for PyTorch's default.
        ignore_index: the mask value without a label (segmentation: 255), else ``None``.
    """

    name: str
    train: Dataset
    val: Dataset
    num_classes: int
    in_chans: int
    image_size: tuple[int, int]
    classes: list[str] = field(default_factory=list)
    targets_train: list[Any] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    task: str = "classification"
    preprocess: Preprocess | None = None
    collate_fn: Callable[[list[Any]], Any] | None = None
    ignore_index: int | None = None

    def describe(self) -> str:
        h, w = self.image_size
        noun = "images" if self.task == "classification" else f"{self.task} images"
        text = (
            f"{self.name}: {len(self.train)} train / {len(self.val)} val {noun}, "
            f"{self.in_chans}x{h}x{w}, {self.num_classes} classes"
        )
        if self.skipped_files:
            text += f"; skipped {len(self.skipped_files)} unreadable image file(s)"
        return text
