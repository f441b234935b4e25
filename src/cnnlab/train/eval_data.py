"""The images a run is evaluated on: its own validation set, or another dataset's prepared as
the run's own validation images were.

A model expects its inputs standardised with the statistics of *its* training images. Another
dataset (``cnnlab eval --dataset SPEC``) is loaded at the run's input size, so that the resize
is the run's; its validation images come standardised with that dataset's own statistics
``(m', s')``, which :class:`Restandardised` turns into the run's ``(m, s)`` exactly:
``x = (raw - m) / s = x' * (s' / s) + (m' - m) / s`` (resize and standardisation commute with
this per-channel affine map).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch.utils.data import Dataset

from cnnlab.data import DatasetBundle, load_dataset, parse_dataset_spec
from cnnlab.data.transforms.preprocess import Preprocess
from cnnlab.train.trained import TrainedRun

__all__ = ["Restandardised", "evaluation_data"]


class Restandardised(Dataset):
    """A dataset whose images (first item of each sample) are re-standardised from the
    statistics of ``source`` to those of ``target`` (the same size and channels).

    Shape:
        image: (C, H, W) in, (C, H, W) out; the rest of the sample is unchanged.
    """

    def __init__(self, dataset: Dataset, source: Preprocess, target: Preprocess) -> None:
        if source.in_chans != target.in_chans:
            raise ValueError(
                f"cannot re-standardise {source.in_chans}-channel images for a "
                f"{target.in_chans}-channel model"
            )
        self.dataset = dataset
        s_src = torch.tensor(source.std, dtype=torch.float64)
        s_dst = torch.tensor(target.std, dtype=torch.float64)
        m_src = torch.tensor(source.mean, dtype=torch.float64)
        m_dst = torch.tensor(target.mean, dtype=torch.float64)
        self.scale = (s_src / s_dst).to(torch.float32).view(-1, 1, 1)
        self.shift = ((m_src - m_dst) / s_dst).to(torch.float32).view(-1, 1, 1)

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        image, *rest = self.dataset[index]
        return (torch.as_tensor(image) * self.scale + self.shift, *rest)


def evaluation_data(run: TrainedRun, spec: str | None = None) -> DatasetBundle:
    """The dataset whose validation part ``run`` is evaluated on.

    Args:
        run: the loaded run.
        spec: a dataset spec (``cnnlab train --dataset``), or ``None`` (or the run's own) for
            the run's validation set. Another dataset's validation part (its held-out folder, or
            its split with the run's ``val_fraction``) is resized to the run's input size and
            standardised with the run's statistics; it must have the run's classes and channels.

    Raises:
        ValueError: a bad spec, a dataset with other classes or channels, a run whose input is
            not square (another dataset cannot be resized to it by its spec).
    """
    cfg = run.config
    if spec is None or spec == cfg.dataset:
        # The run's own data; it is checked too: a folder may have changed since training.
        return _as_the_run_saw_it(run.own_data(), run, cfg.dataset)
    parse_dataset_spec(spec)
    height, width = run.preprocess.image_size
    if height != width:
        raise ValueError(
            f"the run's input is {height}x{width}; another dataset can only be resized to a "
            "square size"
        )
    data = load_dataset(
        spec,
        height,
        cfg.val_fraction,
        skip_bad_images=cfg.skip_bad_images,
        task=cfg.task,
    )
    return _as_the_run_saw_it(data, run, spec)


def _as_the_run_saw_it(data: DatasetBundle, run: TrainedRun, spec: str) -> DatasetBundle:
    """``data`` checked against the run (classes, channels, size), its validation images
    re-standardised to the run's statistics where its own differ."""
    if list(data.classes) != list(run.classes):
        raise ValueError(
            f"dataset {spec!r} has classes {list(data.classes)}, but the run {run.run_dir} was "
            f"trained on {list(run.classes)}; evaluate it on a dataset of the same classes"
        )
    if data.in_chans != run.preprocess.in_chans:
        raise ValueError(
            f"dataset {spec!r} has {data.in_chans}-channel images, but the run {run.run_dir} "
            f"takes {run.preprocess.in_chans} channels"
        )
    if data.preprocess is None:
        raise ValueError(f"dataset {spec!r} does not say how its images are preprocessed")
    if data.preprocess.image_size != run.preprocess.image_size:
        raise ValueError(
            f"dataset {spec!r} gives {data.preprocess.image_size} images, but the run "
            f"{run.run_dir} takes {run.preprocess.image_size}"
        )
    if data.preprocess == run.preprocess:
        return data
    val = Restandardised(data.val, data.preprocess, run.preprocess)
    return replace(data, val=val, preprocess=run.preprocess)
