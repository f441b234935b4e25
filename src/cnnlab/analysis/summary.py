"""``summary(model, input_size)``: one traced forward pass on the meta device, one report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.func import functional_call

from cnnlab.analysis.fields import TensorField
from cnnlab.analysis.report import LayerRow, Report
from cnnlab.analysis.tracing import Failure, ModuleCall, RowData, Tracer
from cnnlab.core.receptive_field import AxisField, format_fraction

MODES = ("eval", "train")


def _check_input_size(input_size: Any) -> tuple[int, ...]:
    if isinstance(input_size, int) or not isinstance(input_size, Sequence) or not input_size:
        raise ValueError(
            f"input_size must be a sequence of positive integers (C, H, W) without the batch "
            f"dimension, got {input_size!r}"
        )
    size = tuple(input_size)
    if any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in size):
        raise ValueError(f"input_size must hold positive integers (C, H, W), got {input_size!r}")
    return size


def _check_options(depth: int | None, mode: str) -> None:
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 0):
        raise ValueError(f"depth must be None or an integer >= 0, got {depth!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def _device(device: str | torch.device) -> torch.device:
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"device must be 'meta', 'cpu', 'cuda' or similar, got {device!r}"
        ) from err


@contextmanager
def _restored_training(model: nn.Module, mode: str) -> Iterator[None]:
    flags = [(m, m.training) for m in model.modules()]
    try:
        model.train(mode == "train")
        yield
    finally:
        for m, flag in flags:
            m.training = flag


def _rng_guard(device: torch.device) -> Any:
    if device.type == "meta":
        return nullcontext()
    devices = [device] if device.type == "cuda" else []
    return torch.random.fork_rng(devices=devices)


def _failure_message(
    model: nn.Module, size: tuple[int, ...], f: Failure | None, err: Exception
) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    where = "the model's top level"
    if f is not None and f.path:
        where = f"layer {f.path!r} ({f.type})"
    shapes = ""
    if f is not None and f.input_shapes:
        shapes = " given input of shape " + ", ".join(str(s) for s in f.input_shapes)
    hint = ""
    if "meta" in text.lower():
        hint = " (this op cannot run on the meta device; try device='cpu')"
    return (
        f"input size {size} does not fit {type(model).__name__}: {where} failed{shapes}: "
        f"{text}{hint}"
    )


def summary(
    model: nn.Module,
    input_size: Sequence[int],
    *,
    depth: int | None = None,
    device: str | torch.device = "meta",
    dtype: torch.dtype | None = None,
    mode: str = "eval",
    count_bias: bool = False,
) -> Report:
    """Shapes, parameters, MACs/FLOPs, activation memory and receptive field of every layer.

    The model runs once on ``device`` (``"meta"`` by default: shapes only, no arithmetic and no
    memory proportional to the input) with a batch of one. Parameters are swapped for copies
    with :func:`torch.func.functional_call`, hooks and dispatch modes are removed afterwards, and
    training flags are restored, so the model is left exactly as it was, even after an error.

    Conventions (details in :mod:`cnnlab.analysis.costs` and :mod:`cnnlab.analysis.fields`):
    MACs count multiply-accumulates of convolutions (transposed: at input resolution), linear
    layers and matrix products, bias excluded; FLOPs are ``2 * MACs`` plus element-wise work;
    receptive fields follow Araujo et al., "Computing Receptive Fields of Convolutional Neural
    Networks" (Distill 2019): size, jump (effective stride) and start (centre of the first
    position's window), exact fractions when upsampling makes the jump smaller than 1.

    Args:
        model: any ``nn.Module`` taking one tensor.
        input_size: (C, H, W) without the batch dimension ((C, L) or (C, D, H, W) also work).
        depth: fold rows deeper than this into their ancestor module (``None``: every leaf).
        device: ``"meta"`` (default) or a real device for models with data-dependent control
            flow (runs a real forward pass on copies of the parameters).
        dtype: input dtype (default: the dtype of the model's first floating parameter).
        mode: ``"eval"`` (default; inference graph, e.g. no auxiliary heads) or ``"train"``.
        count_bias: add one MAC per bias addition of convolutions and linear layers, which
            reproduces the notes' formula FLOPs = H'W'n(hwc + 1).

    Returns:
        A :class:`~cnnlab.analysis.report.Report`.

    Raises:
        ValueError: a bad argument, or an input size the model cannot take (the message names
            the layer where the shape breaks).

    Shape:
        input ``(1, *input_size)``; every row reports its output shape with the batch of one.

    Example:
        >>> from torch import nn
        >>> net = nn.Sequential(*[nn.Conv2d(8, 8, 3, padding=1) for _ in range(3)])
        >>> r = summary(net, (8, 32, 32))
        >>> r.receptive_field.size, r.total_params
        ((Fraction(7, 1), Fraction(7, 1)), 1752)
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    size = _check_input_size(input_size)
    _check_options(depth, mode)
    dev = _device(device)
    params = dict(model.named_parameters())
    if dtype is None:
        dtype = next((p.dtype for p in params.values() if p.is_floating_point()), torch.float32)

    if dev.type != "meta" and any(t.is_meta for t in [*params.values(), *model.buffers()]):
        raise ValueError(
            f"the model has meta-device parameters (no values): device={str(dev)!r} needs a "
            f"model built on a real device; use device='meta'"
        )

    def _copy(t: torch.Tensor, buffer: bool) -> torch.Tensor:
        if dev.type == "meta":
            return torch.empty_like(t, device="meta")
        return t.detach().to(dev, copy=buffer)

    state = {name: _copy(p, False) for name, p in params.items()}
    param_info = {id(state[name]): p.numel() for name, p in params.items()}
    state.update({name: _copy(b, True) for name, b in model.named_buffers()})

    tracer = Tracer(model, param_info)
    try:
        with _restored_training(model, mode), torch.no_grad(), _rng_guard(dev):
            generator = None if dev.type == "meta" else torch.Generator(dev).manual_seed(0)
            x = torch.rand((1, *size), generator=generator, device=dev, dtype=dtype)
            spatial = len(size) - 1
            if spatial:
                tracer.fields[x] = TensorField(
                    tuple(range(2, 2 + spatial)), tuple(AxisField() for _ in range(spatial))
                )
            with tracer.activate():
                functional_call(model, state, (x,), strict=False, tie_weights=True)
    except Exception as err:
        raise ValueError(_failure_message(model, size, tracer.failure, err)) from err
    return _build_report(model, size, tracer, depth, count_bias)


def _rf(tf: TensorField | None) -> tuple[Any, Any, Any]:
    if tf is None or not tf.fields:
        return None, None, None
    return (
        tuple(f.size for f in tf.fields),
        tuple(f.jump for f in tf.fields),
        tuple(f.start for f in tf.fields),
    )


def _row(r: RowData, count_bias: bool) -> LayerRow:
    size, jump, start = _rf(r.field)
    return LayerRow(
        name=r.name,
        type=r.type,
        output_shape=r.output_shape,
        params=r.params,
        macs=r.macs + (r.bias_adds if count_bias else 0),
        flops=r.flops,
        activation_bytes=r.activation_bytes,
        rf_size=size,
        rf_jump=jump,
        rf_start=start,
        kind=r.kind,
        scope=r.scope,
        depth=r.depth,
        uncounted=tuple(sorted(r.uncounted)),
        notes=tuple(r.notes),
        positions=r.positions,
    )


@dataclass
class _Totals:
    macs: int = 0
    flops: int = 0
    activation_bytes: int = 0
    uncounted: set[str] = field(default_factory=set)
    notes: dict[str, None] = field(default_factory=dict)

    def add(self, row: LayerRow) -> None:
        self.macs += row.macs
        self.flops += row.flops
        self.activation_bytes += row.activation_bytes
        self.uncounted.update(row.uncounted)
        self.notes.update(dict.fromkeys(row.notes))


def _ancestors(scope: str) -> list[str]:
    parts = scope.split(".") if scope else []
    return [""] + [".".join(parts[: i + 1]) for i in range(len(parts))]


def _build_report(
    model: nn.Module, size: tuple[int, ...], tracer: Tracer, depth: int | None, count_bias: bool
) -> Report:
    rows = [_row(r, count_bias) for r in tracer.rows]
    sums: dict[str, _Totals] = {}
    for row in rows:
        for path in _ancestors(row.scope):
            sums.setdefault(path, _Totals()).add(row)
    modules: dict[str, LayerRow] = {}
    idle = []
    for path, module in model.named_modules():
        call: ModuleCall | None = tracer.modules.get(path)
        if call is None:
            idle.append(path)
            continue
        acc = sums.get(path, _Totals())
        rf_size, rf_jump, rf_start = _rf(call.field)
        modules[path] = LayerRow(
            name=path,
            type=type(module).__name__,
            output_shape=call.output_shape,
            params=sum(p.numel() for p in module.parameters()),
            macs=acc.macs,
            flops=acc.flops,
            activation_bytes=acc.activation_bytes,
            rf_size=rf_size,
            rf_jump=rf_jump,
            rf_start=rf_start,
            kind="container" if next(module.children(), None) is not None else "module",
            scope=path,
            depth=0 if not path else path.count(".") + 1,
            uncounted=tuple(sorted(acc.uncounted)),
            notes=tuple(acc.notes),
            positions=call.positions,
        )
    uncounted: Counter = Counter()
    for r in tracer.rows:
        uncounted.update(r.uncounted)
    params = list(model.parameters())
    report = Report(
        model=type(model).__name__,
        input_size=size,
        rows=rows,
        modules=modules,
        total_params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        depth=depth,
        count_bias=count_bias,
        uncounted=dict(sorted(uncounted.items())),
        idle_modules=tuple(idle),
    )
    report.notes.extend(_notes(rows))
    unread = report.total_params - sum(r.params for r in rows)
    if unread:
        owners = [p for p in idle if any(True for _ in model.get_submodule(p).parameters(False))]
        shown = ", ".join(owners[:5]) + (", ..." if len(owners) > 5 else "")
        report.notes.append(
            f"{unread} parameters were not read by this forward pass (modules that did not run: "
            f"{shown or 'none'})"
        )
    report.warnings.extend(_larger_than_input(rows, size))
    return report


def _notes(rows: list[LayerRow]) -> list[str]:
    where: dict[str, list[str]] = {}
    for row in rows:
        for note in row.notes:
            where.setdefault(note, []).append(row.name)
    out = []
    for note, names in where.items():
        more = f" and {len(names) - 1} more" if len(names) > 1 else ""
        out.append(f"{names[0]}{more}: {note}")
    return out


def _larger_than_input(rows: list[LayerRow], size: tuple[int, ...]) -> list[str]:
    spatial = size[1:]
    for row in rows:
        if row.rf_size is None:
            continue
        if any(r > n for r, n in zip(row.rf_size, spatial, strict=True)):
            shown = "x".join(format_fraction(r) for r in row.rf_size)
            return [
                f"receptive field {shown} at {row.name} is larger than the input "
                f"{'x'.join(map(str, spatial))}: from there on, windows reach into the padding"
            ]
    return []
