"""The one digits loader and the one split (cnnlab.data.arrays), against scikit-learn directly.

That importing and loading them needs no torch is checked in tests/scratch/test_import.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from cnnlab.data.arrays import load_arrays, stratified_split


def test_digits_split_and_standardisation_against_sklearn() -> None:
    data = load_arrays("digits")
    digits = load_digits()
    train_idx, val_idx = train_test_split(
        np.arange(1797), test_size=0.2, random_state=0, stratify=digits.target
    )
    train_idx, val_idx = np.sort(train_idx), np.sort(val_idx)
    raw = digits.images / 16.0
    mean, std = raw[train_idx].mean(), raw[train_idx].std()  # training pixels only
    np.testing.assert_array_equal(data.y_train, digits.target[train_idx])
    np.testing.assert_array_equal(data.y_val, digits.target[val_idx])
    np.testing.assert_allclose(data.x_train[:, 0], (raw[train_idx] - mean) / std, rtol=1e-12)
    np.testing.assert_allclose(data.x_val[:, 0], (raw[val_idx] - mean) / std, rtol=1e-12)
    assert data.x_train.shape == (1437, 1, 8, 8) and data.x_val.shape == (360, 1, 8, 8)
    assert data.describe() == "digits: 1437 train / 360 val images, 1x8x8, 10 classes"
    assert abs(data.x_train.mean()) < 1e-12 and abs(data.x_train.std() - 1) < 1e-12
    assert load_arrays("digits", dtype=np.float32).x_val.dtype == np.float32


def test_the_torch_tier_trains_on_the_same_arrays() -> None:
    from cnnlab.data import load_dataset

    data, bundle = load_arrays("digits", dtype=np.float32), load_dataset("digits")
    np.testing.assert_array_equal(bundle.val.tensors[0].numpy(), data.x_val)
    np.testing.assert_array_equal(bundle.train.tensors[1].numpy(), data.y_train)


def test_unknown_array_dataset_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"dataset must be one of .*; did you mean digits"):
        load_arrays("digit")


@pytest.mark.parametrize(
    ("labels", "val_fraction", "match"),
    [
        ([0, 0, 1, 1, 2], 0.4, r"class\(es\) 'c2' have a single image"),
        ([0, 0, 1, 1, 2, 2], 0.2, "gives 4 training and 2 validation images, but each side"),
        ([0] * 2 + [1] * 100, 0.9, r"leaves class\(es\) 'c0' without a training image"),
        ([0, 1] * 5, 1.0, r"val_fraction must be a finite number in \(0, 1\)"),
    ],
    ids=["single-image-class", "too-few-validation", "class-left-out", "fraction"],
)
def test_a_split_that_cannot_stratify_is_an_error(labels, val_fraction, match) -> None:
    with pytest.raises(ValueError, match=match):
        stratified_split(labels, val_fraction, classes=["c0", "c1", "c2"])


def test_split_keeps_class_shares_on_both_sides() -> None:
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    train_idx, val_idx = stratified_split(labels, 0.2)
    assert np.bincount(labels[val_idx]).tolist() == [10, 6, 4]
    assert sorted([*train_idx, *val_idx]) == list(range(100))
