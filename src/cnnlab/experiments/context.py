"""What an experiment receives (:class:`Context`) and what it returns (:class:`Outcome`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from rich.progress import Progress

    from cnnlab.experiments.checks import Check

T = TypeVar("T")


@dataclass
class Context:
    """The settings of one run.

    Attributes:
        quick: the small version the tests run (about 5 s on 2 cores).
        seed: the seed of every random draw of the run.
        progress: a rich progress display, or None (no display).
    """

    quick: bool
    seed: int
    progress: Progress | None = None

    def pick(self, quick: T, full: T) -> T:
        """``quick`` in a quick run, ``full`` otherwise."""
        return quick if self.quick else full

    def rng(self, stream: int = 0) -> np.random.Generator:
        """A NumPy generator for this run's seed; distinct ``stream`` numbers are independent."""
        return np.random.default_rng([self.seed, stream])

    def torch_seed(self, stream: int = 0) -> int:
        """An integer seed for ``torch.manual_seed`` / ``torch.Generator``, one per stream."""
        return int(self.rng(stream).integers(2**62))

    def track(self, items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
        """Iterate over ``items`` with a progress bar (when the run has a display)."""
        if self.progress is None:
            yield from items
            return
        if total is None and isinstance(items, Sequence):
            total = len(items)
        task = self.progress.add_task(description, total=total)
        try:
            for item in items:
                yield item
                self.progress.advance(task)
        finally:
            self.progress.remove_task(task)


@dataclass
class Outcome:
    """What an experiment returns.

    Attributes:
        rows: the main table (``results.csv``), one dict per row, the same keys in each.
        figure: the figure (``figure.png``), drawn with matplotlib's object-oriented API.
        checks: the measured numbers against their references.
        table: the few numbers ``summary.md`` shows (a short list of dicts); default: none.
        answer: what the numbers answer, in a few sentences with the measured values.
        tables: further tables, written as ``<key>.csv`` next to ``results.csv``.
    """

    rows: list[dict[str, Any]]
    figure: Figure
    checks: list[Check]
    answer: str
    table: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
