"""The comparison table of ``cnnlab compress``: one row per method, the original first."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass
class Row:
    """One model's costs and accuracy."""

    method: str
    params: int
    size_mb: float  # the saved file (state dict and what rebuilds it)
    macs: int
    latency_b1_ms: float  # CPU, median
    latency_b32_ms: float
    val_acc: float  # fraction
    delta_points: float  # accuracy change vs the original, in percentage points
    detail: str = ""
    path: str = ""


@dataclass
class CompressionReport:
    """The rows and the conditions they were measured under."""

    run_dir: str
    model: str
    dataset: str
    input_size: list[int]
    threads: int
    torch_version: str
    rows: list[Row] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def to_markdown(self) -> str:
        """The table as GitHub markdown."""
        head = (
            "| method | parameters | size (MB) | MACs | latency b1 (ms) | latency b32 (ms) "
            "| val acc (%) | change (points) |"
        )
        lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in self.rows:
            change = "-" if r.method == "original" else f"{r.delta_points:+.2f}"
            lines.append(
                f"| {r.method} | {r.params:,} | {r.size_mb:.3f} | {format_count(r.macs)} "
                f"| {r.latency_b1_ms:.2f} | {r.latency_b32_ms:.2f} | {100 * r.val_acc:.2f} "
                f"| {change} |"
            )
        return "\n".join(lines)

    def describe(self) -> str:
        """What was measured, where: one line for the table's caption."""
        size = "x".join(str(v) for v in self.input_size)
        return (
            f"{self.model} on {self.dataset} ({size}); CPU latency median, torch "
            f"{self.torch_version}, {self.threads} thread(s)"
        )


def format_count(n: int) -> str:
    """``1493632 -> '1.49M'``, ``8200 -> '8.2k'``."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{unit}"
    return str(n)
