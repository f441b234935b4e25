"""What a dataset loader returns, and the options every loader takes."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch.utils.data import Dataset


@dataclass(frozen=True)
class LoadOptions:
    """The options of :func:`cnnlab.data.load_dataset` that reach every loader.

    Attributes:
        image_size: side length to resize to, or ``None`` for the dataset's native size.
        val_fraction: validation share where the dataset has no split of its own.
        skip_bad_images: leave out image files that cannot be decoded (with a count) instead of
            refusing the dataset.
    """

    image_size: int | None = None
    val_fraction: float = 0.2
    skip_bad_images: bool = False


@dataclass
class DatasetBundle:
    """A train/validation pair and what a model needs to know about it."""

    name: str
    train: Dataset
    val: Dataset
    num_classes: int
    in_chans: int
    image_size: tuple[int, int]
    classes: list[str] = field(default_factory=list)
    targets_train: list[int] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)

    def describe(self) -> str:
        h, w = self.image_size
        text = (
            f"{self.name}: {len(self.train)} train / {len(self.val)} val images, "
            f"{self.in_chans}x{h}x{w}, {self.num_classes} classes"
        )
        if self.skipped_files:
            text += f"; skipped {len(self.skipped_files)} unreadable image file(s)"
        return text
