"""Trace one forward pass: which module or function ran which ATen ops, with what cost and field.

Three instruments run together and are all removed when the trace ends, even after an error:

* global module forward hooks keep a stack of the modules being executed (module path and the
  shapes the module received);
* a ``TorchFunctionMode`` sees functional code outside leaf modules (``F.relu``, ``torch.cat``,
  ``x + y``, ``torch.flatten``, ``F.interpolate``, ``x.mean()``): each outermost call is one row;
* a ``TorchDispatchMode`` sees every ATen op, on meta tensors by default: it adds the op's cost
  (:mod:`cnnlab.analysis.costs`) to the current row, counts each parameter the first time an op
  reads it, and propagates receptive fields (:mod:`cnnlab.analysis.fields`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.modules import module as module_hooks
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.weak import WeakIdKeyDictionary

from cnnlab.analysis.costs import cost_of
from cnnlab.analysis.field_rules import propagate
from cnnlab.analysis.fields import OpCall, TensorField, linear_field

_DUNDER = {
    "iadd": "add_",
    "isub": "sub_",
    "imul": "mul_",
    "itruediv": "div_",
    "radd": "add",
    "rsub": "sub",
    "rmul": "mul",
    "truediv": "div",
    "rtruediv": "div",
    "floordiv": "floor_divide",
    "rmatmul": "matmul",
}


def function_name(func: Any) -> str:
    """``add`` for ``Tensor.__add__``, ``add_`` for ``+=``, ``relu`` for ``F.relu``."""
    name = getattr(func, "__name__", None) or type(func).__name__
    if name.startswith("__") and name.endswith("__"):
        name = name.strip("_")
        name = _DUNDER.get(name, name)
    return name


def op_name(func: Any) -> str:
    """ATen op name without overload or in-place underscore: ``aten.relu_.default`` -> ``relu``."""
    name = func.overloadpacket.__name__
    return name[:-1] if name.endswith("_") and not name.endswith("__") else name


_SCHEMA_CACHE: dict[Any, list[tuple[str, bool, Any]]] = {}


def bind(func: Any, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Arguments of an ATen call by name, defaults filled in."""
    spec = _SCHEMA_CACHE.get(func)
    if spec is None:
        spec = [
            (a.name, a.has_default_value(), a.default_value if a.has_default_value() else None)
            for a in func._schema.arguments
        ]
        _SCHEMA_CACHE[func] = spec
    bound = {}
    for i, (name, _, default) in enumerate(spec):
        bound[name] = args[i] if i < len(args) else kwargs.get(name, default)
    return bound


@dataclass
class RowData:
    """A row while the trace fills it in (see :class:`cnnlab.analysis.report.LayerRow`)."""

    name: str
    type: str
    kind: str
    scope: str
    depth: int
    params: int = 0
    macs: int = 0
    flops: int = 0
    bias_adds: int = 0
    output_shape: tuple = ()
    activation_bytes: int = 0
    field: TensorField | None = None
    positions: tuple[int, ...] = ()
    uncounted: Counter = dataclasses.field(default_factory=Counter)
    notes: list[str] = dataclasses.field(default_factory=list)


@dataclass
class ModuleCall:
    """What the trace saw of one module path: output and field of its last call."""

    path: str
    type: str
    calls: int = 0
    output_shape: tuple = ()
    field: TensorField | None = None
    positions: tuple[int, ...] = ()


@dataclass
class Failure:
    """Where the forward pass broke: the innermost module and what it was given."""

    path: str
    type: str
    input_shapes: list[tuple[int, ...]]
    op: str | None = None


@dataclass
class _Frame:
    module: nn.Module
    path: str
    leaf: bool
    input_shapes: list[tuple[int, ...]]
    row: RowData | None
    saved_call: Any


@dataclass
class _FunctionCall:
    name: str
    row: RowData | None = None


def _depth(path: str) -> int:
    return 0 if not path else path.count(".") + 1


def _tensors(obj: Any) -> list[torch.Tensor]:
    return [t for t in tree_leaves(obj) if isinstance(t, torch.Tensor)]


