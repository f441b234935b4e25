"""``--tensorboard``: the epoch's values as TensorBoard scalars, beside ``metrics.csv``.

Written with ``torch.utils.tensorboard.SummaryWriter`` into the run directory itself (``tensorboard
--logdir runs`` then shows every run); it needs the optional ``tensorboard`` package
(``pip install 'cnnlab[tensorboard]'``), checked before the run starts.
"""

from __future__ import annotations

from pathlib import Path

from cnnlab.train.history import EpochMetrics

__all__ = ["TensorBoardLog"]


class TensorBoardLog:
    """One scalar per value and epoch: ``loss/train``, ``loss/val``, ``acc/val``..., ``lr``."""

    def __init__(self, run_dir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(run_dir))

    def add(self, row: EpochMetrics) -> None:
        for name, value in row.values.items():
            split, _, score = name.partition("_")
            self.writer.add_scalar(f"{score}/{split}", value, row.epoch)
        self.writer.add_scalar("lr", row.lr, row.epoch)
        self.writer.add_scalar("seconds", row.seconds, row.epoch)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
