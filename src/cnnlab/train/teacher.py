"""The teacher of ``cnnlab train --teacher RUN_DIR``: a finished run's model, frozen.

The teacher is the run's ``best.pt`` (its ``model`` weights: the moving average when it trained
with ``--ema``), rebuilt from the registry with its own ``config.json`` and loaded as data
(``weights_only``). It sees the student's training inputs, so it must take the same number of
channels and predict the same classes in the same order; it runs in eval mode without gradients.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from cnnlab.core.files import expand_path
from cnnlab.core.validate import InvalidArgument
from cnnlab.data import DatasetBundle
from cnnlab.models import create_model
from cnnlab.train.checkpoint import load_checkpoint
from cnnlab.train.config import TrainConfig

__all__ = ["check_teacher_dir", "load_teacher"]


def check_teacher_dir(path: str | Path) -> Path:
    """The teacher's run folder (``~`` expanded) if it holds ``config.json`` and ``best.pt``."""
    run_dir = expand_path(path)
    if not run_dir.is_dir():
        state = "is not a folder" if run_dir.exists() else "does not exist"
        raise InvalidArgument("teacher", f"teacher: run directory {str(run_dir)!r} {state}")
    for name in ("config.json", "best.pt"):
        if not (run_dir / name).is_file():
            raise InvalidArgument(
                "teacher",
                f"teacher: {str(run_dir)!r} holds no {name}; give the folder of a trained run",
            )
    return run_dir


def load_teacher(path: str | Path, data: DatasetBundle, device: torch.device) -> nn.Module:
    """The frozen teacher model of the run in ``path``, on ``device``, in eval mode.

    Raises:
        ValueError: not a run folder, or a teacher for other classes or channels.
    """
    run_dir = check_teacher_dir(path)
    config = TrainConfig.load(run_dir / "config.json")
    state = load_checkpoint(run_dir / "best.pt")
    classes = state.get("classes")
    weights = state["model"]
    model = create_model(
        config.model,
        num_classes=data.num_classes,
        in_chans=data.in_chans,
        **config.validate().model_kwargs,
    )
    wanted = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    given = {k: tuple(v.shape) for k, v in weights.items()}
    if (classes is not None and list(classes) != list(data.classes)) or wanted != given:
        other = classes is not None and list(classes) != list(data.classes)
        theirs = f"classes {classes}" if other else "other channels or classes"
        raise InvalidArgument(
            "teacher",
            f"teacher: the {config.model} of {str(run_dir)!r} does not fit this run's data "
            f"({data.num_classes} classes {list(data.classes)}, {data.in_chans} channel(s)); "
            f"it was trained for {theirs}",
        )
    model.load_state_dict(weights)
    model.requires_grad_(False)
    return model.to(device).eval()
