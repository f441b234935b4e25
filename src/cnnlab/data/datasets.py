"""Dataset specs for ``cnnlab train --dataset``: one table of kinds, one entry point.

* ``digits``: scikit-learn's handwritten digits, 1,797 real 8x8 grey images shipped inside
  scikit-learn (no download), with a fixed stratified 80/20 train/validation split
  (:mod:`cnnlab.data.arrays`, shared with the NumPy tier).
* ``imagefolder:PATH``: class sub-folders of images; ``PATH/train`` with ``PATH/val`` (or
  ``valid``, ``validation``, ``test``), ``PATH/train`` alone, or one folder, split stratified
  (:mod:`cnnlab.data.folders`).
* ``mnist:PATH`` and ``cifar10:PATH``: torchvision's dataset classes on files the user already
  has under ``PATH`` (cnnlab never downloads); the official test split is the validation set
  (:mod:`cnnlab.data.torchvision_files`).

Every file is checked when the dataset is built: a bad one stops the run before training, with
one line naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from cnnlab.core.names import unknown_name_message
from cnnlab.core.validate import number, positive_int
from cnnlab.data.arrays import ARRAY_SOURCES
from cnnlab.data.bundle import DatasetBundle, LoadOptions
from cnnlab.data.folders import load_imagefolder
from cnnlab.data.in_memory import in_memory_loader
from cnnlab.data.torchvision_files import load_cifar10, load_mnist


class DatasetKind(NamedTuple):
    """How to load one kind of dataset, and whether its spec names a folder (``kind:PATH``)."""

    load: Callable[[Path | None, LoadOptions], DatasetBundle]
    needs_path: bool


# kind -> loader; every in-memory array dataset is a kind of its own.
DATASET_KINDS: dict[str, DatasetKind] = {
    **{name: DatasetKind(in_memory_loader(name), False) for name in ARRAY_SOURCES},
    "imagefolder": DatasetKind(load_imagefolder, True),
    "mnist": DatasetKind(load_mnist, True),
    "cifar10": DatasetKind(load_cifar10, True),
}


def parse_dataset_spec(spec: str) -> tuple[str, str | None]:
    """Split ``"kind:PATH"`` into ``(kind, path)``; ``"digits"`` has no path."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"dataset must be a non-empty string like 'digits', got {spec!r}")
    kind, sep, path = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in DATASET_KINDS:
        raise ValueError(unknown_name_message("dataset kind", kind, DATASET_KINDS))
    needs_path = DATASET_KINDS[kind].needs_path
    if needs_path and not (sep and path):
        raise ValueError(f"dataset {kind!r} needs a folder: use '{kind}:PATH'")
    if not needs_path and path:
        raise ValueError(f"dataset {kind!r} takes no path, got {spec!r}")
    return kind, (path or None)


def load_dataset(
    spec: str,
    image_size: int | None = None,
    val_fraction: float = 0.2,
    skip_bad_images: bool = False,
) -> DatasetBundle:
    """Load a dataset from its spec (see the module docstring).

    Args:
        spec: ``digits``, ``imagefolder:PATH``, ``mnist:PATH`` or ``cifar10:PATH``.
        image_size: resize images to ``image_size`` x ``image_size``; ``None`` keeps the
            dataset's native size (ImageFolder images, which vary, default to 224).
        val_fraction: validation share where the dataset has no split of its own.
        skip_bad_images: leave out image files that cannot be decoded (the bundle's
            ``skipped_files`` lists them) instead of refusing the dataset.

    Raises:
        ValueError: unknown kind, missing folder, missing or unreadable files, too few classes
            or images for a split, an ``image_size`` that would not fit in memory.
    """
    options = LoadOptions(
        image_size=None if image_size is None else positive_int("image_size", image_size),
        val_fraction=number(
            "val_fraction",
            val_fraction,
            minimum=0,
            maximum=1,
            exclusive_minimum=True,
            exclusive_maximum=True,
        ),
        skip_bad_images=bool(skip_bad_images),
    )
    kind, path = parse_dataset_spec(spec)
    root = None
    if path is not None:
        root = Path(path).expanduser()
        if not root.is_dir():
            raise ValueError(f"dataset folder {str(root)!r} does not exist or is not a folder")
    return DATASET_KINDS[kind].load(root, options)
