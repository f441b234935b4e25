"""``--dataset scenes``: digit scenes (:func:`cnnlab.data.scenes.make_scenes`) for three tasks.

The task picks the target: ``segmentation`` (11 classes: background and the ten digits, masks
with ignore index 255 for crop padding), ``multilabel`` (10 classes, multi-hot vectors) or
``detection`` (torchvision's target dicts, labels 1-10, 0 is the background; collate with
:func:`~cnnlab.data.samples.detection_collate`). Training scenes draw their digits from the
mnist5k training split and validation scenes from its validation split. Images are standardised
with the training scenes' statistics; augmentation moves masks and boxes with the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset, TensorDataset

from cnnlab.data.bundle import DatasetBundle, LoadOptions
from cnnlab.data.samples import (
    DetectionSamples,
    SegmentationSamples,
    TransformedImages,
    detection_collate,
)
from cnnlab.data.scenes import NUM_DIGITS, Scenes, make_scenes
from cnnlab.data.transforms.lighting import fit_pca_lighting
from cnnlab.data.transforms.preprocess import Preprocess
from cnnlab.data.transforms.presets import IGNORE_INDEX, build_transforms

DIGITS = [str(d) for d in range(NUM_DIGITS)]


@dataclass(frozen=True)
class ScenesConfig:
    """How many scenes of which kind ``--dataset scenes`` makes (``seed`` fixes them all)."""

    n_train: int = 4000
    n_val: int = 1000
    image_size: int = 64
    max_digits: int = 4
    source: str = "mnist5k"
    seed: int = 0


SCENES = ScenesConfig()


def _stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    x = images.to(torch.float64).transpose(0, 1).reshape(images.shape[1], -1)
    return tuple(x.mean(dim=1).tolist()), tuple(x.std(dim=1, correction=0).tolist())


def _as_is(*sample: object) -> tuple[object, ...]:
    """The transform of images preprocessed already."""
    return sample


def _datasets(
    task: str, train: Scenes, val: Scenes, options: LoadOptions, preprocess: Preprocess
) -> tuple[Dataset, Dataset]:
    target = {"segmentation": "mask", "detection": "boxes"}.get(task, "label")
    pca = fit_pca_lighting(train.images) if options.augment.pca_lighting else None
    pair = build_transforms(options.augment, preprocess, pca=pca, target=target)
    x_val = preprocess.apply(val.images)
    if task == "detection":
        train_set = (
            DetectionSamples(preprocess.apply(train.images), train.boxes, train.labels, _as_is)
            if pair.train_is_val
            else DetectionSamples(train.images, train.boxes, train.labels, pair.train)
        )
        return train_set, DetectionSamples(x_val, val.boxes, val.labels, _as_is)
    targets = {"segmentation": "masks", "multilabel": "multihot"}[task]
    y_train, y_val = getattr(train, targets), getattr(val, targets)
    if pair.train_is_val:
        train_set = TensorDataset(preprocess.apply(train.images), y_train)
    elif task == "segmentation":
        train_set = SegmentationSamples(train.images, y_train, pair.train)
    else:
        train_set = TransformedImages(train.images, y_train, pair.train)
    return train_set, TensorDataset(x_val, y_val)


def load_scenes(
    _root: Path | None, options: LoadOptions, config: ScenesConfig | None = None
) -> DatasetBundle:
    """The ``scenes`` loader: ``options.task`` is segmentation, multilabel or detection.

    ``config`` defaults to the module's :data:`SCENES`.
    """
    config = config or SCENES
    size = options.image_size or config.image_size
    common = {"image_size": size, "max_digits": config.max_digits, "source": config.source}
    train = make_scenes(config.n_train, split="train", seed=config.seed, **common)
    val = make_scenes(config.n_val, split="val", seed=config.seed, **common)
    preprocess = Preprocess((size, size), *_stats(train.images))
    train_set, val_set = _datasets(options.task, train, val, options, preprocess)
    multilabel = options.task == "multilabel"
    classes = DIGITS if multilabel else ["background", *DIGITS]
    targets_train: list = (
        train.multihot.tolist() if multilabel else [t.tolist() for t in train.labels]
    )
    return DatasetBundle(
        name=f"scenes ({config.source} digits, up to {config.max_digits} per scene)",
        train=train_set,
        val=val_set,
        num_classes=len(classes),
        in_chans=1,
        image_size=(size, size),
        classes=classes,
        targets_train=targets_train,
        task=options.task,
        preprocess=preprocess,
        collate_fn=detection_collate if options.task == "detection" else None,
        ignore_index=IGNORE_INDEX if options.task == "segmentation" else None,
    )
