"""Race the notes' twelve optimizers from the same start on a 2-D test function.

Runs the NumPy-tier optimizers (cnnlab.scratch.optim, the written-out update rules) with a
sensible learning rate each, draws their trajectories on the function's contour plot and the
loss per step, saves the figure and prints the final losses.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cnnlab.scratch.optim.landscapes import Landscape
    from cnnlab.scratch.optim.race import Trajectory

NAME = "optim-race"
HELP = "race the twelve optimizers on rosenbrock | beale | saddle | himmelblau and plot them"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--function",
        default="rosenbrock",
        help="rosenbrock | beale | saddle | himmelblau (default rosenbrock)",
    )
    p.add_argument("--out", default="race.png", help="the PNG to write (default race.png)")
    p.add_argument("--steps", type=int, default=500, help="updates per optimizer (default 500)")
    p.add_argument(
        "--optimizers",
        default=None,
        help="comma-separated names from the notes (default: all twelve)",
    )
    p.add_argument(
        "--lr",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one optimizer's learning rate (repeatable), e.g. --lr adam=0.1",
    )


def _parse_lrs(items: list[str]) -> dict[str, float]:
    lrs: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            lrs[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--lr takes NAME=VALUE (e.g. adam=0.1), got {item!r}") from None
    return lrs


def run(args: argparse.Namespace) -> int:
    from cnnlab.scratch.optim.race import get_landscape, run_race

    landscape = get_landscape(args.function)
    names = None
    if args.optimizers:
        names = [n.strip() for n in args.optimizers.split(",") if n.strip()]
    lrs = _parse_lrs(args.lr)
    unknown = sorted(set(lrs) - set(names or lrs))
    if unknown:
        raise ValueError(f"--lr given for {unknown}, which are not racing")
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise ValueError(f"--out must name a .png file, got {str(out)!r}")
    if not out.parent.exists():
        raise ValueError(f"--out: folder {str(out.parent)!r} does not exist")
    results = run_race(args.function, steps=args.steps, optimizers=names, lrs=lrs)
    plot_race(landscape, results, out)
    print(f"{landscape.name}: f(x, y) = {landscape.formula}; start {landscape.start}")
    print(f"{'optimizer':<10} {'lr':>8} {'f(start)':>10} {'f(end)':>11} {'end point':>22}")
    for r in results.values():
        x, y = r.points[-1]
        print(
            f"{r.name:<10} {r.lr:>8g} {r.losses[0]:>10.4g} {r.losses[-1]:>11.4g} "
            f"({x:>9.4f}, {y:>9.4f})"
        )
    print(f"wrote {out}")
    return 0


# sgd and minibatch follow the same rule (and path): the second is drawn dashed on top.
_DASHED = {"minibatch", "nesterov", "amsgrad"}


def plot_race(landscape: Landscape, results: dict[str, Trajectory], out: Path) -> None:
    """Save a two-panel PNG: the paths over the contours, and f - f_min per step (log scale)."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f_min = landscape.f_min()
    xs = np.linspace(*landscape.xlim, 300)
    ys = np.linspace(*landscape.ylim, 300)
    gx, gy = np.meshgrid(xs, ys)
    z = landscape.value(gx, gy) - f_min
    if landscape.log_levels:
        z = np.log1p(z)

    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(14, 6.2), width_ratios=(1.15, 1))
    ax.contourf(gx, gy, z, levels=40, cmap="Greys", alpha=0.35)
    ax.contour(gx, gy, z, levels=20, colors="0.6", linewidths=0.4)
    colours = [*plt.get_cmap("tab10").colors, "black", "magenta"]
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
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