class Tracer:
    """Collects rows while a model runs; use :meth:`activate` around the forward call."""

    def __init__(self, model: nn.Module, param_info: dict[int, int]) -> None:
        self.paths: dict[int, str] = {}
        self.leaves: set[int] = set()
        for path, m in model.named_modules():
            self.paths.setdefault(id(m), path)
            if next(m.children(), None) is None:
                self.leaves.add(id(m))
        self.param_info = param_info  # id(meta tensor) -> numel
        self.counted: set[int] = set()
        self.fields: WeakIdKeyDictionary = WeakIdKeyDictionary()
        self.rows: list[RowData] = []
        self.modules: dict[str, ModuleCall] = {}
        self.stack: list[_Frame] = []
        self.call: _FunctionCall | None = None
        self.failure: Failure | None = None
        self._names: Counter = Counter()

    # -- rows ------------------------------------------------------------------------------
    def _scope(self) -> str:
        return self.stack[-1].path if self.stack else ""

    def _new_row(self, base: str, type_: str, kind: str) -> RowData:
        scope = self._scope()
        name = f"{scope}.{base}" if scope else base
        self._names[name] += 1
        if self._names[name] > 1:
            name = f"{name}_{self._names[name] - 1}"
        row = RowData(name, type_, kind, scope, _depth(scope) + 1)
        self.rows.append(row)
        return row

    def _current_row(self, op: str) -> RowData:
        if self.stack and self.stack[-1].leaf:
            row = self.stack[-1].row
            assert row is not None
            return row
        if self.call is not None:
            if self.call.row is None:
                self.call.row = self._new_row(self.call.name, self.call.name, "function")
            return self.call.row
        return self._new_row(op, op, "function")

    def field_of(self, t: torch.Tensor) -> TensorField | None:
        return self.fields.get(t)

    def finish(self, target: RowData | ModuleCall, output: Any) -> None:
        """Record output shape(s), bytes and the field of the first tensor that has one."""
        tensors = _tensors(output)
        shapes = [tuple(int(s) for s in t.shape) for t in tensors]
        target.output_shape = shapes[0] if len(shapes) == 1 else tuple(shapes)
        if isinstance(target, RowData):
            target.activation_bytes = sum(t.numel() * t.element_size() for t in tensors)
        for t in tensors:
            tf = self.fields.get(t)
            if tf is not None:
                target.field, target.positions = tf, tf.extents(t.shape)
                break

    # -- module hooks ----------------------------------------------------------------------
    def _pre_hook(self, module: nn.Module, args: tuple) -> None:
        path = self.paths.get(id(module))
        if path is None:
            return
        leaf = id(module) in self.leaves
        shapes = [tuple(int(s) for s in t.shape) for t in _tensors(args)]
        frame = _Frame(module, path, leaf, shapes, None, self.call)
        self.call = None
        self.stack.append(frame)
        if leaf:
            row = RowData(path, type(module).__name__, "module", path, _depth(path))
            self.rows.append(row)
            frame.row = row

    def _post_hook(self, module: nn.Module, args: tuple, output: Any) -> None:
        if self.paths.get(id(module)) is None or not self.stack:
            return
        frame = self.stack.pop()
        self.call = frame.saved_call
        info = self.modules.setdefault(frame.path, ModuleCall(frame.path, type(module).__name__))
        info.calls += 1
        self.finish(info, output)
        if frame.row is not None:
            self.finish(frame.row, output)

    # -- functions and ops -----------------------------------------------------------------
    def on_function(self, func: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        in_leaf = bool(self.stack and self.stack[-1].leaf)
        name = function_name(func)
        if in_leaf:
            out = func(*args, **kwargs)
        else:
            saved, self.call = self.call, _FunctionCall(name)
            try:
                out = func(*args, **kwargs)
            finally:
                call, self.call = self.call, saved
            if call is not None and call.row is None and _shows(name, out):
                call.row = self._new_row(name, name, "function")  # e.g. a no-op flatten
            if call is not None and call.row is not None:
                self.finish(call.row, out)
        if name == "linear" and args and isinstance(out, torch.Tensor):
            x = args[0]
            tf = self.fields.get(x) if isinstance(x, torch.Tensor) else None
            kept = linear_field(x, tf, out) if tf is not None else None
            if kept is not None:
                self.fields[out] = kept
        return out

    def on_op(self, func: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        name = op_name(func)
        bound = bind(func, args, kwargs)
        try:
            if name == "convolution":
                _check_channels(bound)
            out = _fast_meta(func, name, args, kwargs)
            if out is None:
                out = func(*args, **kwargs)
        except Exception:
            self.record_failure(name)
            raise
        outs = _tensors(out)
        row = self._current_row(name)
        cost = cost_of(name, bound, outs)
        if cost is None:
            row.uncounted[name] += 1
        else:
            row.macs += cost.macs
            row.flops += cost.flops
            row.bias_adds += cost.bias_adds
        inputs = _tensors((args, kwargs))
        for t in inputs:
            key = id(t)
            if key in self.param_info and key not in self.counted:
                self.counted.add(key)
                row.params += self.param_info[key]
        fielded = [(t, tf) for t in inputs if (tf := self.fields.get(t)) is not None]
        if fielded and outs:
            result = propagate(OpCall(name, bound, fielded, outs))
            for t, tf in zip(outs, result.fields, strict=True):
                if tf is not None:
                    self.fields[t] = tf
            for note in result.notes:
                if note not in row.notes:
                    row.notes.append(note)
        return out

    def record_failure(self, op: str | None = None) -> None:
        if self.failure is not None:
            return
        if self.stack:
            top = self.stack[-1]
            self.failure = Failure(top.path, type(top.module).__name__, top.input_shapes, op)
        else:
            self.failure = Failure("", "", [], op)

    @contextmanager
    def activate(self) -> Iterator[None]:
        """Hooks and modes on; always removed on exit. A failure is recorded before unwinding."""
        handles = [
            module_hooks.register_module_forward_pre_hook(self._pre_hook),
            module_hooks.register_module_forward_hook(self._post_hook),
        ]
        try:
            with _FunctionMode(self), _DispatchMode(self):
                try:
                    yield
                except Exception:
                    self.record_failure()
                    raise
        finally:
            for handle in handles:
                handle.remove()


_SILENT = frozenset({"get", "set", "requires_grad_", "retain_grad", "register_hook"})


def _shows(name: str, out: Any) -> bool:
    """A call that ran no op still gets a row when it returns tensors (``torch.flatten`` of
    an already flat tensor); attribute access (``x.data``, ``x.T``) does not."""
    return name not in _SILENT and bool(_tensors(out)) and not isinstance(out, torch.Size)


def _check_channels(a: dict[str, Any]) -> None:
    x, w = a["input"], a["weight"]
    if not isinstance(x, torch.Tensor) or x.dim() < 2:
        return
    channels_dim = 1 if x.dim() == w.dim() else 0
    given = int(x.shape[channels_dim])
    expected = int(w.shape[0]) if a["transposed"] else int(w.shape[1]) * int(a["groups"])
    if given != expected:
        raise ValueError(f"expects {expected} input channels, got {given}")


_FLOATS = (torch.float32, torch.float64)


def _fast_meta(func: Any, name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Outputs of the commonest shape-preserving ops on meta tensors without torch's Python
    meta kernels (BatchNorm and in-place activations are most of a CNN's tracing time).
    None: not a fast case, run the op."""
    if kwargs or not args or not isinstance(args[0], torch.Tensor) or not args[0].is_meta:
        return None
    x = args[0]
    if name in ("native_batch_norm", "_native_batch_norm_legit_no_training"):
        if x.dtype not in _FLOATS or x.dim() < 2:
            return None
        c = (int(x.shape[1]),)
        return torch.empty_like(x), x.new_empty(c), x.new_empty(c)
    if func.overloadpacket.__name__.endswith("_") and name in _INPLACE_FAST:
        for other in args[1:]:
            if isinstance(other, torch.Tensor) and (
                not other.is_meta or torch.broadcast_shapes(x.shape, other.shape) != x.shape
            ):
                return None
        return x
    return None


_INPLACE_FAST = frozenset(
    {"relu", "relu6", "hardtanh", "leaky_relu", "hardswish", "hardsigmoid", "silu", "sigmoid"}
    | {"add", "mul", "sub", "div", "clamp", "clamp_min", "elu", "gelu", "threshold", "tanh"}
)


class _FunctionMode(TorchFunctionMode):
    def __init__(self, tracer: Tracer) -> None:
        super().__init__()
        self.tracer = tracer

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[override]
        return self.tracer.on_function(func, args, kwargs or {})


class _DispatchMode(TorchDispatchMode):
    def __init__(self, tracer: Tracer) -> None:
        super().__init__()
        self.tracer = tracer

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[override]
        return self.tracer.on_op(func, args, kwargs or {})
