"""The comparison figure of ``cnnlab compress --all``: accuracy against size and latency."""

from __future__ import annotations

import os

from matplotlib.figure import Figure

from cnnlab.compress.report import CompressionReport
from cnnlab.core.files import atomic_write


def _save(fig: Figure, path: str | os.PathLike[str]) -> None:
    fmt = os.path.splitext(os.fspath(path))[1].lstrip(".") or "png"
    atomic_write(path, lambda f: fig.savefig(f, format=fmt, dpi=120))


def plot_comparison(report: CompressionReport, path: str | os.PathLike[str]) -> None:
    """Two panels: validation accuracy vs file size, and vs batch-32 CPU latency."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, key, label in (
        (axes[0], "size_mb", "saved model (MB)"),
        (axes[1], "latency_b32_ms", "CPU latency, batch 32 (ms, median)"),
    ):
        for row in report.rows:
            x, y = getattr(row, key), 100 * row.val_acc
            marker = "*" if row.method == "original" else "o"
            ax.scatter([x], [y], marker=marker, s=90 if marker == "*" else 40)
            ax.annotate(row.method, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("validation accuracy (%)")
    fig.suptitle(report.describe(), fontsize=9)
    _save(fig, path)
