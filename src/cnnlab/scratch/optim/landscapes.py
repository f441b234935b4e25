"""Two-dimensional test functions for watching optimizers move: value, gradient, a start point.

Each is written out with its analytic gradient (a test checks them against finite differences).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Fn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Landscape:
    """A function of (x, y) with its gradient and a view for plotting.

    Attributes:
        name: registry name.
        formula: the function, as text.
        value: f(x, y), elementwise over arrays.
        grad: (df/dx, df/dy) at a point (floats or arrays).
        start: the common starting point of a race.
        minima: the global minimiser(s), for the plot.
        xlim, ylim: the plotted window.
        log_levels: draw contours of log(1 + f - f_min) (for the steep ones).
    """

    name: str
    formula: str
    value: Fn
    grad: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    log_levels: bool = True

    def f_min(self) -> float:
        return float(min(self.value(np.float64(x), np.float64(y)) for x, y in self.minima))


def _rosenbrock(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return -2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)


def _beale(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _beale_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b, c = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    dx = 2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1)
    dy = 2 * a * x + 4 * b * x * y + 6 * c * x * y**2
    return dx, dy


def _saddle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x**2 - y**2 + y**4 / 4


def _saddle_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return 2 * x, -2 * y + y**3


def _himmelblau(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _himmelblau_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = x**2 + y - 11, x + y**2 - 7
    return 4 * x * a + 2 * b, 2 * a + 4 * y * b


LANDSCAPES: dict[str, Landscape] = {
    "rosenbrock": Landscape(
        "rosenbrock",
        "(1 - x)^2 + 100 (y - x^2)^2",
        _rosenbrock,
        _rosenbrock_grad,
        start=(-1.5, 2.0),
        minima=((1.0, 1.0),),
        xlim=(-2.0, 2.0),
        ylim=(-1.0, 3.0),
    ),
    "beale": Landscape(
        "beale",
        "(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        _beale,
        _beale_grad,
        start=(1.0, 1.4),
        minima=((3.0, 0.5),),
        xlim=(-1.0, 4.5),
        ylim=(-1.5, 2.0),
    ),
    "saddle": Landscape(
        "saddle",
        "x^2 - y^2 + y^4 / 4  (a saddle at the origin, minima at y = +-sqrt(2))",
        _saddle,
        _saddle_grad,
        start=(-1.5, 1e-3),
        minima=((0.0, 2**0.5), (0.0, -(2**0.5))),
        xlim=(-2.0, 2.0),
        ylim=(-2.0, 2.0),
        log_levels=False,
    ),
    "himmelblau": Landscape(
        "himmelblau",
        "(x^2 + y - 11)^2 + (x + y^2 - 7)^2  (four minima)",
        _himmelblau,
        _himmelblau_grad,
        start=(-0.3, -0.9),
        minima=((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
        xlim=(-5.0, 5.0),
        ylim=(-5.0, 5.0),
    ),
}
