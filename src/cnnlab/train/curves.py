"""``curves.png``: loss, each score and the learning rate per epoch, train and validation."""

from __future__ import annotations

from pathlib import Path

from cnnlab.core.files import atomic_write
from cnnlab.train.history import EpochMetrics

__all__ = ["plot_curves"]

_BOUNDED = ("acc", "miou", "map", "map_50", "f1")  # fractions: drawn on [0, 1]


def _scores(rows: list[EpochMetrics]) -> list[str]:
    names: list[str] = []
    for column in rows[0].values:
        kind, _, score = column.partition("_")
        if score != "loss" and kind in ("train", "val") and score not in names:
            names.append(score)
    return names


def plot_curves(path: Path, rows: list[EpochMetrics], title: str = "") -> None:
    """Draw the rows' loss, scores and lr side by side and write the PNG atomically.

    Drawn on a ``matplotlib.figure.Figure`` (no pyplot state, the backend is left alone).
    """
    from matplotlib.figure import Figure

    if not rows:
        raise ValueError("plot_curves needs at least one row")
    epochs = [r.epoch for r in rows]
    scores = _scores(rows)
    panels = ["loss", *scores, "lr"]
    fig = Figure(figsize=(4.2 * len(panels), 4))
    axes = fig.subplots(1, len(panels))
    for ax, panel in zip(axes, panels, strict=True):
        if panel == "lr":
            ax.plot(epochs, [r.lr for r in rows], "o-", color="tab:gray")
            ax.set(xlabel="epoch", ylabel="learning rate (last iteration)", title="lr")
            if all(r.lr > 0 for r in rows):
                ax.set_yscale("log")
            ax.grid(alpha=0.3)
            continue
        for split, marker in (("train", "o-"), ("val", "s-")):
            column = f"{split}_{panel}"
            if column in rows[0].values:
                label = "validation" if split == "val" else "train"
                ax.plot(epochs, [r.values[column] for r in rows], marker, label=label)
        ylabel = "loss" if panel == "loss" else panel
        ax.set(xlabel="epoch", ylabel=ylabel, title=panel)
        if panel in _BOUNDED:
            ax.set_ylim(0, 1.01)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right" if panel == "loss" else "lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))
