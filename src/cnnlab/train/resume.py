"""Resuming a run: the checkpoint is the truth, and nothing in it is trusted to run code.

The checkpoint is loaded as data only (:func:`cnnlab.train.checkpoint.load_checkpoint`); its own
config must match the run's ``config.json`` except for what may change between sessions (epochs,
device, workers); its weights must be finite and its optimizer state must belong to the run's
optimizer. Each failure is one ``ValueError`` naming what differs, raised before any data loads
or anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab.core.files import expand_path
from cnnlab.core.validate import InvalidArgument
from cnnlab.train.checkpoint import first_non_finite
from cnnlab.train.config import RESUMABLE, TrainConfig


def existing_run_dir(path: str | Path) -> Path:
    """``path`` with ``~`` expanded, if it is a folder (a run to resume)."""
    run_dir = expand_path(path)
    if not run_dir.is_dir():
        state = "is not a folder" if run_dir.exists() else "does not exist"
        raise InvalidArgument("resume", f"resume: run directory {str(run_dir)!r} {state}")
    return run_dir


def check_resume_config(config: TrainConfig, ckpt: dict[str, Any], run_dir: Path) -> None:
    """Raise unless ``config`` matches the checkpoint's own config (the truth when resuming).

    Only the options in :data:`~cnnlab.train.config.RESUMABLE` (and ``out``) may differ.
    """
    path = run_dir / "last.pt"
    saved = ckpt.get("config")
    try:
        if not isinstance(saved, dict):
            raise ValueError("it has none")
        TrainConfig.from_dict(saved).validate()
    except ValueError as err:  # a plain ValueError: the CLI must not name a flag for it
        raise ValueError(f"checkpoint {str(path)!r} holds no valid run config: {err}") from None
    diff = config.differs_from(saved)
    if diff is not None:
        name, ours, theirs = diff
        raise ValueError(
            f"cannot resume {run_dir}: its config.json says {name} = {ours!r}, but its "
            f"checkpoint {path} was trained with {name} = {theirs!r}; put that value back "
            f"(only {', '.join(RESUMABLE)} may change when resuming)"
        )


def load_weights_and_optimizer(
    ckpt: dict[str, Any],
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    config: TrainConfig,
    weights_key: str = "model",
) -> None:
    """Load the model and optimizer states of ``ckpt`` (read from ``path``), or say why not.

    ``weights_key`` names the trained weights: ``model``, or ``train_model`` when the run keeps
    a moving average (``model`` then holds the average).
    """
    weights = ckpt.get(weights_key)
    if weights is None:
        raise ValueError(f"checkpoint {str(path)!r} lacks {weights_key!r}")
    bad = first_non_finite(weights) if isinstance(weights, dict) else None
    if bad is not None:
        raise ValueError(
            f"checkpoint {str(path)!r}: weight {bad} is not finite; a diverged state cannot be "
            f"resumed"
        )
    try:
        model.load_state_dict(weights)
        optimizer.load_state_dict(ckpt["optimizer"])
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as err:
        lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
        detail = " ".join(lines[:2])[:300]
        raise ValueError(
            f"checkpoint {str(path)!r} does not fit model {config.model!r} / optimizer "
            f"{config.optimizer!r}: {detail}"
        ) from None
    lacking = sorted({k for g in optimizer.param_groups for k in optimizer.defaults if k not in g})
    if lacking:  # another rule's state: it would fail with a KeyError at the first step
        raise ValueError(
            f"the optimizer state in checkpoint {str(path)!r} does not fit optimizer "
            f"{config.optimizer!r}: its parameter groups lack {lacking}"
        )
