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


def print_records(
    title: str, columns: Sequence[str], records: list[dict[str, Any]], fmt: str
) -> None:
    """Print ``records`` (dicts keyed by ``columns``) in ``fmt``: table, json, csv or markdown."""
    if fmt == "json":
        print(json.dumps(records, indent=2))
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_text(r.get(c)) for c in columns] for r in records])
        print(buf.getvalue(), end="")
    elif fmt == "markdown":
        print(f"**{title}**\n")
        print("| " + " | ".join(columns) + " |")
        print("|" + "|".join("---" for _ in columns) + "|")
        for r in records:
            print("| " + " | ".join(_text(r.get(c)) for c in columns) + " |")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for c in columns:
            table.add_column(c, justify="right" if c in _SHOWN else "left")
        for r in records:
            cells = []
            for c in columns:
                v = r.get(c)
                cells.append(
                    _SHOWN[c](v) if c in _SHOWN and isinstance(v, (int, float)) else _text(v)
                )
            table.add_row(*cells)
        Console(width=200).print(table)


def print_report(report: Any, fmt: str) -> None:
    """One report, layer by layer."""
    if fmt == "json":
        print(report.to_json())
    elif fmt == "csv":
        print(report.to_csv(), end="")
    elif fmt == "markdown":
        print(report.to_markdown(), end="")
    else:
        from rich.console import Console

        Console(width=200).print(report)


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
