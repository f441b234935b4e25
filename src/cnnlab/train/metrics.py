"""Per-epoch metrics: ``metrics.csv`` and the ``curves.png`` plot."""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from cnnlab.core.files import atomic_write, atomic_write_text


@dataclass
class EpochMetrics:
    """One row of ``metrics.csv``; accuracies are fractions in [0, 1]."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    lr: float
    seconds: float

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def write_metrics_csv(path: Path, rows: list[EpochMetrics]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(EpochMetrics.columns())
    for row in rows:
        writer.writerow(astuple(row))
    atomic_write_text(path, buf.getvalue())


def read_metrics_csv(path: Path) -> list[EpochMetrics]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return [
            EpochMetrics(int(r["epoch"]), *(float(r[c]) for c in EpochMetrics.columns()[1:]))
            for r in reader
        ]


def plot_curves(path: Path, rows: list[EpochMetrics], title: str = "") -> None:
    """Loss and accuracy per epoch, train and validation, side by side."""
    from matplotlib.figure import Figure

    epochs = [r.epoch for r in rows]
    fig = Figure(figsize=(10, 4))
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, [r.train_loss for r in rows], "o-", label="train")
    ax_loss.plot(epochs, [r.val_loss for r in rows], "s-", label="validation")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    ax_acc.plot(epochs, [r.train_acc for r in rows], "o-", label="train")
    ax_acc.plot(epochs, [r.val_acc for r in rows], "s-", label="validation")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1.01))
    for ax, where in ((ax_loss, "upper right"), (ax_acc, "lower right")):
        ax.grid(alpha=0.3)
        ax.legend(loc=where)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))
