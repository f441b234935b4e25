"""An optimizer race: all twelve rules of the notes from the same start on a 2-D landscape."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab.core.names import unknown_name_message
from cnnlab.core.optimizers import OPTIMIZERS, get_optimizer_spec, race_lr
from cnnlab.core.validate import InvalidArgument, positive_int
from cnnlab.scratch.optim.factory import create_optimizer
from cnnlab.scratch.optim.landscapes import LANDSCAPES, Landscape
from cnnlab.scratch.parameter import Parameter


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
        optimizers: names from the notes (default: all twelve); at least one.
        lrs: learning rates overriding the name table's race learning rates
            (:attr:`cnnlab.core.optimizers.OptimizerSpec.race_lr`) for this landscape.

    Returns:
        name -> :class:`Trajectory`, in the order of ``optimizers``.

    Raises:
        ValueError: an unknown function or optimizer, no optimizer, ``steps`` < 1, or an
            optimizer with neither a race learning rate for ``function`` nor one in ``lrs``.
    """
    landscape = get_landscape(function)
    positive_int("steps", steps)
    names = list(OPTIMIZERS) if optimizers is None else list(optimizers)
    if not names:
        raise InvalidArgument(
            "optimizers", f"optimizers must name at least one optimizer, got {optimizers!r}"
        )
    for name in names:
        get_optimizer_spec(name)
    lrs = lrs or {}
    chosen = {name: lrs[name] if name in lrs else race_lr(name, function) for name in names}
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
