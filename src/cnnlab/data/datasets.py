"""Dataset specs for ``cnnlab train --dataset``.

* ``digits``: scikit-learn's handwritten digits, 1,797 real 8x8 grey images shipped inside
  scikit-learn (no download), with a fixed stratified 80/20 train/validation split.
* ``imagefolder:PATH``: a folder of class sub-folders (torchvision ``ImageFolder``); either
  ``PATH/train`` and ``PATH/val`` sub-folders, or one folder split 80/20, stratified.
* ``mnist:PATH`` and ``cifar10:PATH``: torchvision's dataset classes on files the user already
  has under ``PATH`` (cnnlab never downloads); the official test split is the validation set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, TensorDataset

from cnnlab.core.names import unknown_name_message

# ImageNet statistics, the convention for natural RGB images of unknown origin.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SPLIT_SEED = 0  # the train/validation split never depends on --seed


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

    def describe(self) -> str:
        h, w = self.image_size
        return (
            f"{self.name}: {len(self.train)} train / {len(self.val)} val images, "
            f"{self.in_chans}x{h}x{w}, {self.num_classes} classes"
        )


def parse_dataset_spec(spec: str) -> tuple[str, str | None]:
    """Split ``"kind:PATH"`` into ``(kind, path)``; ``"digits"`` has no path."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"dataset must be a non-empty string like 'digits', got {spec!r}")
    kind, sep, path = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in DATASET_KINDS:
        raise ValueError(unknown_name_message("dataset kind", kind, DATASET_KINDS))
    needs_path = DATASET_KINDS[kind][1]
    if needs_path and not (sep and path):
        raise ValueError(f"dataset {kind!r} needs a folder: use '{kind}:PATH'")
    if not needs_path and path:
        raise ValueError(f"dataset {kind!r} takes no path, got {spec!r}")
    return kind, (path or None)


