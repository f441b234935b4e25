"""A finished ``cnnlab train`` run, rebuilt for compression: its config, data and trained model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab.core.files import expand_path
from cnnlab.data import DatasetBundle, load_dataset
from cnnlab.models import create_model, model_info
from cnnlab.train.checkpoint import load_checkpoint
from cnnlab.train.config import TrainConfig

#: Checkpoints of a run directory, in order of preference.
CHECKPOINTS = ("best.pt", "last.pt")


@dataclass
class TrainedRun:
    """The pieces of a run directory that compression needs (model on CPU, eval mode)."""

    run_dir: Path
    checkpoint: Path
    config: TrainConfig
    data: DatasetBundle
    model: nn.Module

    @property
    def input_size(self) -> tuple[int, int, int]:
        """(C, H, W) of the run's images."""
        return (self.data.in_chans, *self.data.image_size)


def find_checkpoint(run_dir: str | Path) -> tuple[Path, Path]:
    """The run directory (``~`` expanded) and its best checkpoint (``best.pt``, else ``last.pt``).

    Raises:
        ValueError: the folder does not exist, has no ``config.json`` or no checkpoint.
    """
    folder = expand_path(run_dir)
    if not folder.is_dir():
        raise ValueError(f"run directory {str(folder)!r} does not exist")
    for name in CHECKPOINTS:
        if (folder / name).is_file():
            break
    else:
        raise ValueError(
            f"run directory {str(folder)!r} holds no checkpoint (best.pt or last.pt); "
            f"train one first with: cnnlab train --out {folder}"
        )
    if not (folder / "config.json").is_file():
        raise ValueError(f"run directory {str(folder)!r} has no config.json (not a cnnlab run)")
    return folder, folder / name


def build_model(name: str, num_classes: int, in_chans: int, **kwargs: Any) -> nn.Module:
    """A fresh registry classifier as ``cnnlab train`` builds it."""
    info = model_info(name)
    if info.task != "classification":
        raise ValueError(
            f"model {name!r} is a {info.task} model; cnnlab compress takes classifiers"
        )
    return create_model(name, num_classes=num_classes, in_chans=in_chans, **kwargs)


def load_run(run_dir: str | Path) -> TrainedRun:
    """Rebuild a run's model with its trained weights, and its train/validation data.

    Raises:
        ValueError: missing folder, config or checkpoint, or weights that do not fit the model.
    """
    folder, checkpoint = find_checkpoint(run_dir)
    config = TrainConfig.load(folder / "config.json")
    data = load_dataset(config.dataset, config.image_size, config.val_fraction)
    model = build_model(
        config.model, data.num_classes, data.in_chans, **config.validate().model_kwargs
    )
    state = load_checkpoint(checkpoint, map_location="cpu")
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0]
        raise ValueError(
            f"checkpoint {str(checkpoint)!r} does not fit model {config.model!r}: {first}"
        ) from None
    return TrainedRun(folder, checkpoint, config, data, model.to(torch.device("cpu")).eval())
