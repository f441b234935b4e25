"""The per-epoch history of a run: its rows, ``metrics.csv`` written and read back.

A row holds the epoch, the task's values (``train_loss``, ``train_acc``, ``val_loss``,
``val_acc`` for classification: :meth:`cnnlab.train.tasks.Task.columns`), the learning rate of
the epoch's last iteration and the seconds it took. ``row.val_acc`` reads a value by name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnlab.core.files import atomic_write_text

__all__ = ["EpochMetrics", "read_metrics_csv", "write_metrics_csv"]


@dataclass
class EpochMetrics:
    """One row of ``metrics.csv``; accuracies are fractions in [0, 1].

    Attributes:
        epoch: the epoch, counted from 1.
        values: the task's columns in order (``train_loss``, ``train_acc``, ``val_loss``,
            ``val_acc``...), also readable as attributes (``row.val_acc``).
        lr: the learning rate of the epoch's last iteration (of the first parameter group).
        seconds: wall-clock time of the epoch, validation included.
    """

    epoch: int
    values: dict[str, float]
    lr: float
    seconds: float

    def __getattr__(self, name: str) -> float:
        values = self.__dict__.get("values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__!r} has no value {name!r}")

    def columns(self) -> list[str]:
        return ["epoch", *self.values, "lr", "seconds"]

    def as_dict(self) -> dict[str, Any]:
        """The row as one flat dict (what a checkpoint stores)."""
        return {"epoch": self.epoch, **self.values, "lr": self.lr, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> EpochMetrics:
        """The inverse of :meth:`as_dict` (also reads checkpoints of the first format)."""
        rest = {k: float(v) for k, v in row.items() if k not in ("epoch", "lr", "seconds")}
        return cls(int(row["epoch"]), rest, float(row["lr"]), float(row["seconds"]))


def write_metrics_csv(path: Path, rows: list[EpochMetrics]) -> None:
    """Write the rows (one header from the first row's columns) atomically."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if rows:
        writer.writerow(rows[0].columns())
    for row in rows:
        writer.writerow([row.epoch, *row.values.values(), row.lr, row.seconds])
    atomic_write_text(path, buf.getvalue())


def read_metrics_csv(path: Path) -> list[EpochMetrics]:
    """The rows of a ``metrics.csv``."""
    with open(path, newline="") as f:
        return [EpochMetrics.from_dict(r) for r in csv.DictReader(f)]
