"""The three files of a run, written atomically: ``results.csv``, ``figure.png``, ``summary.md``."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnlab.core.files import atomic_write, atomic_write_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from cnnlab.experiments.checks import Check
    from cnnlab.experiments.registry import ExperimentInfo

FIGURE_DPI = 80


def cell(value: Any) -> str:
    """A value as text: floats with 6 significant digits, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    return str(value)


def columns_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The keys of ``rows`` in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    """``rows`` as CSV with a header (floats written exactly, with ``repr``)."""
    columns = columns_of(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buf.getvalue()


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """``rows`` as a Markdown table."""
    if not rows:
        return ""
    columns = columns_of(rows)

    def text(value: Any) -> str:
        return cell(value).replace("|", "\\|")  # a bar inside a cell would end it

    lines = ["| " + " | ".join(map(text, columns)) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    lines += ["| " + " | ".join(text(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def verdict(checks: Sequence[Check]) -> str:
    """``confirmed (all 5 checks pass)`` or ``not confirmed: 1 of 5 checks fail (...)``."""
    failed = [c.claim for c in checks if not c.passed]
    if not failed:
        return f"confirmed (all {len(checks)} checks pass)"
    return f"not confirmed: {len(failed)} of {len(checks)} checks fail ({'; '.join(failed)})"


def summary_markdown(
    info: ExperimentInfo,
    checks: Sequence[Check],
    answer: str,
    table: Sequence[dict[str, Any]],
    *,
    quick: bool,
    seed: int,
    seconds: float,
) -> str:
    """The text of ``summary.md``: the claim, the measured numbers, the reference, a verdict."""
    mode = "quick run (--quick)" if quick else "full run"
    parts = [
        f"# Experiment `{info.name}`\n",
        f"Notes: {info.section}\n",
        f"**Claim.** {info.claim}\n",
        f"**Reference.** {info.reference}\n",
    ]
    if table:
        parts += ["## Measured\n", markdown_table(table)]
    check_rows = [
        {
            "check": c.claim,
            "measured": c.measured,
            "expected": c.expected,
            "source": f"{c.source} ({c.kind})",
            "pass": "yes" if c.passed else "NO",
        }
        for c in checks
    ]
    parts += ["## Checks\n", markdown_table(check_rows)]
    parts += ["## Verdict\n", f"**{verdict(checks)}**. {answer}\n"]
    parts.append(f"_{mode}, seed {seed}, {seconds:.1f} s; files: results.csv, figure.png._\n")
    return "\n".join(parts)


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    atomic_write_text(path, csv_text(rows))


def write_figure(path: Path, figure: Figure) -> None:
    atomic_write(path, lambda f: figure.savefig(f, format="png", dpi=FIGURE_DPI))
