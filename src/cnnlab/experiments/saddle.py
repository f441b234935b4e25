"""``saddle``: what a saddle point is, and how long each optimizer takes to leave one.

The race landscape ``saddle`` of :mod:`cnnlab.scratch.optim.landscapes`,
f(x, y) = x^2 - y^2 + y^4 / 4, has zero gradient at the origin and Hessian diag(2, -2): a
minimum along x, a maximum along y, so it is neither (a saddle). Its eigenvalues are checked
with torch's autograd Hessian and with finite differences of the landscape's own gradient.

Each of the notes' twelve NumPy-tier optimizers starts at the race's start (-1.5, 1e-3), next to
the ridge y = 0 that leads into the saddle. Near it the y coordinate obeys the linearisation
y' = -lambda y with lambda = -2, so gradient descent multiplies y by (1 + 2 lr) per step and
momentum methods by the root of their characteristic polynomial: the step at which |y| first
reaches 0.1 is predicted by running those linear recurrences, and checked. Adaptive methods
divide the tiny gradient by its own size and escape much sooner.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch

from cnnlab.experiments import checks as C
from cnnlab.experiments.context import Context, Outcome
from cnnlab.experiments.registry import register_experiment
from cnnlab.scratch import Parameter
from cnnlab.scratch.optim import create_optimizer
from cnnlab.scratch.optim.landscapes import LANDSCAPES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Learning rates that let every rule move within a few hundred steps on this landscape.
LEARNING_RATES: dict[str, float] = {
    "sgd": 2e-2,
    "minibatch": 2e-2,
    "momentum": 5e-3,
    "nesterov": 5e-3,
    "adagrad": 0.3,
    "adadelta": 1.0,
    "rmsprop": 1e-2,
    "adam": 3e-2,
    "adamax": 3e-2,
    "nadam": 3e-2,
    "amsgrad": 3e-2,
    "adabound": 3e-2,
}
LEAVE = 0.1  # |y| at which the path has left the saddle's linear region
BASIN = -0.5  # f below this: inside a minimum's basin (f_min = -1, f(saddle) = 0)
NEGATIVE_CURVATURE = -2.0  # d2f/dy2 at the saddle, from the formula
MOMENTUM = 0.9  # the momentum the notes' "momentum" and "nesterov" use


def hessians() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gradient at the origin and the Hessian there by autograd and by finite differences."""
    land = LANDSCAPES["saddle"]
    origin = torch.zeros(2, dtype=torch.float64)
    auto = torch.autograd.functional.hessian(lambda v: land.value(v[0], v[1]), origin).numpy()
    h = 1e-4
    fd = np.empty((2, 2))
    for j in range(2):
        step = np.zeros(2)
        step[j] = h
        plus = np.array(land.grad(*(step)), dtype=float)
        minus = np.array(land.grad(*(-step)), dtype=float)
        fd[:, j] = (plus - minus) / (2 * h)
    grad0 = np.array(land.grad(0.0, 0.0), dtype=float)
    return grad0, auto, fd


def predicted_leave_step(name: str, lr: float, y0: float, limit: int) -> int | None:
    """First step with |y| >= LEAVE under the linearised dynamics g = lambda y of SGD rules."""
    if name not in ("sgd", "minibatch", "momentum", "nesterov"):
        return None
    mu = 0.0 if name in ("sgd", "minibatch") else MOMENTUM
    y, buf = y0, None
    for t in range(1, limit + 1):
        g = NEGATIVE_CURVATURE * y
        buf = g if buf is None else mu * buf + g
        y -= lr * (g + mu * buf if name == "nesterov" else buf)
        if abs(y) >= LEAVE:
            return t
    return None


def race(steps: int) -> dict[str, np.ndarray]:
    """Each optimizer's path from the landscape's start. Shape: name -> (steps + 1, 2)."""
    land = LANDSCAPES["saddle"]
    paths = {}
    for name, lr in LEARNING_RATES.items():
        point = Parameter(np.array(land.start, dtype=np.float64))
        opt = create_optimizer(name, [point], lr=lr)
        path = np.empty((steps + 1, 2))
        path[0] = point.data
        for t in range(1, steps + 1):
            point.grad = np.array(land.grad(point.data[0], point.data[1]), dtype=np.float64)
            opt.step()
            path[t] = point.data
        paths[name] = path
    return paths


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def _figure(paths: dict[str, np.ndarray], rows: list[dict]) -> Figure:
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    land = LANDSCAPES["saddle"]
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    ax_c, ax_y, ax_b = fig.subplots(1, 3)
    xs = np.linspace(*land.xlim, 200)
    ys = np.linspace(*land.ylim, 200)
    gx, gy = np.meshgrid(xs, ys)
    ax_c.contourf(gx, gy, land.value(gx, gy), levels=30, cmap="Greys", alpha=0.4)
    colours = [*colormaps["tab10"].colors, "black", "magenta"]
    for (name, path), colour in zip(paths.items(), colours, strict=False):
        ax_c.plot(path[:, 0], path[:, 1], color=colour, lw=1, label=name)
        ax_y.semilogy(np.maximum(np.abs(path[:, 1]), 1e-4), color=colour, lw=1, label=name)
    ax_c.plot(0, 0, "rx", ms=10, label="saddle")
    ax_c.set(xlim=land.xlim, ylim=land.ylim, xlabel="x", ylabel="y")
    ax_c.set_title("x^2 - y^2 + y^4/4: paths from (-1.5, 0.001)", fontsize=9)
    ax_c.legend(fontsize=6, ncol=2)
    done = [r for r in rows if r["steps_to_basin"] is not None]
    ax_y.axhline(LEAVE, color="k", ls=":", lw=0.8)
    horizon = 1.5 * max((r["steps_to_basin"] for r in done), default=len(path))
    ax_y.set(xlabel="step", ylabel="|y|", title="leaving the ridge y = 0", xlim=(0, horizon))
    done.sort(key=lambda r: r["steps_to_basin"])
    ax_b.barh([r["optimizer"] for r in done], [r["steps_to_basin"] for r in done])
    ax_b.invert_yaxis()
    ax_b.set(xlabel=f"steps until f < {BASIN}", title="steps to escape the saddle")
    return fig


