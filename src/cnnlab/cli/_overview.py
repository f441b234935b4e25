"""Printing for `cnnlab summary` and `cnnlab models`: a rich table, CSV, JSON or Markdown."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from cnnlab.analysis.export import human
from cnnlab.core.receptive_field import format_fraction

# column -> how the rich table shows it (CSV/JSON/Markdown keep the exact value)
_SHOWN = {
    "params": lambda v: f"{v:,}",
    "macs": human,
    "flops": human,
    "activation_bytes": lambda v: human(v, "B"),
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "x".join(_text(v) for v in value)
    return str(value)


def _json(title: str, columns: Sequence[str], records: list[dict[str, Any]]) -> str:
    return json.dumps(records, indent=2) + "\n"


def _csv(title: str, columns: Sequence[str], records: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[_text(r.get(c)) for c in columns] for r in records])
    return buf.getvalue()


def _markdown(title: str, columns: Sequence[str], records: list[dict[str, Any]]) -> str:
    lines = [f"**{title}**", "", "| " + " | ".join(columns) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    lines += ["| " + " | ".join(_text(r.get(c)) for c in columns) + " |" for r in records]
    return "\n".join(lines) + "\n"


def _cell(column: str, value: Any) -> str:
    shown = _SHOWN.get(column)
    return shown(value) if shown and isinstance(value, (int, float)) else _text(value)


def _table(title: str, columns: Sequence[str], records: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="right" if c in _SHOWN else "left")
    for r in records:
        table.add_row(*(_cell(c, r.get(c)) for c in columns))
    return table


_RECORD_FORMATS = {"json": _json, "csv": _csv, "markdown": _markdown, "table": _table}


def _emit(content: Any) -> None:
    if isinstance(content, str):
        print(content, end="")
    else:
        from rich.console import Console

        Console(width=200).print(content)


def print_records(
    title: str, columns: Sequence[str], records: list[dict[str, Any]], fmt: str
) -> None:
    """Print ``records`` (dicts keyed by ``columns``) in ``fmt``: table, json, csv or markdown."""
    _emit(_RECORD_FORMATS[fmt](title, columns, records))


# format -> the report's own export (the table: the report itself, which rich renders)
_REPORT_FORMATS = {
    "json": lambda r: r.to_json() + "\n",
    "csv": lambda r: r.to_csv(),
    "markdown": lambda r: r.to_markdown(),
    "table": lambda r: r,
}


def print_report(report: Any, fmt: str) -> None:
    """One report, layer by layer."""
    _emit(_REPORT_FORMATS[fmt](report))


OVERVIEW_COLUMNS = (
    "model",
    "input_size",
    "output_shape",
    "params",
    "macs",
    "flops",
    "activation_bytes",
    "rf_size",
    "rf_jump",
    "partial",
)


def _fraction_list(values: Any) -> Any:
    return None if values is None else [format_fraction(v) for v in values]


def overview_record(spec: str, report: Any) -> dict[str, Any]:
    rf = report.receptive_field
    return {
        "model": spec,
        "input_size": list(report.input_size),
        "output_shape": list(report.modules[""].output_shape),
        "params": report.total_params,
        "macs": report.total_macs,
        "flops": report.total_flops,
        "activation_bytes": report.total_activation_bytes,
        "rf_size": None if rf is None else _fraction_list(rf.size),
        "rf_jump": None if rf is None else _fraction_list(rf.jump),
        "partial": report.partial,
    }


def print_overview(reports: list[tuple[str, Any]], fmt: str, compare: bool) -> None:
    """Totals, one record per (model, input size); with ``compare`` also the ratios B / A."""
    if fmt == "json":
        print(json.dumps([{"model": s, **r.to_dict()} for s, r in reports], indent=2))
        return
    records = [overview_record(s, r) for s, r in reports]
    if compare:
        half = len(records) // 2
        ordered = []
        for a, b in zip(records[:half], records[half:], strict=True):
            ratio = {"model": f"{b['model']} / {a['model']}", "input_size": a["input_size"]}
            for key in ("params", "macs", "flops", "activation_bytes"):
                ratio[key] = f"{b[key] / a[key]:.3g}x" if a[key] else "-"
            ordered += [a, b, ratio]
        records = ordered
    print_records("cost by model and input size", OVERVIEW_COLUMNS, records, fmt)
