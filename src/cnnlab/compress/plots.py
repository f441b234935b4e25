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
    """Two panels: validation accuracy vs file size, and vs batch-32 CPU latency.

    One marker per method, named in the legend (labels next to points would overlap where
    methods change little).
    """
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    markers = "*osD^vP<>X"
    for ax, key, label in (
        (axes[0], "size_mb", "saved model (MB)"),
        (axes[1], "latency_b32_ms", "CPU latency, batch 32 (ms, median)"),
    ):
        for i, row in enumerate(report.rows):
            ax.scatter(
                [getattr(row, key)],
                [100 * row.val_acc],
                marker=markers[i % len(markers)],
                s=140 if i == 0 else 55,
                alpha=0.85,
                label=row.method,
            )
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("validation accuracy (%)")
    axes[1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    fig.suptitle(report.describe(), fontsize=9)
    _save(fig, path)
