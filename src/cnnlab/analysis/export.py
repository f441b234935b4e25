"""Report export: dict/JSON, CSV, Markdown and a rich table (also used for ``print(report)``).

Exact values everywhere except the table: integers stay integers and receptive-field fractions
are written ``p/q`` (``"1/2"``). The table abbreviates large counts (``4.09G``). Reports traced
with ``mode="train"`` add the backward's MACs and the saved bytes per row.

This module reads reports and rows; it imports neither (the report calls it).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cnnlab.core.receptive_field import Number, exact, format_fraction

if TYPE_CHECKING:
    from rich.table import Table

    from cnnlab.analysis.report import Report
    from cnnlab.analysis.rows import Row

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
TRAINING_COLUMNS = ("backward_macs", "saved_bytes")


def columns(report: Report) -> tuple[str, ...]:
    """The CSV/Markdown columns of ``report`` (training columns after ``activation_bytes``)."""
    if report.mode != "train":
        return COLUMNS
    i = COLUMNS.index("activation_bytes") + 1
    return COLUMNS[:i] + TRAINING_COLUMNS + COLUMNS[i:]


def _exact(value: Number) -> int | str:
    value = exact(value)
    return value if isinstance(value, int) else format_fraction(value)


def _pair(values: Sequence[Number] | None) -> list[int | str] | None:
    return None if values is None else [_exact(v) for v in values]


def _shape(shape: tuple) -> list:
    return [list(s) if isinstance(s, tuple) else s for s in shape]


def row_dict(row: Row, training: bool = False) -> dict[str, Any]:
    """One row as plain JSON-ready values."""
    out = {
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
        "uncounted": dict(row.uncounted),
        "notes": list(row.notes),
        "data_dependent": row.data_dependent,
    }
    if training:
        out["backward_macs"] = row.backward_macs
        out["saved_bytes"] = row.saved_bytes
    return out


def report_dict(report: Report) -> dict[str, Any]:
    """The report as plain values: totals, field at the output, rows at the report's depth."""
    rf = report.receptive_field
    training = report.mode == "train"
    out: dict[str, Any] = {
        "model": report.model,
        "input_size": list(report.input_size),
        "input_shapes": [list(s) for s in report.input_shapes],
        "mode": report.mode,
        "device": report.device,
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
    }
    if training:
        out["total_backward_macs"] = report.total_backward_macs
        out["total_training_macs"] = report.total_training_macs
        out["total_saved_bytes"] = report.total_saved_bytes
    out["layers"] = [row_dict(r, training) for r in report.layers]
    return out


def to_json(report: Report, indent: int | None = 2) -> str:
    return json.dumps(report_dict(report), indent=indent)


def _joined(values: Sequence[Any] | None, sep: str = "x") -> str:
    if values is None:
        return ""
    return sep.join(str(_exact(v)) if not isinstance(v, str) else v for v in values)


def _shape_text(shape: tuple) -> str:
    if shape and isinstance(shape[0], tuple):
        return " ".join(_joined(s) for s in shape)
    return _joined(shape)


def _cell(row: Row, column: str) -> str:
    if column == "output_shape":
        return _shape_text(row.output_shape)
    if column in ("rf_size", "rf_jump", "rf_start"):
        return _joined(getattr(row, column))
    if column == "uncounted":
        return " ".join(row.uncounted)
    return str(getattr(row, column))


def to_csv(report: Report) -> str:
    """One line per row at the report's depth; shapes and fields per axis joined by ``x``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    cols = columns(report)
    writer.writerow(cols)
    for row in report.layers:
        writer.writerow([_cell(row, c) for c in cols])
    return buf.getvalue()


def human(n: float, unit: str = "") -> str:
    """``4.09G``, ``61.1M``, ``512``: three significant digits with a K/M/G/T suffix."""
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= factor:
            return f"{n / factor:.3g}{suffix}{unit}"
    return f"{n:g}{unit}"


def footer(report: Report) -> list[str]:
    """Totals, the field at the output, what was not counted, warnings and notes."""
    rf = report.receptive_field
    lines = [
        f"params {report.total_params:,} (trainable {report.trainable_params:,}); "
        f"MACs {human(report.total_macs)}; FLOPs {human(report.total_flops)}; "
        f"activations {human(report.total_activation_bytes, 'B')}"
    ]
    if report.mode == "train":
        batch = report.saved.batch if report.saved is not None else 1
        lines.append(
            f"training (forward + backward) MACs {human(report.total_training_macs)} "
            f"(backward {human(report.total_backward_macs)}); saved for the backward "
            f"{human(report.total_saved_bytes, 'B')} at batch {batch}"
        )
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
    cols = [c for c in columns(report) if c != "uncounted"]
    head = "| " + " | ".join(cols) + " |"
    rule = "|" + "|".join("---" if i < 3 else "---:" for i in range(len(cols))) + "|"
    lines = [f"**{report.model}** at input {_joined(report.input_size)}", "", head, rule]
    for row in report.layers:
        cells = [_cell(row, c) for c in cols]
        cells[0] = f"`{cells[0]}`"
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {line}" for line in footer(report)]
    return "\n".join(lines) + "\n"


def rich_table(report: Report) -> Table:
    """A ``rich`` table: one line per row, indented by depth, totals and notes as caption.

    ``*`` marks rows with uncounted ops, ``~`` rows whose shapes depend on the data.
    """
    from rich.table import Table

    training = report.mode == "train"
    table = Table(
        title=f"{report.model} at input {_joined(report.input_size)}",
        caption="\n".join(footer(report)),
        caption_justify="left",
    )
    headers = [
        ("Layer", "left"),
        ("Type", "left"),
        ("Output shape", "left"),
        ("Params", "right"),
        ("MACs", "right"),
        ("FLOPs", "right"),
        ("Activations", "right"),
    ]
    if training:
        headers += [("Bwd MACs", "right"), ("Saved", "right")]
    headers += [("RF size", "right"), ("Jump", "right"), ("Start", "right")]
    for name, justify in headers:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    base = min((r.depth for r in report.layers), default=0)
    for row in report.layers:
        mark = (" *" if row.uncounted else "") + (" ~" if row.data_dependent else "")
        cells = [
            "  " * (row.depth - base) + row.name + mark,
            row.type,
            _shape_text(row.output_shape),
            f"{row.params:,}" if row.params else "-",
            human(row.macs) if row.macs else "-",
            human(row.flops) if row.flops else "-",
            human(row.activation_bytes, "B"),
        ]
        if training:
            cells += [
                human(row.backward_macs) if row.backward_macs else "-",
                human(row.saved_bytes, "B") if row.saved_bytes else "-",
            ]
        cells += [_joined(row.rf_size), _joined(row.rf_jump), _joined(row.rf_start)]
        table.add_row(*cells)
    return table


def to_text(report: Report, width: int = 160) -> str:
    """The rich table rendered as plain text (what ``print(report)`` shows)."""
    from rich.console import Console

    console = Console(file=io.StringIO(), width=width, color_system=None, record=True)
    console.print(rich_table(report))
    return console.export_text()
