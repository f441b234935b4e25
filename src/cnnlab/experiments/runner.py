"""``run(name, quick=False, seed=0, out=None)``: run one experiment and write its three files."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnlab.core.files import check_output_dir, create_unique_dir
from cnnlab.core.validate import InvalidArgument, non_negative_int
from cnnlab.experiments import writing
from cnnlab.experiments.context import Context
from cnnlab.experiments.registry import experiment_info

if TYPE_CHECKING:
    from rich.console import Console

    from cnnlab.experiments.checks import Check

MAX_SEED = 2**32 - 1  # NumPy's and torch's seeds both take it


@dataclass(frozen=True)
class ExperimentResult:
    """One finished run.

    Attributes:
        name: the experiment's name.
        rows: the rows of ``results.csv`` as dicts (numbers as numbers).
        csv_path, figure_path, summary_path: the three files written.
        checks: every check of the run.
        summary: the text of ``summary.md``.
        seconds: the run's wall time.
    """

    name: str
    rows: list[dict[str, Any]]
    csv_path: Path
    figure_path: Path
    summary_path: Path
    checks: list[Check]
    summary: str
    seconds: float

    @property
    def paths(self) -> tuple[Path, Path, Path]:
        """``(results.csv, figure.png, summary.md)``."""
        return self.csv_path, self.figure_path, self.summary_path

    @property
    def passed(self) -> bool:
        """Whether every check passed (the verdict is "confirmed")."""
        return all(c.passed for c in self.checks)

    @property
    def verdict(self) -> str:
        return writing.verdict(self.checks)


def _progress(console: Console | None) -> Any:
    from contextlib import nullcontext

    if console is None or not console.is_terminal:
        return nullcontext(None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def run(
    name: str,
    quick: bool = False,
    seed: int = 0,
    out: str | os.PathLike[str] | None = None,
    *,
    console: Console | None = None,
) -> ExperimentResult:
    """Run the experiment ``name`` and write ``results.csv``, ``figure.png`` and ``summary.md``.

    Args:
        name: a registered name (see :func:`list_experiments`).
        quick: the small version (about 5 s on 2 cores) that the tests run.
        seed: seed of every random draw (0 to 2**32 - 1); the global torch RNG is restored after.
        out: the folder to write into (created if needed; checked before any work). ``None``
            makes a new ``runs/experiment-NAME`` (``-2``, ``-3``... if taken).
        console: a rich console to draw progress bars on (only when it is a terminal).

    The run uses one torch thread (its tensors are small; two threads fighting over shared
    cores are slower) and restores the thread count and the global torch RNG afterwards.

    Returns:
        The rows, the checks and the paths of the three files.

    Raises:
        ValueError: unknown name (with close matches), a bad seed, or an unusable ``out``.
    """
    import torch

    info = experiment_info(name)
    if not isinstance(quick, bool):
        raise InvalidArgument("quick", f"quick must be True or False, got {quick!r}")
    seed = non_negative_int("seed", seed, maximum=MAX_SEED)
    if out is None:
        folder = create_unique_dir(f"runs/experiment-{name}")
    else:
        folder = check_output_dir("out", out)
    start = time.perf_counter()
    threads = torch.get_num_threads()
    try:
        # The experiments' tensors are small: one thread is faster than two fighting over
        # shared cores (and no slower on a quiet machine).
        torch.set_num_threads(1)
        with torch.random.fork_rng(devices=[]), _progress(console) as progress:
            torch.manual_seed(seed)
            outcome = info.fn(Context(quick=quick, seed=seed, progress=progress))
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - start
    text = writing.summary_markdown(
        info,
        outcome.checks,
        outcome.answer,
        outcome.table,
        quick=quick,
        seed=seed,
        seconds=seconds,
    )
    paths = folder / "results.csv", folder / "figure.png", folder / "summary.md"
    writing.write_csv(paths[0], outcome.rows)
    for key, rows in outcome.tables.items():
        writing.write_csv(folder / f"{key}.csv", rows)
    writing.write_figure(paths[1], outcome.figure)
    writing.atomic_write_text(paths[2], text)
    return ExperimentResult(
        info.name, outcome.rows, *paths, checks=list(outcome.checks), summary=text, seconds=seconds
    )
