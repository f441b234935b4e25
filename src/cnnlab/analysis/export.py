"""Report export: dict/JSON, CSV, Markdown and a rich table (also used for ``print(report)``).

Exact values everywhere except the table: integers stay integers and receptive-field fractions
are written ``p/q`` (``"1/2"``). The table abbreviates large counts (``4.09G``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from cnnlab.core.receptive_field import format_fraction

if TYPE_CHECKING:
    from rich.table import Table

    from cnnlab.analysis.report import LayerRow, Report

COLUMNS = (
    "name",
    "type",
    "output_shape",
    "params",
    "macs",
    "flops",
    "activation_bytes",
    "rf_size",
    "rf_jump",
    "rf_start",
    "uncounted",
)


def _exact(value: Fraction) -> int | str:
    value = Fraction(value)
    return value.numerator if value.denominator == 1 else format_fraction(value)


def _pair(values: Sequence[Fraction] | None) -> list[int | str] | None:
    return None if values is None else [_exact(v) for v in values]


def _shape(shape: tuple) -> list:
    return [list(s) if isinstance(s, tuple) else s for s in shape]


def row_dict(row: LayerRow) -> dict[str, Any]:
    """One row as plain JSON-ready values."""
    return {
        "name": row.name,
        "type": row.type,
        "kind": row.kind,
        "depth": row.depth,
        "output_shape": _shape(row.output_shape),
        "params": row.params,
        "macs": row.macs,
        "flops": row.flops,
        "activation_bytes": row.activation_bytes,
        "rf_size": _pair(row.rf_size),
        "rf_jump": _pair(row.rf_jump),
        "rf_start": _pair(row.rf_start),
        "uncounted": list(row.uncounted),
        "notes": list(row.notes),
    }


def report_dict(report: Report) -> dict[str, Any]:
    """The report as plain values: totals, field at the output, rows at the report's depth."""
    rf = report.receptive_field
    return {
        "model": report.model,
        "input_size": list(report.input_size),
        "depth": report.depth,
        "total_params": report.total_params,
        "trainable_params": report.trainable_params,
        "total_macs": report.total_macs,
        "total_flops": report.total_flops,
        "total_activation_bytes": report.total_activation_bytes,
        "count_bias": report.count_bias,
        "partial": report.partial,
        "uncounted": dict(report.uncounted),
        "receptive_field": None
        if rf is None
        else {"size": _pair(rf.size), "jump": _pair(rf.jump), "start": _pair(rf.start)},
        "notes": list(report.notes),
        "warnings": list(report.warnings),
        "layers": [row_dict(r) for r in report.layers],
    }


def to_json(report: Report, indent: int | None = 2) -> str:
    return json.dumps(report_dict(report), indent=indent)


def _joined(values: Sequence[Any] | None, sep: str = "x") -> str:
    if values is None:
        return ""
    return sep.join(format_fraction(v) if isinstance(v, Fraction) else str(v) for v in values)


def _shape_text(shape: tuple) -> str:
    if shape and isinstance(shape[0], tuple):
        return " ".join(_joined(s) for s in shape)
    return _joined(shape)


def _cells(row: LayerRow) -> list[str]:
    return [
        row.name,
        row.type,
        _shape_text(row.output_shape),
        str(row.params),
        str(row.macs),
        str(row.flops),
        str(row.activation_bytes),
        _joined(row.rf_size),
        _joined(row.rf_jump),
        _joined(row.rf_start),
        " ".join(row.uncounted),
    ]


def to_csv(report: Report) -> str:
    """One line per row at the report's depth; shapes and fields per axis joined by ``x``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in report.layers:
        writer.writerow(_cells(row))
    return buf.getvalue()


def human(n: float, unit: str = "") -> str:
    """``4.09G``, ``61.1M``, ``512``: three significant digits with a K/M/G/T suffix."""
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= factor:
            return f"{n / factor:.3g}{suffix}{unit}"
    return f"{n:g}{unit}"


def _footer(report: Report) -> list[str]:
    rf = report.receptive_field
    lines = [
        f"params {report.total_params:,} (trainable {report.trainable_params:,}); "
        f"MACs {human(report.total_macs)}; FLOPs {human(report.total_flops)}; "
        f"activations {human(report.total_activation_bytes, 'B')}"
    ]
    if rf is not None:
        lines.append(
            f"receptive field at the output: size {_joined(rf.size)}, jump {_joined(rf.jump)}, "
            f"start {_joined(rf.start)}"
        )
    if report.partial:
        ops = ", ".join(f"{k} x{v}" for k, v in report.uncounted.items())
        lines.append(f"PARTIAL: ops without a cost formula (not counted): {ops}")
    lines += [f"warning: {w}" for w in report.warnings]
    lines += [f"note: {n}" for n in report.notes]
    return lines


def to_markdown(report: Report) -> str:
    """A GitHub-flavoured Markdown table followed by the totals and notes."""
    head = "| " + " | ".join(COLUMNS[:-1]) + " |"
    rule = "|" + "|".join("---" if i < 3 else "---:" for i in range(len(COLUMNS) - 1)) + "|"
    lines = [f"**{report.model}** at input {_joined(report.input_size)}", "", head, rule]
    for row in report.layers:
        cells = _cells(row)[:-1]
        cells[0] = f"`{cells[0]}`"
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {line}" for line in _footer(report)]
    return "\n".join(lines) + "\n"


def rich_table(report: Report) -> Table:
    """A ``rich`` table: one line per row, indented by depth, totals and notes as caption."""
    from rich.table import Table

    table = Table(
        title=f"{report.model} at input {_joined(report.input_size)}",
        caption="\n".join(_footer(report)),
        caption_justify="left",
    )
    for name, justify in (
        ("Layer", "left"),
        ("Type", "left"),
        ("Output shape", "left"),
        ("Params", "right"),
        ("MACs", "right"),
        ("FLOPs", "right"),
        ("Activations", "right"),
        ("RF size", "right"),
        ("Jump", "right"),
        ("Start", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    base = min((r.depth for r in report.layers), default=0)
    for row in report.layers:
        mark = " *" if row.uncounted else ""
        table.add_row(
            "  " * (row.depth - base) + row.name + mark,
            row.type,
            _shape_text(row.output_shape),
            f"{row.params:,}" if row.params else "-",
            human(row.macs) if row.macs else "-",
            human(row.flops) if row.flops else "-",
            human(row.activation_bytes, "B"),
            _joined(row.rf_size),
            _joined(row.rf_jump),
            _joined(row.rf_start),
        )
    return table


def to_text(report: Report, width: int = 160) -> str:
    """The rich table rendered as plain text (what ``print(report)`` shows)."""
    from rich.console import Console

    console = Console(file=io.StringIO(), width=width, color_system=None, record=True)
    console.print(rich_table(report))
    return console.export_text()
