"""The in-memory datasets of :mod:`cnnlab.data.arrays` as torch datasets.

The split and the per-channel training statistics are the NumPy ones (the scratch tier sees the
same images). Validation images, and training images when there is no augmentation, are
preprocessed once, eagerly (:meth:`Preprocess.apply`: resize, then standardise, in float64) into
a ``TensorDataset``, after checking that the resized images fit in memory; with augmentation the
raw training images stay at their native size and go through the training transform on every
access.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset

from cnnlab.data import memory
from cnnlab.data.arrays import load_raw
from cnnlab.data.bundle import DatasetBundle, LoadOptions
from cnnlab.data.samples import TransformedImages
from cnnlab.data.transforms.lighting import fit_pca_lighting
from cnnlab.data.transforms.preprocess import Preprocess
from cnnlab.data.transforms.presets import build_transforms


def in_memory_loader(name: str) -> Callable[[Path | None, LoadOptions], DatasetBundle]:
    """A loader (for ``DATASET_KINDS``) of the array dataset ``name``."""

    def load(_root: Path | None, options: LoadOptions) -> DatasetBundle:
        raw = load_raw(name, options.val_fraction)
        n, chans, native, _ = raw.images.shape
        size = options.image_size or native
        if size != native:
            memory.check_resize_fits(name, n, chans, size)
        preprocess = Preprocess((size, size), raw.mean, raw.std)
        images = torch.from_numpy(raw.images)
        labels = torch.from_numpy(raw.labels)
        train_images = images[torch.from_numpy(raw.train_idx)]
        y_train = labels[torch.from_numpy(raw.train_idx)]
        pca = None
        if options.augment.pca_lighting:
            pca = fit_pca_lighting(train_images)
        pair = build_transforms(options.augment, preprocess, pca=pca)
        train: Dataset
        if pair.train_is_val:
            train = TensorDataset(preprocess.apply(train_images), y_train)
        else:
            train = TransformedImages(train_images.to(torch.float32), y_train, pair.train)
        val_idx = torch.from_numpy(raw.val_idx)
        val = TensorDataset(preprocess.apply(images[val_idx]), labels[val_idx])
        return DatasetBundle(
            name=name,
            train=train,
            val=val,
            num_classes=len(raw.classes),
            in_chans=chans,
            image_size=(size, size),
            classes=list(raw.classes),
            targets_train=np.asarray(raw.labels[raw.train_idx]).tolist(),
            preprocess=preprocess,
        )

    return load
