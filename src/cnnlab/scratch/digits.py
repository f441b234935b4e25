"""scikit-learn's handwritten digits as NumPy arrays, split and standardised like ``cnnlab.data``.

1,797 real 8x8 grey images shipped inside scikit-learn (nothing is downloaded). The split is
the same stratified 80/20 split with seed 0 that ``cnnlab train`` uses, and the images are
standardised with the mean and standard deviation of the training images only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPLIT_SEED = 0  # as cnnlab.data.datasets


@dataclass
class ArraySplit:
    """Images (N, 1, 8, 8) and integer labels (N,) of the train and test parts."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def describe(self) -> str:
        _, c, h, w = self.x_train.shape
        return f"digits: {len(self.x_train)} train / {len(self.x_test)} test images, {c}x{h}x{w}"


def load_digits_arrays(test_fraction: float = 0.2, dtype: type = np.float64) -> ArraySplit:
    """The digits, split (stratified, seed 0) and standardised with training statistics.

    Raises:
        ValueError: ``test_fraction`` outside (0, 1).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).astype(dtype)[:, None]
    labels = digits.target.astype(np.int64)
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), test_size=test_fraction, random_state=SPLIT_SEED, stratify=labels
    )
    train_idx, test_idx = np.sort(train_idx), np.sort(test_idx)
    mean, std = images[train_idx].mean(), images[train_idx].std()
    images = (images - mean) / std
    return ArraySplit(images[train_idx], labels[train_idx], images[test_idx], labels[test_idx])
