"""Receptive fields carried by tensors, and the joins that ops without a specific rule fall back on.

Every tensor derived from the model input carries a :class:`TensorField`: which of its dims are
the input's spatial axes and, per axis, a :class:`cnnlab.core.receptive_field.AxisField`. The
per-op rules live in :mod:`cnnlab.analysis.op_fields` and the op table says which op uses which;
an op without a rule whose output has the shape of its broadcast inputs is element-wise (the
union of its inputs' fields), anything else mixes all positions (the union over the whole map),
noted as approximate.

Normalisation statistics (BatchNorm in training, LayerNorm, GroupNorm, InstanceNorm) are treated
as constants, as in Araujo et al. (2019): those layers are element-wise here. Averages over the
spatial axes (global pooling, squeeze-and-excitation) do mix every position.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from cnnlab.core.receptive_field import AxisField, union


class TensorMap:
    """Values attached to tensors for as long as the tensors live (a weak, identity-keyed map).

    Like ``torch.utils.weak.WeakIdKeyDictionary``, but a lookup does not build a weak reference
    (the trace looks up every input and output of every op).
    """

    def __init__(self) -> None:
        self._items: dict[int, tuple[weakref.ref, Any]] = {}

    def __setitem__(self, t: torch.Tensor, value: Any) -> None:
        key = id(t)
        items = self._items
        self._items[key] = (weakref.ref(t, lambda _, key=key: items.pop(key, None)), value)

    def get(self, t: Any) -> Any:
        entry = self._items.get(id(t))
        return None if entry is None or entry[0]() is not t else entry[1]

    def __contains__(self, t: Any) -> bool:
        return self.get(t) is not None

    def __bool__(self) -> bool:
        return bool(self._items)


@dataclass(frozen=True)
class TensorField:
    """Receptive field of a tensor: ``axes[k]`` is the dim holding input axis k (None: reduced)."""

    axes: tuple[int | None, ...]
    fields: tuple[AxisField, ...]

    def extents(self, shape: Sequence[int]) -> tuple[int, ...]:
        """Positions along each input axis (1 for an axis that was reduced away)."""
        return tuple(1 if a is None else int(shape[a]) for a in self.axes)


@dataclass
class FieldResult:
    """What a rule returns: the field of each tensor output (None: no field) and notes."""

    fields: list[TensorField | None]
    notes: list[str] = field(default_factory=list)


@dataclass
class OpCall:
    """One ATen call as a rule sees it: op name, bound arguments, tensors in and out."""

    name: str
    args: dict[str, Any]
    inputs: list[tuple[torch.Tensor, TensorField]]
    outputs: list[torch.Tensor]


Rule = Callable[[OpCall], FieldResult]


def norm_dim(d: int, ndim: int) -> int:
    return d + ndim if d < 0 else d


def per_axis(values: Any, k: int, default: int) -> int:
    if values is None:
        return default
    if isinstance(values, int):
        return values
    values = list(values)
    if not values:
        return default
    return int(values[k] if len(values) > k else values[0])


def same(call: OpCall, tf: TensorField | None) -> FieldResult:
    return FieldResult([tf for _ in call.outputs])


def collapse(tf: TensorField, shape: Sequence[int]) -> TensorField:
    """Every position mixed: one window covering the whole map, no spatial axis left."""
    ext = tf.extents(shape)
    return TensorField(
        tuple(None for _ in tf.axes),
        tuple(f.collapse(n) for f, n in zip(tf.fields, ext, strict=True)),
    )


def mix_all(call: OpCall, note: str | None = None) -> FieldResult:
    """Outputs that depend on every position of every input (matrix products, unknown ops)."""
    collapsed = [collapse(tf, t.shape) for t, tf in call.inputs]
    joined = join(
        [(t, tf) for (t, _), tf in zip(call.inputs, collapsed, strict=True)], call.outputs[0]
    )
    notes = [note] if note else []
    return FieldResult([joined.fields[0] if joined.fields else None] * len(call.outputs), notes)


def join(inputs: list[tuple[torch.Tensor, TensorField]], out: torch.Tensor) -> FieldResult:
    """Union of broadcast inputs (element-wise ops); None when the layouts do not line up."""
    if not inputs:
        return FieldResult([None])
    n_axes = len(inputs[0][1].axes)
    positions: list[int | None] = [None] * n_axes
    for t, tf in inputs:
        shift = out.dim() - t.dim()
        for k, a in enumerate(tf.axes):
            if a is None:
                continue
            if a + shift < 0 or (positions[k] is not None and positions[k] != a + shift):
                return FieldResult([None], ["inputs' spatial axes do not line up"])
            positions[k] = a + shift
    notes: list[str] = []
    fields = []
    for k, pos in enumerate(positions):
        n_out = 1 if pos is None else int(out.shape[pos])
        branches = [(tf.fields[k], tf.extents(t.shape)[k]) for t, tf in inputs]
        res = union(branches, n_out)
        if not res.aligned:
            starts = sorted({str(f.start) for f, e in branches if e > 1 and f.jump != 0})
            jumps = sorted({str(f.jump) for f, e in branches if e > 1 and f.jump != 0})
            notes.append(
                f"branches misaligned on axis {k} (starts {', '.join(starts)}; "
                f"jumps {', '.join(jumps)}): the field is their union"
            )
        if not res.uniform:
            notes.append(f"union not uniform along axis {k}: size is the largest window")
        fields.append(res.field)
    return FieldResult([TensorField(tuple(positions), tuple(fields))], notes)


def broadcast(*shapes: Sequence[int]) -> tuple[int, ...] | None:
    """The broadcast shape of ``shapes``, None when they do not broadcast."""
    out = tuple(shapes[0])
    for other in shapes[1:]:
        other = tuple(other)
        if other == out:
            continue
        n = max(len(out), len(other))
        a, b = (1,) * (n - len(out)) + out, (1,) * (n - len(other)) + other
        if any(x != y and x != 1 and y != 1 for x, y in zip(a, b, strict=True)):
            return None
        out = tuple(y if x == 1 else x for x, y in zip(a, b, strict=True))
    return out


def elementwise(call: OpCall) -> FieldResult:
    """Default rule: union of broadcast inputs when the output has their shape, else mix all."""
    out = call.outputs[0]
    first, tf = call.inputs[0]
    if all(other is tf for _, other in call.inputs) and tuple(first.shape) == tuple(out.shape):
        return FieldResult([tf] * len(call.outputs))  # one branch: the field passes through
    shape = broadcast(*(t.shape for t, _ in call.inputs))
    if shape is not None and shape == tuple(out.shape):
        res = join(call.inputs, out)
        if res.fields[0] is not None:
            return FieldResult(res.fields * len(call.outputs), res.notes)
    return mix_all(call, f"receptive field treated as global at {call.name} (no rule)")


def mixing(call: OpCall) -> FieldResult:
    return mix_all(call)


def per_axis_rule(call: OpCall, d: int, step: Callable[[int, AxisField], AxisField]) -> FieldResult:
    """Apply ``step(k, field)`` to every input axis lying in the op's ``d`` window dims.

    ``k`` is the op's own dim index (0 for the first of its ``d`` dims), so a 1-D pooling that
    PyTorch runs as a 2-D one on ``(N, C, 1, L)`` updates only the length axis. Anything else
    (spatial axes outside the window dims, a different first input) is element-wise.
    """
    t, tf = call.inputs[0]
    if t is not call.args.get("self", call.args.get("input")):
        return elementwise(call)
    first = t.dim() - d
    if any(a is not None and a < first for a in tf.axes):
        return elementwise(call)
    fields = tuple(
        f if a is None else step(a - first, f) for a, f in zip(tf.axes, tf.fields, strict=True)
    )
    return same(call, TensorField(tf.axes, fields))


def linear_field(x: torch.Tensor, tf: TensorField, out: torch.Tensor) -> TensorField | None:
    """``F.linear`` mixes only the last dim: spatial axes elsewhere keep their field."""
    if x.dim() != out.dim() or (x.dim() - 1) in tf.axes:
        return None
    return tf


def propagate(rule: Rule | None, call: OpCall) -> FieldResult:
    """Fields of ``call``'s outputs (one per output tensor) by ``rule``, element-wise without one.

    A rule that does not know the call's argument pattern gives a conservative global field and
    a note instead of an error.
    """
    if not call.inputs or not call.outputs:
        return FieldResult([None] * len(call.outputs))
    try:
        result = (rule or elementwise)(call)
    except (IndexError, KeyError, TypeError, ValueError, ZeroDivisionError) as err:
        result = mix_all(call, f"receptive field treated as global at {call.name} ({err!r})")
    if len(result.fields) != len(call.outputs):
        result.fields = [result.fields[0]] * len(call.outputs)
    return result