def load_dataset(
    spec: str, image_size: int | None = None, val_fraction: float = 0.2
) -> DatasetBundle:
    """Load a dataset from its spec (see the module docstring).

    Args:
        spec: ``digits``, ``imagefolder:PATH``, ``mnist:PATH`` or ``cifar10:PATH``.
        image_size: resize images to ``image_size`` x ``image_size``; ``None`` keeps the
            dataset's native size (ImageFolder images, which vary, default to 224).
        val_fraction: validation share where the dataset has no split of its own.

    Raises:
        ValueError: unknown kind, missing folder or files, bad sizes.
    """
    if image_size is not None and (
        isinstance(image_size, bool) or not isinstance(image_size, int) or image_size <= 0
    ):
        raise ValueError(f"image_size must be a positive integer, got {image_size!r}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    kind, path = parse_dataset_spec(spec)
    loader = DATASET_KINDS[kind][0]
    if path is not None:
        root = Path(path).expanduser()
        if not root.is_dir():
            raise ValueError(f"dataset folder {str(root)!r} does not exist or is not a folder")
        return loader(root, image_size, val_fraction)
    return loader(None, image_size, val_fraction)


def _stratified_split(targets: list[int], val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(targets))
    counts = np.bincount(np.asarray(targets))
    stratify = targets if counts[counts > 0].min() >= 2 else None
    train_idx, val_idx = train_test_split(
        idx, test_size=val_fraction, random_state=SPLIT_SEED, stratify=stratify
    )
    return np.sort(train_idx), np.sort(val_idx)


def _load_digits(_root: Path | None, image_size: int | None, val_fraction: float) -> DatasetBundle:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.from_numpy(digits.images.astype(np.float32) / 16.0).unsqueeze(1)
    targets = torch.from_numpy(digits.target.astype(np.int64))
    train_idx, val_idx = _stratified_split(digits.target.tolist(), val_fraction)
    # Standardise with statistics of the training images only (no peeking at validation).
    mean, std = images[train_idx].mean(), images[train_idx].std()
    images = (images - mean) / std
    if image_size is not None and image_size != 8:
        images = torch.nn.functional.interpolate(
            images, size=(image_size, image_size), mode="bilinear", align_corners=False
        )
    size = images.shape[-1]
    return DatasetBundle(
        name="digits",
        train=TensorDataset(images[train_idx], targets[train_idx]),
        val=TensorDataset(images[val_idx], targets[val_idx]),
        num_classes=10,
        in_chans=1,
        image_size=(size, size),
        classes=[str(i) for i in range(10)],
        targets_train=targets[train_idx].tolist(),
    )


def _transform(size: int | None, mean: tuple[float, ...], std: tuple[float, ...]) -> Callable:
    from torchvision import transforms as T

    steps = [T.Resize((size, size))] if size is not None else []
    return T.Compose([*steps, T.ToTensor(), T.Normalize(mean, std)])


def _load_imagefolder(root: Path, image_size: int | None, val_fraction: float) -> DatasetBundle:
    from torchvision.datasets import ImageFolder

    size = image_size or 224
    tf = _transform(size, IMAGENET_MEAN, IMAGENET_STD)

    def folder(path: Path) -> ImageFolder:
        try:
            return ImageFolder(str(path), transform=tf, loader=_rgb_loader)
        except (FileNotFoundError, RuntimeError) as err:
            raise ValueError(f"cannot read image folder {str(path)!r}: {err}") from None

    if (root / "train").is_dir() and (root / "val").is_dir():
        train, val = folder(root / "train"), folder(root / "val")
        if train.classes != val.classes:
            raise ValueError(
                f"{root}/train and {root}/val have different classes: "
                f"{train.classes} vs {val.classes}"
            )
        targets = list(train.targets)
    else:
        full = folder(root)
        train_idx, val_idx = _stratified_split(list(full.targets), val_fraction)
        if len(val_idx) == 0 or len(train_idx) == 0:
            raise ValueError(f"image folder {str(root)!r} has too few images to split")
        train, val = Subset(full, train_idx.tolist()), Subset(full, val_idx.tolist())
        targets = [full.targets[i] for i in train_idx]
        train.classes = full.classes  # type: ignore[attr-defined]
    classes = list(train.classes)  # type: ignore[attr-defined]
    return DatasetBundle(
        name=f"imagefolder:{root}",
        train=train,
        val=val,
        num_classes=len(classes),
        in_chans=3,
        image_size=(size, size),
        classes=classes,
        targets_train=targets,
    )


def _rgb_loader(path: str):
    from PIL import Image

    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


def _torchvision_dataset(
    cls_name: str,
    files_hint: str,
    native: int,
    chans: int,
    mean: tuple[float, ...],
    std: tuple[float, ...],
) -> Callable[[Path, int | None, float], DatasetBundle]:
    def load(root: Path, image_size: int | None, _val_fraction: float) -> DatasetBundle:
        import torchvision.datasets as tvd

        cls = getattr(tvd, cls_name)
        tf = _transform(image_size if image_size not in (None, native) else None, mean, std)
        try:
            train = cls(str(root), train=True, download=False, transform=tf)
            val = cls(str(root), train=False, download=False, transform=tf)
        except RuntimeError as err:
            raise ValueError(
                f"no {cls_name} files under {str(root)!r} (expected {files_hint}); "
                f"cnnlab never downloads: {err}"
            ) from None
        size = image_size or native
        return DatasetBundle(
            name=f"{cls_name.lower()}:{root}",
            train=train,
            val=val,
            num_classes=len(train.classes),
            in_chans=chans,
            image_size=(size, size),
            classes=list(train.classes),
            targets_train=[int(t) for t in train.targets],
        )

    return load


# kind -> (loader, needs a path)
DATASET_KINDS: dict[str, tuple[Callable[..., DatasetBundle], bool]] = {
    "digits": (_load_digits, False),
    "imagefolder": (_load_imagefolder, True),
    "mnist": (
        _torchvision_dataset(
            "MNIST", "PATH/MNIST/raw/train-images-idx3-ubyte etc.", 28, 1, (0.1307,), (0.3081,)
        ),
        True,
    ),
    "cifar10": (
        _torchvision_dataset(
            "CIFAR10",
            "PATH/cifar-10-batches-py/",
            32,
            3,
            (0.4914, 0.4822, 0.4465),
            (0.2470, 0.2435, 0.2616),
        ),
        True,
    ),
}
