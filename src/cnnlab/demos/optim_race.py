"""The picture of ``cnnlab optim-race``: each optimizer's path over the landscape's contours, and
its loss gap f - f_min per step on a log scale.

Drawn with matplotlib's object-oriented API (a :class:`~matplotlib.figure.Figure` of its own, no
pyplot state, no backend switch) and written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from cnnlab.core.files import atomic_write
from cnnlab.scratch.optim.landscapes import Landscape
from cnnlab.scratch.optim.race import Trajectory

__all__ = ["race_figure", "save_race_figure"]

# sgd and minibatch follow the same rule (and path): the second is drawn dashed on top, as are
# the variants of a rule drawn before them.
_DASHED = {"minibatch", "nesterov", "amsgrad"}


def race_figure(landscape: Landscape, results: dict[str, Trajectory]) -> Figure:
    """Two panels: the paths over the contours (start, end points and minima marked), and
    f - f_min per step (log scale), one colour per optimizer.

    Args:
        landscape: the function raced on.
        results: name -> trajectory, as :func:`cnnlab.scratch.optim.race.run_race` returns.
    """
    f_min = landscape.f_min()
    xs = np.linspace(*landscape.xlim, 300)
    ys = np.linspace(*landscape.ylim, 300)
    gx, gy = np.meshgrid(xs, ys)
    z = landscape.value(gx, gy) - f_min
    if landscape.log_levels:
        z = np.log1p(z)

    fig = Figure(figsize=(14, 6.2), layout="tight")
    ax, ax_loss = fig.subplots(1, 2, width_ratios=(1.15, 1))
    ax.contourf(gx, gy, z, levels=40, cmap="Greys", alpha=0.35)
    ax.contour(gx, gy, z, levels=20, colors="0.6", linewidths=0.4)
    colours = [*mpl.colormaps["tab10"].colors, "black", "magenta"]
    for i, r in enumerate(results.values()):
        style = "--" if r.name in _DASHED else "-"
        colour = colours[i % len(colours)]
        label = f"{r.name} (lr {r.lr:g})"
        pts = r.points
        ax.plot(pts[:, 0], pts[:, 1], style, color=colour, lw=1.4, label=label)
        ax.plot(pts[-1, 0], pts[-1, 1], "o", color=colour, ms=4)
        gap = np.maximum(r.losses - f_min, 1e-16)
        ax_loss.semilogy(np.arange(len(gap)), gap, style, color=colour, lw=1.3, label=label)
    ax.plot(*landscape.start, "k^", ms=9, label="start")
    for mx, my in landscape.minima:
        ax.plot(mx, my, "r*", ms=13)
    ax.set(xlim=landscape.xlim, ylim=landscape.ylim, xlabel="x", ylabel="y")
    ax.set_title(f"{landscape.name}: {landscape.formula}", fontsize=9)
    ax_loss.set(xlabel="step", ylabel="f(x, y) - f_min", title="loss per step")
    ax_loss.grid(True, which="major", alpha=0.3)
    ax_loss.legend(fontsize=7.5, ncol=2, loc="lower left")
    return fig


def save_race_figure(
    landscape: Landscape, results: dict[str, Trajectory], out: str | os.PathLike[str]
) -> Path:
    """Draw :func:`race_figure` and write it to ``out`` as a PNG, atomically (a failure midway
    leaves a previous file untouched). The caller checks ``out`` first
    (:func:`cnnlab.core.files.check_output_file`)."""
    out = Path(out)
    fig = race_figure(landscape, results)
    atomic_write(out, lambda f: fig.savefig(f, format="png", dpi=90))
    return out