@register_experiment(
    name="saddle",
    section="#4 鞍点的定义和特点？; #30 优化算法",
    claim="a saddle point has zero gradient and a Hessian with eigenvalues of both signs; "
    "gradient descent leaves it at a rate set by the negative eigenvalue, adaptive methods faster",
    reference="the Hessian of x^2 - y^2 + y^4/4 (exact), torch autograd; the linearised "
    "update y_t = (1 + 2 lr)^t y_0",
    full_seconds=3.0,
)
def saddle(ctx: Context) -> Outcome:
    grad0, auto, fd = hessians()
    steps = ctx.pick(400, 3000)
    paths = race(steps)
    land = LANDSCAPES["saddle"]
    y0 = float(land.start[1])
    rows = []
    for name, path in paths.items():
        f = land.value(path[:, 0], path[:, 1])
        rows.append(
            {
                "optimizer": name,
                "lr": LEARNING_RATES[name],
                "steps_to_leave": _first(np.abs(path[:, 1]) >= LEAVE),
                "predicted_steps_to_leave": predicted_leave_step(
                    name, LEARNING_RATES[name], y0, steps
                ),
                "steps_to_basin": _first(f < BASIN),
                "final_f": float(f[-1]),
            }
        )
    exact = np.diag([2.0, NEGATIVE_CURVATURE])
    eig = np.linalg.eigvalsh(auto)
    checks = [
        C.within(
            "|gradient| at the origin",
            float(np.abs(grad0).max()),
            0.0,
            0.0,
            source="exact: a critical point",
            kind="exact",
        ),
        C.within(
            "autograd Hessian at the origin vs diag(2, -2), max abs difference",
            float(np.abs(auto - exact).max()),
            0.0,
            1e-12,
            source="exact: d2f/dx2 = 2, d2f/dy2 = -2 + 3y^2, d2f/dxdy = 0",
            kind="exact",
        ),
        C.within(
            "finite-difference Hessian of the landscape's gradient vs diag(2, -2)",
            float(np.abs(fd - exact).max()),
            0.0,
            1e-6,
            source="exact (central differences, h = 1e-4)",
            kind="exact",
        ),
        C.holds(
            "Hessian eigenvalues have both signs (a saddle, not an extremum)",
            bool(eig.min() < 0 < eig.max()),
            measured=f"{eig[0]:.6g}, {eig[1]:.6g}",
            expected="-2, 2",
            source="exact",
            kind="exact",
        ),
    ]
    for r in rows:
        if r["predicted_steps_to_leave"] is None:
            continue
        measured = r["steps_to_leave"]
        checks.append(
            C.close(
                f"{r['optimizer']} (lr {r['lr']:g}): first step with |y| >= {LEAVE}",
                math.nan if measured is None else measured,
                r["predicted_steps_to_leave"],
                atol=1,
                source="the linearised update at the saddle (eigenvalue -2)",
                fmt="g",
            )
        )
    table = [
        {
            "optimizer": r["optimizer"],
            "lr": r["lr"],
            "steps to |y| >= 0.1": r["steps_to_leave"],
            "predicted": r["predicted_steps_to_leave"],
            f"steps to f < {BASIN}": r["steps_to_basin"],
        }
        for r in rows
    ]
    by = {r["optimizer"]: r for r in rows}
    stuck = [r["optimizer"] for r in rows if r["steps_to_basin"] is None]
    escaped = [r for r in rows if r["steps_to_basin"] is not None]
    fastest = min(escaped, key=lambda r: r["steps_to_basin"])
    answer = (
        f"At the origin the gradient is 0 and the Hessian is diag(2, -2): curving up along x "
        f"and down along y, so it is a saddle, not a minimum. Starting 0.001 off the ridge, "
        f"gradient descent (lr {by['sgd']['lr']:g}) needs {by['sgd']['steps_to_leave']} steps "
        f"to reach |y| = 0.1, exactly as (1 + 2 lr)^t predicts, because the escape speed is "
        f"the negative eigenvalue times the learning rate; momentum needs "
        f"{by['momentum']['steps_to_leave']}. Adaptive methods rescale the tiny gradient: "
        f"{fastest['optimizer']} is inside a basin after {fastest['steps_to_basin']} steps."
        + (f" Not escaped in {steps} steps: {', '.join(stuck)}." if stuck else "")
    )
    return Outcome(
        rows=rows,
        figure=_figure(paths, rows),
        checks=checks,
        answer=answer,
        table=table,
    )
