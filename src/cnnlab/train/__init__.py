"""Training: the loop, schedules, checkpoints, metrics and plots behind ``cnnlab train``.

- :class:`TrainConfig`, :class:`Trainer`, :func:`train`: a run from its options.
- :func:`build_scheduler`: the lr schedules, torch's schedulers stepped per iteration.
- :func:`save_checkpoint`, :func:`load_checkpoint`: checkpoints written atomically, read as data.
- :class:`EpochMetrics`, :func:`read_metrics_csv`: a run's history.
- :func:`load_trained`: a finished run's model and data, as ``cnnlab eval`` and ``predict`` use.
"""

from cnnlab.train.checkpoint import load_checkpoint, save_checkpoint
from cnnlab.train.config import TrainConfig
from cnnlab.train.errors import RunDirectoryError, TrainingDiverged, TrainingInterrupted
from cnnlab.train.history import EpochMetrics, read_metrics_csv
from cnnlab.train.schedules import SCHEDULERS, build_scheduler
from cnnlab.train.trainer import Trainer, train

__all__ = [
    "SCHEDULERS",
    "EpochMetrics",
    "RunDirectoryError",
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "TrainingInterrupted",
    "build_scheduler",
    "load_checkpoint",
    "read_metrics_csv",
    "save_checkpoint",
    "train",
]
