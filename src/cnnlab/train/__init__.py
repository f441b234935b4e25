"""Training: the loop, schedules, checkpoints, metrics and plots behind ``cnnlab train``.

- :class:`TrainConfig`, :class:`Trainer`, :func:`train`: a run from its options.
- :func:`build_scheduler`: the lr schedules, torch's schedulers stepped per iteration.
- :func:`distillation_loss`: Hinton et al.'s knowledge-distillation loss (``--teacher``).
- :func:`save_checkpoint`, :func:`load_checkpoint`: checkpoints written atomically, read as data.
- :class:`EpochMetrics`, :func:`read_metrics_csv`: a run's history.
- :func:`load_trained`: a finished run's model and data, as ``cnnlab eval`` and ``predict`` use;
  :func:`evaluate`, :func:`predict_images`, :func:`ensemble`: what those commands compute.

Importing this package imports nothing heavy; each name loads its module on first use (PEP 562),
so that ``cnnlab --help`` (which reads :class:`TrainConfig`'s defaults) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "load_checkpoint": "cnnlab.train.checkpoint",
    "save_checkpoint": "cnnlab.train.checkpoint",
    "TrainConfig": "cnnlab.train.config",
    "distillation_loss": "cnnlab.train.distillation",
    "RunDirectoryError": "cnnlab.train.errors",
    "TrainingDiverged": "cnnlab.train.errors",
    "TrainingInterrupted": "cnnlab.train.errors",
    "EpochMetrics": "cnnlab.train.history",
    "read_metrics_csv": "cnnlab.train.history",
    "SCHEDULERS": "cnnlab.train.schedules",
    "build_scheduler": "cnnlab.train.schedules",
    "ensemble": "cnnlab.train.ensembling",
    "evaluate": "cnnlab.train.evaluation",
    "predict_images": "cnnlab.train.prediction",
    "load_trained": "cnnlab.train.trained",
    "Trainer": "cnnlab.train.trainer",
    "train": "cnnlab.train.trainer",
}

__all__ = [
    "SCHEDULERS",
    "EpochMetrics",
    "RunDirectoryError",
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "TrainingInterrupted",
    "build_scheduler",
    "distillation_loss",
    "ensemble",
    "evaluate",
    "load_checkpoint",
    "load_trained",
    "predict_images",
    "read_metrics_csv",
    "save_checkpoint",
    "train",
]

if TYPE_CHECKING:
    from cnnlab.train.checkpoint import load_checkpoint, save_checkpoint
    from cnnlab.train.config import TrainConfig
    from cnnlab.train.distillation import distillation_loss
    from cnnlab.train.ensembling import ensemble
    from cnnlab.train.errors import RunDirectoryError, TrainingDiverged, TrainingInterrupted
    from cnnlab.train.evaluation import evaluate
    from cnnlab.train.history import EpochMetrics, read_metrics_csv
    from cnnlab.train.prediction import predict_images
    from cnnlab.train.schedules import SCHEDULERS, build_scheduler
    from cnnlab.train.trained import load_trained
    from cnnlab.train.trainer import Trainer, train


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'cnnlab.train' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
