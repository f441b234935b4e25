"""A finished run, loaded for use: a checkpoint's weights in its model, with its task, classes
and preprocessing -- what ``cnnlab eval``, ``cnnlab predict`` and ``cnnlab ensemble`` start from.

The checkpoint is the truth: its own config names the model, dataset and task; it is read as
data only (:func:`~cnnlab.train.checkpoint.load_checkpoint`, ``weights_only=True``). Its
``model`` holds the weights validation used: with ``--ema`` the moving average (the raw weights,
kept as ``train_model`` for resuming, are not used). The class names and the validation
preprocessing are read from the checkpoint where it keeps them (``classes``, ``preprocess``);
otherwise the run's dataset is loaded again (its split and statistics are deterministic).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab.core.files import expand_path
from cnnlab.core.validate import one_of
from cnnlab.data import DatasetBundle, load_dataset
from cnnlab.data.transforms.preprocess import Preprocess
from cnnlab.models import create_model
from cnnlab.train.checkpoint import load_checkpoint
from cnnlab.train.config import TrainConfig
from cnnlab.train.state import resolve_device
from cnnlab.train.tasks import Task, get_task

__all__ = ["CHECKPOINTS", "TrainedRun", "load_trained", "run_directory"]

CHECKPOINTS = ("best", "last")
"""The checkpoints of a run: ``best.pt`` (best ``--monitor`` epoch) and ``last.pt``."""


@dataclass
class TrainedRun:
    """A run's model with the weights of one checkpoint, ready to evaluate (eval mode).

    Attributes:
        run_dir: the run directory.
        checkpoint: ``"best"`` or ``"last"``.
        epoch: the finished epochs the checkpoint holds.
        config: the run's options (the checkpoint's own).
        model: the model, in eval mode, on ``device``.
        task: the run's task, with its fitted state restored.
        classes: the class names, in output order.
        preprocess: the validation transform's size and statistics.
        device: where the model runs.
        data: the run's own dataset if it was loaded (else ``None``; see :meth:`own_data`).
    """

    run_dir: Path
    checkpoint: str
    epoch: int
    config: TrainConfig
    model: nn.Module
    task: Task
    classes: list[str]
    preprocess: Preprocess
    device: torch.device
    data: DatasetBundle | None = None

    def describe(self) -> str:
        """``runs/x (digits_cnn, best.pt of epoch 3)``."""
        return f"{self.run_dir} ({self.config.model}, {self.checkpoint}.pt of epoch {self.epoch})"

    def own_data(self) -> DatasetBundle:
        """The run's own dataset, split and preprocessed as in training (loaded once)."""
        if self.data is None:
            self.data = load_run_data(self.config)
        return self.data

    def autocast(self) -> torch.autocast:
        """The autocast validation ran under: ``--amp`` (float16 on CUDA, bfloat16 on the CPU)."""
        dtype = torch.float16 if self.device.type == "cuda" else torch.bfloat16
        return torch.autocast(self.device.type, dtype=dtype, enabled=self.config.amp)


def run_directory(path: str | Path) -> Path:
    """``path`` with ``~`` expanded, if it is a folder.

    Raises:
        ValueError: it does not exist or is a file.
    """
    run_dir = expand_path(path)
    if not run_dir.is_dir():
        state = "is a file, not a folder" if run_dir.exists() else "does not exist"
        raise ValueError(f"run directory {str(run_dir)!r} {state}")
    return run_dir


def load_run_data(config: TrainConfig) -> DatasetBundle:
    """The run's dataset, loaded as ``cnnlab train`` loaded it (validation needs no
    augmentation, so none is built)."""
    return load_dataset(
        config.dataset,
        config.image_size,
        config.val_fraction,
        skip_bad_images=config.skip_bad_images,
        task=config.task,
    )


def _config(state: dict[str, Any], path: Path) -> TrainConfig:
    saved = state.get("config")
    try:
        if not isinstance(saved, dict):
            raise ValueError("it has none")
        return TrainConfig.from_dict(saved).validate()
    except ValueError as err:  # a plain ValueError: no flag of the eval command is meant
        raise ValueError(f"checkpoint {str(path)!r} holds no valid run config: {err}") from None


def checkpoint_path(run_dir: Path, checkpoint: str) -> Path:
    """The checkpoint file of a run, checked to exist.

    Raises:
        ValueError: an unknown checkpoint name, or the run has no such file.
    """
    one_of("checkpoint", checkpoint, CHECKPOINTS)
    path = run_dir / f"{checkpoint}.pt"
    if not path.is_file():
        others = [c for c in CHECKPOINTS if c != checkpoint and (run_dir / f"{c}.pt").is_file()]
        hint = f"; it has {others[0]}.pt (--checkpoint {others[0]})" if others else ""
        raise ValueError(
            f"run directory {str(run_dir)!r} has no checkpoint {checkpoint}.pt{hint}"
            + ("" if others else " (is it a cnnlab train run that finished an epoch?)")
        )
    return path


def _data_facts(
    state: dict[str, Any], config: TrainConfig
) -> tuple[list[str], Preprocess, DatasetBundle | None]:
    """The class names and preprocessing: the checkpoint's, or the reloaded dataset's."""
    classes, preprocess = state.get("classes"), state.get("preprocess")
    if classes is not None and preprocess is not None:
        return [str(c) for c in classes], Preprocess.from_dict(preprocess), None
    data = load_run_data(config)
    if data.preprocess is None:
        raise ValueError(f"dataset {config.dataset!r} does not say how its images are preprocessed")
    return list(data.classes), data.preprocess, data


def _bundle(config: TrainConfig, classes: list[str], preprocess: Preprocess) -> DatasetBundle:
    """A bundle describing the run's data without its samples (what a task is built from)."""
    return DatasetBundle(
        name=config.dataset,
        train=[],  # type: ignore[arg-type]
        val=[],  # type: ignore[arg-type]
        num_classes=len(classes),
        in_chans=preprocess.in_chans,
        image_size=preprocess.image_size,
        classes=list(classes),
        task=config.task,
        preprocess=preprocess,
    )


def load_trained(
    run_dir: str | Path, checkpoint: str = "best", *, device: str = "cpu"
) -> TrainedRun:
    """Load a run's checkpoint into its model.

    Args:
        run_dir: the run directory (``cnnlab train --out``).
        checkpoint: ``"best"`` or ``"last"``.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.

    Raises:
        ValueError: a missing folder or checkpoint, a checkpoint that is not a cnnlab one (or
            holds code), a config or weights that do not fit the model.
    """
    folder = run_directory(run_dir)
    path = checkpoint_path(folder, checkpoint)
    target = resolve_device(one_of("device", device, ("auto", "cpu", "cuda")))
    state = load_checkpoint(path)
    config = _config(state, path)
    classes, preprocess, data = _data_facts(state, config)
    task = get_task(config.task)(data or _bundle(config, classes, preprocess))
    task.load_state_dict(state.get("task") or {})
    # Built as the trainer builds it (cnnlab.train.setup.setup_run).
    model = create_model(
        config.model,
        num_classes=len(classes),
        in_chans=preprocess.in_chans,
        **config.model_kwargs,
    )
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError, AttributeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"checkpoint {str(path)!r}: its weights do not fit model {config.model!r} "
            f"with {len(classes)} classes: {first}"
        ) from None
    model.to(target).eval()
    return TrainedRun(
        run_dir=folder,
        checkpoint=checkpoint,
        epoch=int(state["epoch"]),
        config=config,
        model=model,
        task=task,
        classes=classes,
        preprocess=preprocess,
        device=target,
        data=data,
    )
