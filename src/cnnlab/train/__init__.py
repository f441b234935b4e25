"""Training: the loop, checkpoints, metrics and plots behind ``cnnlab train``."""

from cnnlab.train.checkpoint import load_checkpoint, save_checkpoint
from cnnlab.train.config import TrainConfig
from cnnlab.train.trainer import (
    RunDirectoryError,
    Trainer,
    TrainingDiverged,
    TrainingInterrupted,
    train,
)

__all__ = [
    "RunDirectoryError",
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "TrainingInterrupted",
    "load_checkpoint",
    "save_checkpoint",
    "train",
]
