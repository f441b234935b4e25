"""Trace one forward pass: which module or function ran which ATen ops, with what cost and field.

Instruments that run together and are all removed when the trace ends, even after an error:

* global module forward hooks keep a stack of the modules being executed (module path and the
  shapes the module received). ``torch.utils.module_tracker.ModuleTracker`` follows the same
  hooks but keeps an unordered set of names, without the innermost module, its inputs or
  modules registered under two names, which is what rows are made of;
* a ``TorchFunctionMode`` sees functional code outside leaf modules (``F.relu``, ``torch.cat``,
  ``x + y``, ``torch.flatten``, ``F.interpolate``, ``x.mean()``): each outermost call is one row;
* a ``TorchDispatchMode`` sees every ATen op, on meta tensors by default: it looks the op up in
  the op table (:mod:`cnnlab.analysis.op_table`), adds its cost (and, when training, its
  backward's) to the current row, counts each parameter the first time an op reads it, and
  propagates receptive fields;
* when training, ``torch.autograd.graph.saved_tensors_hooks`` records what autograd keeps for the
  backward (:mod:`cnnlab.analysis.saved_tensors`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.modules import module as module_hooks
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from cnnlab.analysis.input_checks import (
    CONVOLUTIONS,
    check_convolution_input,
    check_convolution_rank,
)
from cnnlab.analysis.op_calls import bind, function_name, op_name
from cnnlab.analysis.op_costs import Cost
from cnnlab.analysis.op_table import OPS, Op
from cnnlab.analysis.rows import ReceptiveField, Row
from cnnlab.analysis.saved_tensors import SavedTensors
from cnnlab.analysis.tensor_fields import OpCall, TensorField, TensorMap, linear_field, propagate


@dataclass
class Failure:
    """Where the forward pass broke: the innermost module, what it was given, the op and error."""

    path: str
    module: nn.Module | None
    input_shapes: list[tuple[int, ...]]
    op: str | None
    error: BaseException | None

    @property
    def type(self) -> str:
        return "" if self.module is None else type(self.module).__name__


@dataclass
class _Frame:
    module: nn.Module
    path: str
    leaf: bool
    input_shapes: list[tuple[int, ...]]
    row: Row | None
    saved_call: Any


@dataclass
class _FunctionCall:
    name: str
    row: Row | None = None


def _depth(path: str) -> int:
    return 0 if not path else path.count(".") + 1


def _tensors(obj: Any) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if type(obj) in (tuple, list) and all(
        isinstance(x, torch.Tensor) or type(x) in _SCALARS for x in obj
    ):
        return [x for x in obj if isinstance(x, torch.Tensor)]
    return [t for t in tree_leaves(obj) if isinstance(t, torch.Tensor)]


_SCALARS = frozenset({int, float, bool, type(None), str, torch.dtype, torch.device})


def _arguments(args: tuple, kwargs: dict[str, Any]) -> list[torch.Tensor]:
    """Tensor arguments of an ATen call (tensors, and tensors in lists)."""
    out = []
    for a in (*args, *kwargs.values()) if kwargs else args:
        if isinstance(a, torch.Tensor):
            out.append(a)
        elif type(a) in (list, tuple):
            out.extend(t for t in a if isinstance(t, torch.Tensor))
    return out


def _shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


def receptive_field(tf: TensorField) -> ReceptiveField | None:
    if not tf.fields:
        return None
    return ReceptiveField(
        tuple(f.size for f in tf.fields),
        tuple(f.jump for f in tf.fields),
        tuple(f.start for f in tf.fields),
    )


class Tracer:
    """Collects rows while a model runs; use :meth:`activate` around the forward call.

    Args:
        modules: ``(path, module)`` of the module that runs (the tracing copy), as
            ``named_modules()`` gives them.
        params: ``id(parameter) -> parameter`` for the parameters to count (read once each).
        train: add backward MACs and the tensors saved for the backward.
        count_bias: add one MAC per bias addition.
    """

    def __init__(
        self,
        modules: list[tuple[str, nn.Module]],
        params: dict[int, torch.Tensor],
        *,
        train: bool,
        count_bias: bool,
    ) -> None:
        self.paths: dict[int, str] = {}
        self.leaves: set[int] = set()
        for path, m in modules:
            self.paths.setdefault(id(m), path)
            if next(m.children(), None) is None:
                self.leaves.add(id(m))
        self.params = params
        self.count_bias = count_bias
        self.counted: set[int] = set()
        self.fields = TensorMap()
        self.tainted = TensorMap()  # tensors whose shapes depend on values
        self.busy = False  # the tracer's own tensor attribute reads bypass the function mode
        self.rows: list[Row] = []
        self.modules: dict[str, Row] = {}
        self.stack: list[_Frame] = []
        self.call: _FunctionCall | None = None
        self.failure: Failure | None = None
        self._names: Counter = Counter()
        self.saved = SavedTensors(params.values(), self._saved_row) if train else None

    # -- rows ------------------------------------------------------------------------------
    def _scope(self) -> str:
        return self.stack[-1].path if self.stack else ""

    def _new_row(self, base: str, type_: str, kind: str) -> Row:
        scope = self._scope()
        name = f"{scope}.{base}" if scope else base
        self._names[name] += 1
        if self._names[name] > 1:
            name = f"{name}_{self._names[name] - 1}"
        row = Row(name, type_, kind, scope, _depth(scope) + 1)
        self.rows.append(row)
        return row

    def _current_row(self, op: str) -> Row:
        if self.stack and self.stack[-1].leaf:
            row = self.stack[-1].row
            assert row is not None
            return row
        if self.call is not None:
            if self.call.row is None:
                self.call.row = self._new_row(self.call.name, self.call.name, "function")
            return self.call.row
        return self._new_row(op, op, "function")

    def finish(self, row: Row, output: Any, count_bytes: bool = True) -> None:
        """Record output shape(s), bytes and the field of the first tensor that has one."""
        tensors = _tensors(output)
        shapes = [_shape(t) for t in tensors]
        row.output_shape = shapes[0] if len(shapes) == 1 else tuple(shapes)
        if count_bytes:
            row.activation_bytes = sum(t.numel() * t.element_size() for t in tensors)
        for t in tensors:
            tf = self.fields.get(t)
            if tf is not None:
                row.receptive_field, row.positions = receptive_field(tf), tf.extents(t.shape)
                break
        if self.tainted and any(t in self.tainted for t in tensors):
            row.data_dependent = True

    # -- module hooks ----------------------------------------------------------------------
    def _pre_hook(self, module: nn.Module, args: tuple) -> None:
        path = self.paths.get(id(module))
        if path is None:
            return
        self.busy, busy = True, self.busy
        try:
            self._enter(module, path, args)
        finally:
            self.busy = busy

    def _enter(self, module: nn.Module, path: str, args: tuple) -> None:
        leaf = id(module) in self.leaves
        shapes = [_shape(t) for t in _tensors(args)]
        frame = _Frame(module, path, leaf, shapes, None, self.call)
        self.call = None
        self.stack.append(frame)
        if leaf:
            row = Row(path, type(module).__name__, "module", path, _depth(path))
            self.rows.append(row)
            frame.row = row

    def _post_hook(self, module: nn.Module, args: tuple, output: Any) -> None:
        if self.paths.get(id(module)) is None or not self.stack:
            return
        self.busy, busy = True, self.busy
        try:
            self._leave(module, output)
        finally:
            self.busy = busy

    def _leave(self, module: nn.Module, output: Any) -> None:
        frame = self.stack.pop()
        self.call = frame.saved_call
        kind = "module" if frame.leaf else "container"
        info = self.modules.get(frame.path)
        if info is None:
            info = Row(frame.path, type(module).__name__, kind, frame.path, _depth(frame.path))
            self.modules[frame.path] = info
        self.finish(info, output, count_bytes=False)
        if frame.row is not None:
            self.finish(frame.row, output)

    # -- functions and ops -----------------------------------------------------------------
    def on_function(self, func: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        name = function_name(func)
        if name in CONVOLUTIONS and len(args) >= 2:
            check_convolution_rank(args[0], args[1])
        if self.saved is not None and name == "scaled_dot_product_attention":
            out = self.saved.fused_attention(
                lambda *a, **k: self._run_function(name, func, a, k), args, kwargs
            )
        else:
            out = self._run_function(name, func, args, kwargs)
        if name == "linear" and args and isinstance(out, torch.Tensor):
            x = args[0]
            tf = self.fields.get(x) if isinstance(x, torch.Tensor) else None
            kept = linear_field(x, tf, out) if tf is not None else None
            if kept is not None:
                self.fields[out] = kept
        return out

    def _run_function(self, name: str, func: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        if self.stack and self.stack[-1].leaf:
            return func(*args, **kwargs)
        saved, self.call = self.call, _FunctionCall(name)
        try:
            out = func(*args, **kwargs)
        finally:
            call, self.call = self.call, saved
        if call is not None and call.row is None and _shows(name, out):
            call.row = self._new_row(name, name, "function")  # e.g. a no-op flatten
        if call is not None and call.row is not None:
            self.finish(call.row, out)
        return out

    def on_op(self, func: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        self.busy, busy = True, self.busy
        try:
            return self._on_op(func, args, kwargs)
        finally:
            self.busy = busy

    def _on_op(self, func: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        name = op_name(func)
        entry = OPS.get(name)
        bound = bind(func, args, kwargs)
        try:
            if name == "convolution":
                check_convolution_input(bound)
            out = None
            if entry is not None and entry.meta is not None and not kwargs:
                out = entry.meta(args, func.overloadpacket.__name__.endswith("_"))
            if out is None:
                out = func(*args, **kwargs)
        except Exception as err:
            self.record_failure(name, err)
            raise
        outs = _tensors(out)
        row = self._current_row(name)
        inputs = _arguments(args, kwargs)
        self._count(row, name, entry, bound, outs)
        for t in inputs:
            key = id(t)
            if key in self.params and key not in self.counted:
                self.counted.add(key)
                row.params += self.params[key].numel()
        if (entry is not None and _data_dependent(entry, bound)) or (
            self.tainted and any(t in self.tainted for t in inputs)
        ):
            row.data_dependent = True
            for t in outs:
                self.tainted[t] = True
        fielded = [(t, tf) for t in inputs if (tf := self.fields.get(t)) is not None]
        if fielded and outs:
            result = propagate(
                None if entry is None else entry.field, OpCall(name, bound, fielded, outs)
            )
            for t, tf in zip(outs, result.fields, strict=True):
                if tf is not None:
                    self.fields[t] = tf
            for note in result.notes:
                if note not in row.notes:
                    row.notes.append(note)
        return out

    def _count(
        self,
        row: Row,
        name: str,
        entry: Op | None,
        bound: dict[str, Any],
        outs: list[torch.Tensor],
    ) -> None:
        if entry is None or entry.cost is None:
            row.uncounted[name] = row.uncounted.get(name, 0) + 1
            return
        cost: Cost = entry.cost(bound, outs)
        row.macs += cost.macs + (cost.bias_adds if self.count_bias else 0)
        row.flops += cost.flops
        if self.saved is not None and entry.backward is not None and torch.is_grad_enabled():
            row.backward_macs += entry.backward(bound, outs, cost)

    # -- tensors saved for the backward ----------------------------------------------------
    def _saved_row(self) -> Row:
        if (self.stack and self.stack[-1].leaf) or self.call is not None or not self.rows:
            return self._current_row("saved")
        return self.rows[-1]

    # -- failures and activation ----------------------------------------------------------
    def record_failure(self, op: str | None = None, err: BaseException | None = None) -> None:
        if self.failure is not None:
            return
        if self.stack:
            top = self.stack[-1]
            self.failure = Failure(top.path, top.module, top.input_shapes, op, err)
        else:
            self.failure = Failure("", None, [], op, err)

    @contextmanager
    def activate(self) -> Iterator[None]:
        """Hooks and modes on; always removed on exit. A failure is recorded before unwinding."""
        with ExitStack() as stack:
            for register, hook in (
                (module_hooks.register_module_forward_pre_hook, self._pre_hook),
                (module_hooks.register_module_forward_hook, self._post_hook),
            ):
                stack.callback(register(hook).remove)
            if self.saved is not None:
                stack.enter_context(self.saved.recording())
            stack.enter_context(_FunctionMode(self))
            stack.enter_context(_DispatchMode(self))
            try:
                yield
            except Exception as err:
                self.record_failure(None, err)
                raise

    @property
    def total_saved_bytes(self) -> int:
        return sum(r.saved_bytes for r in self.rows)


def _data_dependent(entry: Op, bound: dict[str, Any]) -> bool:
    flag = entry.data_dependent
    return flag(bound) if callable(flag) else flag


_SILENT = frozenset({"get", "set", "requires_grad_", "retain_grad", "register_hook"})


def _shows(name: str, out: Any) -> bool:
    """A call that ran no op still gets a row when it returns tensors (``torch.flatten`` of
    an already flat tensor); attribute access (``x.data``, ``x.T``) does not."""
    return name not in _SILENT and bool(_tensors(out)) and not isinstance(out, torch.Size)


class _FunctionMode(TorchFunctionMode):
    def __init__(self, tracer: Tracer) -> None:
        super().__init__()
        self.tracer = tracer

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[override]
        if self.tracer.busy:
            return func(*args, **(kwargs or {}))
        return self.tracer.on_function(func, args, kwargs or {})


class _DispatchMode(TorchDispatchMode):
    def __init__(self, tracer: Tracer) -> None:
        super().__init__()
        self.tracer = tracer

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[override]
        return self.tracer.on_op(func, args, kwargs or {})
