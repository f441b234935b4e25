"""The in-memory datasets of :mod:`cnnlab.data.arrays` as torch ``TensorDataset`` pairs.

The split and the standardisation are the NumPy ones (the scratch tier sees the same images);
only the optional resize is done here, once and eagerly, after checking that it fits in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from cnnlab.data import memory
from cnnlab.data.arrays import load_arrays
from cnnlab.data.bundle import DatasetBundle, LoadOptions


def _resize(images: np.ndarray, size: int) -> torch.Tensor:
    x = torch.from_numpy(images)
    return torch.nn.functional.interpolate(
        x, size=(size, size), mode="bilinear", align_corners=False
    )


def in_memory_loader(name: str) -> Callable[[Path | None, LoadOptions], DatasetBundle]:
    """A loader (for ``DATASET_KINDS``) of the array dataset ``name``."""

    def load(_root: Path | None, options: LoadOptions) -> DatasetBundle:
        data = load_arrays(name, options.val_fraction, dtype=np.float32)
        _, chans, native, _ = data.x_train.shape
        size = options.image_size or native
        if size == native:
            x_train, x_val = torch.from_numpy(data.x_train), torch.from_numpy(data.x_val)
        else:
            memory.check_resize_fits(name, len(data.x_train) + len(data.x_val), chans, size)
            x_train, x_val = _resize(data.x_train, size), _resize(data.x_val, size)
        y_train, y_val = torch.from_numpy(data.y_train), torch.from_numpy(data.y_val)
        return DatasetBundle(
            name=name,
            train=TensorDataset(x_train, y_train),
            val=TensorDataset(x_val, y_val),
            num_classes=len(data.classes),
            in_chans=chans,
            image_size=(size, size),
            classes=list(data.classes),
            targets_train=data.y_train.tolist(),
        )

    return load
