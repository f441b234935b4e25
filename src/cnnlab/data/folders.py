"""``imagefolder:PATH``: class sub-folders of images (torchvision's ``ImageFolder``), never misread.

The layouts read, checked in this order:

* ``PATH/train/CLASS/*`` with a held-out ``PATH/val/CLASS/*`` (or ``valid/``, ``validation/``,
  ``test/``, the first present in that order);
* ``PATH/train/CLASS/*`` alone: ``train/`` is split, stratified, like a single folder;
* ``PATH/CLASS/*``: one folder split ``val_fraction`` (stratified, seed 0).

A folder with a split folder (``val/``, ``test/``, ...) but no ``train/``, or with split folders
next to other folders, is an error naming the layout, never a dataset whose classes are the split
names. Fewer than 2 classes is an error. Hidden folders (``.ipynb_checkpoints``) are not classes.
Every image is decoded once before training (:mod:`cnnlab.data.images`): unreadable files are an
error naming the first, or are skipped with a count when ``skip_bad_images`` is set.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset, Subset
from torchvision.datasets import ImageFolder

from cnnlab.data.arrays import stratified_split
from cnnlab.data.bundle import DatasetBundle, LoadOptions
from cnnlab.data.images import BadImage, find_bad_images, load_rgb
from cnnlab.data.transforms.preprocess import Preprocess
from cnnlab.data.transforms.presets import AugmentConfig, TransformPair, build_transforms

# ImageNet statistics, the convention for natural RGB images of unknown origin.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_SIZE = 224  # folder images vary in size; they are resized to this unless told otherwise
PCA_FIT_IMAGES = 256  # PCA lighting is fitted on this many training images (evenly spread)

TRAIN_SPLIT = "train"
HELD_OUT_SPLITS = ("val", "valid", "validation", "test")  # the first present is used
SPLIT_NAMES = (TRAIN_SPLIT, *HELD_OUT_SPLITS)


class _ClassFolders(ImageFolder):
    """``ImageFolder`` whose classes are the visible sub-folders (no ``.ipynb_checkpoints``)."""

    def find_classes(self, directory: str | Path) -> tuple[list[str], dict[str, int]]:
        classes = sorted(e.name for e in os.scandir(directory) if _is_visible_dir(e))
        if not classes:
            raise FileNotFoundError(f"no class folder in {str(directory)!r}")
        return classes, {name: i for i, name in enumerate(classes)}


def _is_visible_dir(entry: os.DirEntry) -> bool:
    return entry.is_dir() and not entry.name.startswith(".")


@dataclass(frozen=True)
class FolderLayout:
    """Which folders hold the training and the held-out images."""

    train: Path
    val: Path | None  # None: split ``train``
    description: str


def find_layout(root: Path) -> FolderLayout:
    """Recognise the layout of ``root`` (see the module docstring).

    Raises:
        ValueError: split folders without ``train/``, or mixed with other folders.
    """
    names = sorted(e.name for e in os.scandir(root) if _is_visible_dir(e))
    by_lower = {n.lower(): n for n in names}
    splits = [n for n in names if n.lower() in SPLIT_NAMES]
    if not splits:
        return FolderLayout(root, None, "one folder")
    expected = (
        "expected PATH/train/CLASS/* (with PATH/val/CLASS/* or valid/, validation/, test/ "
        "held out) or PATH/CLASS/*"
    )
    if TRAIN_SPLIT not in by_lower:
        raise ValueError(
            f"image folder {str(root)!r} has split folder(s) {splits} but no 'train' folder; "
            f"read as classes, its classes would be split names. {expected}"
        )
    others = [n for n in names if n.lower() not in SPLIT_NAMES]
    if others:
        raise ValueError(
            f"image folder {str(root)!r} mixes split folders {splits} with other folders "
            f"{others}; {expected}"
        )
    train = by_lower[TRAIN_SPLIT]
    held_out = next((by_lower[s] for s in HELD_OUT_SPLITS if s in by_lower), None)
    if held_out is None:
        return FolderLayout(root / train, None, f"{train}/ only")
    return FolderLayout(root / train, root / held_out, f"{train}/ + {held_out}/")


def _transforms(
    folder: ImageFolder, indices: Sequence[int], preprocess: Preprocess, augment: AugmentConfig
) -> TransformPair:
    """The train/val pair; PCA lighting is fitted on up to :data:`PCA_FIT_IMAGES` training
    images."""
    pca = None
    if augment.pca_lighting:
        import torch

        from cnnlab.data.transforms.lighting import fit_pca_lighting

        picked = [indices[int(i)] for i in np.linspace(0, len(indices) - 1, PCA_FIT_IMAGES)]
        to_float = Preprocess(preprocess.image_size, (0.0,) * 3, (1.0,) * 3).transform()
        images = torch.stack(
            [to_float(load_rgb(folder.samples[i][0])) for i in sorted(set(picked))]
        )
        pca = fit_pca_lighting(images)
    return build_transforms(augment, preprocess, pca=pca)


def _with_transform(folder: ImageFolder, transform: Callable) -> ImageFolder:
    """A shallow copy of ``folder`` (same samples) with another transform."""
    clone = copy.copy(folder)
    clone.transform = transform
    return clone


def _read_folder(path: Path, transform: Callable) -> ImageFolder:
    try:
        folder = _ClassFolders(str(path), transform=transform, loader=load_rgb)
    except (FileNotFoundError, RuntimeError) as err:
        raise ValueError(f"cannot read image folder {str(path)!r}: {err}") from None
    if len(folder.classes) < 2:
        raise ValueError(
            f"image folder {str(path)!r} has {len(folder.classes)} class folder "
            f"({folder.classes[0]!r}); a classifier needs at least 2, one sub-folder per class"
        )
    return folder


def _drop(folder: ImageFolder, bad: set[str]) -> None:
    """Remove the samples whose files are in ``bad`` (``samples``, ``imgs`` and ``targets``)."""
    folder.samples = [s for s in folder.samples if s[0] not in bad]
    folder.imgs = folder.samples
    folder.targets = [t for _, t in folder.samples]


def _handle_bad_files(root: Path, folders: Sequence[ImageFolder], skip: bool) -> list[str]:
    """Decode every file once; refuse bad ones, or drop them when ``skip``. Returns the dropped."""
    paths = [p for folder in folders for p, _ in folder.samples]
    bad: list[BadImage] = find_bad_images(paths)
    if not bad:
        return []
    if not skip:
        more = f" (and {len(bad) - 1} more of the {len(paths)} files)" if len(bad) > 1 else ""
        raise ValueError(
            f"cannot read image file {bad[0].describe()}{more} in image folder {str(root)!r}; "
            "fix or remove it, or skip unreadable files with --skip-bad-images "
            "(skip_bad_images=True)"
        )
    dropped = {b.path for b in bad}
    for folder in folders:
        _drop(folder, dropped)
    return [b.path for b in bad]


def _check_every_class_trains(root: Path, classes: list[str], targets: Sequence[int]) -> None:
    present = set(targets)
    missing = [c for i, c in enumerate(classes) if i not in present]
    if missing:
        raise ValueError(
            f"image folder {str(root)!r}: class(es) {missing} have no readable training image"
        )


def load_imagefolder(root: Path, options: LoadOptions) -> DatasetBundle:
    """The ``imagefolder:PATH`` loader (see the module docstring)."""
    layout = find_layout(root)
    size = options.image_size or DEFAULT_SIZE
    preprocess = Preprocess((size, size), IMAGENET_MEAN, IMAGENET_STD)
    full = _read_folder(layout.train, preprocess.transform())
    held_out = None if layout.val is None else _read_folder(layout.val, preprocess.transform())
    if held_out is not None and held_out.classes != full.classes:
        raise ValueError(
            f"{layout.train} and {layout.val} have different classes: "
            f"{full.classes} vs {held_out.classes}"
        )
    folders = [full] if held_out is None else [full, held_out]
    skipped = _handle_bad_files(root, folders, options.skip_bad_images)
    classes = list(full.classes)
    _check_every_class_trains(root, classes, full.targets)
    train: Dataset
    val: Dataset
    description = layout.description
    if held_out is None:
        train_idx, val_idx = stratified_split(full.targets, options.val_fraction, classes=classes)
        pair = _transforms(full, train_idx.tolist(), preprocess, options.augment)
        train = Subset(_with_transform(full, pair.train), train_idx.tolist())
        val = Subset(full, val_idx.tolist())
        targets = [full.targets[i] for i in train_idx]
        share = options.val_fraction
        description += f", split {1 - share:.0%}/{share:.0%} stratified"
    else:
        if not held_out.samples:
            raise ValueError(f"{layout.val} has no readable image left to validate on")
        pair = _transforms(full, range(len(full.samples)), preprocess, options.augment)
        train, val, targets = _with_transform(full, pair.train), held_out, list(full.targets)
    return DatasetBundle(
        name=f"imagefolder:{root} ({description})",
        train=train,
        val=val,
        num_classes=len(classes),
        in_chans=3,
        image_size=(size, size),
        classes=classes,
        targets_train=targets,
        skipped_files=skipped,
        preprocess=preprocess,
    )
