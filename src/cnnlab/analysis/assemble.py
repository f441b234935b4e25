"""From a finished trace to a :class:`~cnnlab.analysis.report.Report`: module totals, the
parameters nobody read, notes and warnings, and what training memory needs."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from torch import nn

from cnnlab.analysis.inputs import Inputs
from cnnlab.analysis.report import Report
from cnnlab.analysis.rows import Row
from cnnlab.analysis.training import SavedActivations
from cnnlab.core.receptive_field import format_fraction

if TYPE_CHECKING:
    from cnnlab.analysis.summary import Trace


def _ancestors(scope: str) -> list[str]:
    parts = scope.split(".") if scope else []
    return [""] + [".".join(parts[: i + 1]) for i in range(len(parts))]


def _parameters(model: nn.Module) -> tuple[dict[str, int], list]:
    """Parameters of every module path (each shared parameter once per module), and all of them
    once."""
    owners: dict[str, dict[int, int]] = {}
    unique: dict[int, nn.Parameter] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        unique[id(p)] = p
        parts = name.split(".")[:-1]
        for i in range(len(parts) + 1):
            owners.setdefault(".".join(parts[:i]), {})[id(p)] = p.numel()
    return {path: sum(sizes.values()) for path, sizes in owners.items()}, list(unique.values())


def _bytes(tensors: list) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def assemble(
    model: nn.Module,
    trace: Trace,
    inputs: Inputs,
    depth: int | None,
    count_bias: bool,
    mode: str,
    doubled_saved: int | None,
) -> Report:
    """The report of ``trace`` (``doubled_saved``: saved bytes of a trace at twice the batch)."""
    tracer, copy = trace.tracer, trace.copy
    rows = tracer.rows
    totals: dict[str, Row] = {}
    for row in rows:
        for path in _ancestors(row.scope):
            if path not in totals:
                totals[path] = Row(path, "")
            totals[path].add_costs(row)
    params, all_params = _parameters(copy)
    modules: dict[str, Row] = {}
    idle = []
    for path, _ in trace.modules:
        info = tracer.modules.get(path)
        if info is None:
            idle.append(path)
            continue
        info.params = params.get(path, 0)
        if path in totals:
            info.add_costs(totals[path])
        modules[path] = info
    uncounted: Counter = Counter()
    for row in rows:
        uncounted.update(row.uncounted)
    trainable = [p for p in all_params if p.requires_grad]
    saved = None
    if doubled_saved is not None:
        saved = SavedActivations(tracer.total_saved_bytes, doubled_saved, inputs.batch)
    report = Report(
        model=type(model).__name__,
        input_size=inputs.size,
        rows=rows,
        modules=modules,
        total_params=sum(p.numel() for p in all_params),
        trainable_params=sum(p.numel() for p in trainable),
        depth=depth,
        count_bias=count_bias,
        mode=mode,
        device=str(trace.device),
        input_shapes=inputs.shapes,
        uncounted=dict(sorted(uncounted.items())),
        idle_modules=tuple(idle),
        params_bytes=_bytes(all_params),
        trainable_params_bytes=_bytes(trainable),
        buffers_bytes=_bytes(list(copy.buffers())),
        saved=saved,
    )
    report.notes.extend(_notes(rows))
    unread = report.total_params - sum(r.params for r in rows)
    if unread:
        owners = [p for p in idle if any(True for _ in copy.get_submodule(p).parameters(False))]
        shown = ", ".join(owners[:5]) + (", ..." if len(owners) > 5 else "")
        report.notes.append(
            f"{unread} parameters were not read by this forward pass (modules that did not run: "
            f"{shown or 'none'})"
        )
    dependent = [r.name for r in rows if r.data_dependent]
    if dependent:
        more = f" and {len(dependent) - 1} more" if len(dependent) > 1 else ""
        report.notes.append(
            f"the shapes, so the costs, of {dependent[0]}{more} depend on the input's values "
            f"(e.g. how many proposals a detector keeps): these are one sample's, for the "
            f"model's current weights"
        )
    report.warnings.extend(_larger_than_input(rows, inputs.size))
    return report


def _notes(rows: list[Row]) -> list[str]:
    where: dict[str, list[str]] = {}
    for row in rows:
        for note in row.notes:
            where.setdefault(note, []).append(row.name)
    out = []
    for note, names in where.items():
        more = f" and {len(names) - 1} more" if len(names) > 1 else ""
        out.append(f"{names[0]}{more}: {note}")
    return out


def _larger_than_input(rows: list[Row], size: tuple[int, ...]) -> list[str]:
    spatial = size[1:]
    for row in rows:
        if row.rf_size is None or len(row.rf_size) != len(spatial):
            continue
        if any(r > n for r, n in zip(row.rf_size, spatial, strict=True)):
            shown = "x".join(format_fraction(r) for r in row.rf_size)
            return [
                f"receptive field {shown} at {row.name} is larger than the input "
                f"{'x'.join(map(str, spatial))}: from there on, windows reach into the padding"
            ]
    return []
