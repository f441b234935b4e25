"""An optimizer race: all twelve rules of the notes from the same start on a 2-D landscape."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab.core.names import unknown_name_message
from cnnlab.scratch.optim.factory import OPTIMIZERS, create_optimizer
from cnnlab.scratch.optim.landscapes import LANDSCAPES, Landscape
from cnnlab.scratch.parameter import Parameter

# Learning rates that let every rule make visible progress within a few hundred steps; the
# same rate cannot serve all twelve (AdaDelta's first steps are ~sqrt(eps) = 1e-3 whatever
# the scale, so Rosenbrock's long valley wants lr = 5, SGD on
# Rosenbrock's valley walls needs lr ~ 1e-3).
RACE_LR: dict[str, dict[str, float]] = {
    "rosenbrock": {
        "sgd": 1e-3,
        "minibatch": 1e-3,
        "momentum": 2e-4,
        "nesterov": 2e-4,
        "adagrad": 0.5,
        "adadelta": 5.0,
        "rmsprop": 1e-2,
        "adam": 5e-2,
        "adamax": 5e-2,
        "nadam": 5e-2,
        "amsgrad": 5e-2,
        "adabound": 5e-2,
    },
    "beale": {
        "sgd": 5e-3,
        "minibatch": 5e-3,
        "momentum": 1e-3,
        "nesterov": 1e-3,
        "adagrad": 0.5,
        "adadelta": 1.0,
        "rmsprop": 1e-2,
        "adam": 5e-2,
        "adamax": 5e-2,
        "nadam": 5e-2,
        "amsgrad": 5e-2,
        "adabound": 5e-2,
    },
    "saddle": {
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
    },
    "himmelblau": {
        "sgd": 5e-3,
        "minibatch": 5e-3,
        "momentum": 1e-3,
        "nesterov": 1e-3,
        "adagrad": 0.5,
        "adadelta": 1.0,
        "rmsprop": 2e-2,
        "adam": 5e-2,
        "adamax": 5e-2,
        "nadam": 5e-2,
        "amsgrad": 5e-2,
        "adabound": 5e-2,
    },
}


@dataclass
class Trajectory:
    """One optimizer's run.

    Attributes:
        name: the optimizer's name in the notes.
        lr: the learning rate it ran with.
        points: (x, y) after 0, 1, ..., steps steps.
        losses: f at those points.

    Shape:
        points: (steps + 1, 2); losses: (steps + 1,).
    """

    name: str
    lr: float
    points: np.ndarray
    losses: np.ndarray


def get_landscape(name: str) -> Landscape:
    """The landscape called ``name``; ValueError listing close matches otherwise."""
    landscape = LANDSCAPES.get(name)
    if landscape is None:
        raise ValueError(unknown_name_message("function", name, LANDSCAPES))
    return landscape


def run_race(
    function: str,
    steps: int = 300,
    optimizers: list[str] | None = None,
    lrs: dict[str, float] | None = None,
) -> dict[str, Trajectory]:
    """Run each optimizer from the landscape's start for ``steps`` steps.

    Args:
        function: a name in :data:`LANDSCAPES`.
        steps: number of updates (>= 1).
        optimizers: names from the notes (default: all twelve).
        lrs: learning rates overriding :data:`RACE_LR` for this landscape.

    Returns:
        name -> :class:`Trajectory`, in the order of ``optimizers``.
    """
    landscape = get_landscape(function)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    names = list(OPTIMIZERS) if optimizers is None else list(optimizers)
    for name in names:
        if name not in OPTIMIZERS:
            raise ValueError(unknown_name_message("optimizer", name, OPTIMIZERS))
    chosen = {**RACE_LR[function], **(lrs or {})}
    out: dict[str, Trajectory] = {}
    for name in names:
        point = Parameter(np.array(landscape.start, dtype=np.float64))
        opt = create_optimizer(name, [point], lr=chosen[name])
        points = np.empty((steps + 1, 2))
        points[0] = point.data
        for t in range(1, steps + 1):
            gx, gy = landscape.grad(point.data[0], point.data[1])
            point.grad = np.array([gx, gy], dtype=np.float64)
            opt.step()
            points[t] = point.data
        losses = landscape.value(points[:, 0], points[:, 1])
        out[name] = Trajectory(name, chosen[name], points, losses)
    return out
