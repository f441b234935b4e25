"""Receptive-field rules per ATen op: how each op maps its inputs' fields to its outputs'.

Every tensor derived from the model input carries a :class:`TensorField`: which of its dims are
the input's spatial axes and, per axis, a :class:`cnnlab.core.receptive_field.AxisField`. The
rules below are looked up by op name (``RULES``); an op without a rule whose output has the
shape of its broadcast inputs is element-wise (the union of its inputs' fields), anything else
mixes all positions (the union over the whole map) and is reported as approximate.

Normalisation statistics (BatchNorm in training, LayerNorm, GroupNorm, InstanceNorm) are treated
as constants, as in Araujo et al. (2019): those layers are element-wise here. Averages over the
spatial axes (global pooling, squeeze-and-excitation) do mix every position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import torch

from cnnlab.core.receptive_field import AxisField, union


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
    spatial_dims: int = 0


Rule = Callable[[OpCall], FieldResult]


def _dim(d: int, ndim: int) -> int:
    return d + ndim if d < 0 else d


def _per_axis(values: Any, k: int, default: int) -> int:
    if values is None:
        return default
    if isinstance(values, int):
        return values
    values = list(values)
    if not values:
        return default
    return int(values[k] if len(values) > k else values[0])


def _same(call: OpCall, tf: TensorField | None) -> FieldResult:
    return FieldResult([tf for _ in call.outputs])


def _collapse(tf: TensorField, shape: Sequence[int]) -> TensorField:
    """Every position mixed: one window covering the whole map, no spatial axis left."""
    ext = tf.extents(shape)
    return TensorField(
        tuple(None for _ in tf.axes),
        tuple(f.collapse(n) for f, n in zip(tf.fields, ext, strict=True)),
    )


def _mix_all(call: OpCall, note: str | None = None) -> FieldResult:
    """Outputs that depend on every position of every input (matrix products, unknown ops)."""
    collapsed = [_collapse(tf, t.shape) for t, tf in call.inputs]
    joined = _join(
        [(t, tf) for (t, _), tf in zip(call.inputs, collapsed, strict=True)], call.outputs[0]
    )
    notes = [note] if note else []
    return FieldResult([joined.fields[0] if joined.fields else None] * len(call.outputs), notes)


def _join(inputs: list[tuple[torch.Tensor, TensorField]], out: torch.Tensor) -> FieldResult:
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
            starts = sorted({str(f.start) for f, e in branches if e > 1})
            jumps = sorted({str(f.jump) for f, e in branches if e > 1})
            notes.append(
                f"branches misaligned on axis {k} (starts {', '.join(starts)}; "
                f"jumps {', '.join(jumps)}): the field is their union"
            )
        if not res.uniform:
            notes.append(f"union not uniform along axis {k}: size is the largest window")
        fields.append(res.field)
    return FieldResult([TensorField(tuple(positions), tuple(fields))], notes)


def elementwise(call: OpCall) -> FieldResult:
    """Default rule: union of broadcast inputs when the output has their shape, else mix all."""
    out = call.outputs[0]
    try:
        shape = torch.broadcast_shapes(*(t.shape for t, _ in call.inputs))
    except RuntimeError:
        shape = None
    if shape is not None and tuple(shape) == tuple(out.shape):
        res = _join(call.inputs, out)
        if res.fields[0] is not None:
            return FieldResult(res.fields * len(call.outputs), res.notes)
    return _mix_all(call, f"receptive field treated as global at {call.name} (no rule)")


def _mixing(call: OpCall) -> FieldResult:
    return _mix_all(call)


def _trailing(call: OpCall, d: int) -> TensorField | None:
    """The input field if its axes are the last ``d`` dims of the first input, else None."""
    t, tf = call.inputs[0]
    if t is not call.args.get("self", call.args.get("input")):
        return None
    want = tuple(range(t.dim() - d, t.dim()))
    return tf if len(tf.axes) == d and tf.axes == want else None


def _per_axis_rule(
    call: OpCall, d: int, step: Callable[[int, AxisField], AxisField]
) -> FieldResult:
    tf = _trailing(call, d)
    if tf is None:
        return elementwise(call)
    new = TensorField(tf.axes, tuple(step(k, f) for k, f in enumerate(tf.fields)))
    return _same(call, new)


def convolution(call: OpCall) -> FieldResult:
    a = call.args
    weight = a["weight"]
    d = weight.dim() - 2
    kernel = weight.shape[2:]

    def step(k: int, f: AxisField) -> AxisField:
        settings = (
            int(kernel[k]),
            _per_axis(a["stride"], k, 1),
            _per_axis(a["padding"], k, 0),
            _per_axis(a["dilation"], k, 1),
        )
        return f.transposed(*settings) if a["transposed"] else f.conv(*settings)

    return _per_axis_rule(call, d, step)


def _pool(d: int) -> Rule:
    def rule(call: OpCall) -> FieldResult:
        a = call.args
        k_list = a["kernel_size"]
        stride = a.get("stride") or k_list

        def step(k: int, f: AxisField) -> AxisField:
            return f.conv(
                _per_axis(k_list, k, 1),
                _per_axis(stride, k, 1),
                _per_axis(a.get("padding"), k, 0),
                _per_axis(a.get("dilation"), k, 1),
            )

        return _per_axis_rule(call, d, step)

    return rule


def _adaptive(d: int) -> Rule:
    def rule(call: OpCall) -> FieldResult:
        t = call.inputs[0][0]
        out = call.outputs[0]
        notes: list[str] = []

        def step(k: int, f: AxisField) -> AxisField:
            n, m = int(t.shape[t.dim() - d + k]), int(out.shape[out.dim() - d + k])
            if n % m == 0:
                return f.conv(n // m, n // m)
            # PyTorch's windows: [floor(o*n/m), ceil((o+1)*n/m)), of unequal sizes.
            widths = [-(-((o + 1) * n) // m) - (o * n) // m for o in range(m)]
            ratio = Fraction(n, m)
            if m % n != 0:
                notes.append(f"adaptive pooling {n}->{m} has unequal windows; size is the widest")
            return f.resample(ratio, (ratio - 1) / 2, max(widths))

        res = _per_axis_rule(call, d, step)
        res.notes.extend(notes)
        return res

    return rule


def _scale_args(a: dict[str, Any]) -> list[Any]:
    if "scale_factors" in a:
        return list(a["scale_factors"] or [])
    if "scales" in a:
        return [a["scales"]]
    return [a[k] for k in ("scales_d", "scales_h", "scales_w") if k in a]


def _upsample(d: int, taps: int) -> Rule:
    def rule(call: OpCall) -> FieldResult:
        a = call.args
        t, out = call.inputs[0][0], call.outputs[0]
        scales = _scale_args(a)
        align = bool(a.get("align_corners") or False)

        def step(k: int, f: AxisField) -> AxisField:
            n, m = int(t.shape[t.dim() - d + k]), int(out.shape[out.dim() - d + k])
            if align:
                ratio = Fraction(n - 1, m - 1) if m > 1 else Fraction(0)
                return f.resample(ratio, 0, taps)
            scale = scales[k] if k < len(scales) else None
            exact = Fraction(scale).limit_denominator(1_000_000) if scale else None
            ratio = 1 / exact if exact else Fraction(n, m)
            return f.resample(ratio, (ratio - 1) / 2, taps)

        return _per_axis_rule(call, d, step)

    return rule


def _reduce(call: OpCall) -> FieldResult:
    t, tf = call.inputs[0]
    out = call.outputs[0]
    dims = call.args.get("dim")
    if dims is None or (isinstance(dims, (list, tuple)) and not dims):
        dims = list(range(t.dim()))
    dims = {_dim(d, t.dim()) for d in ([dims] if isinstance(dims, int) else dims)}
    keep = bool(call.args.get("keepdim") or False)
    ext = tf.extents(t.shape)
    axes, fields = [], []
    for a, f, n in zip(tf.axes, tf.fields, ext, strict=True):
        if a is not None and a in dims:
            fields.append(f.collapse(n))
            axes.append(a if keep else None)
        else:
            fields.append(f)
            axes.append(None if a is None else (a if keep else a - sum(1 for d in dims if d < a)))
    new = TensorField(tuple(axes), tuple(fields))
    if any(a is not None and a >= out.dim() for a in new.axes):
        return _mix_all(call)
    return _same(call, new)


def _view(call: OpCall) -> FieldResult:
    """Reshapes keep the field when the dims from the first spatial axis on are unchanged."""
    t, tf = call.inputs[0]
    out = call.outputs[0]
    present = [a for a in tf.axes if a is not None]
    if not present:
        return _same(call, tf)
    first = min(present)
    tail = tuple(t.shape[first:])
    if len(tail) <= out.dim() and tuple(out.shape[out.dim() - len(tail) :]) == tail:
        shift = out.dim() - t.dim()
        return _same(
            call, replace(tf, axes=tuple(None if a is None else a + shift for a in tf.axes))
        )
    if tuple(out.shape) == tuple(t.shape):
        return _same(call, tf)
    expanded = _expand(tf, t, out)
    if expanded is not None:
        return _same(call, expanded)
    return _same(call, _collapse(tf, t.shape))


def _expand(tf: TensorField, t: torch.Tensor, out: torch.Tensor) -> TensorField | None:
    """Broadcasting a size-1 spatial axis: every position sees the same window (jump 0)."""
    shift = out.dim() - t.dim()
    if shift < 0:
        return None
    if any(i != 1 and out.shape[i + shift] != i for i in t.shape):
        return None
    fields = []
    for a, f in zip(tf.axes, tf.fields, strict=True):
        widened = a is not None and t.shape[a] == 1 and out.shape[a + shift] > 1
        fields.append(AxisField(f.size, 0, f.start) if widened else f)
    axes = tuple(None if a is None else a + shift for a in tf.axes)
    return TensorField(axes, tuple(fields))


def _permute(call: OpCall) -> FieldResult:
    t, tf = call.inputs[0]
    ndim = t.dim()
    if call.name == "permute":
        order = [_dim(d, ndim) for d in call.args["dims"]]
    else:
        order = list(range(ndim))
        if ndim >= 2:
            d0 = _dim(call.args.get("dim0", 0), ndim)
            d1 = _dim(call.args.get("dim1", 1), ndim)
            order[d0], order[d1] = order[d1], order[d0]
    axes = tuple(None if a is None else order.index(a) for a in tf.axes)
    return _same(call, replace(tf, axes=axes))


def _slice(call: OpCall) -> FieldResult:
    t, tf = call.inputs[0]
    a = call.args
    d = _dim(a["dim"], t.dim())
    if d not in tf.axes:
        return _same(call, tf)
    k = tf.axes.index(d)
    n = int(t.shape[d])
    start = a.get("start") or 0
    start = max(0, start + n if start < 0 else min(start, n))
    fields = list(tf.fields)
    fields[k] = fields[k].slice(start, int(a.get("step") or 1))
    return _same(call, TensorField(tf.axes, tuple(fields)))


def _select(call: OpCall) -> FieldResult:
    t, tf = call.inputs[0]
    d = _dim(call.args["dim"], t.dim())
    index = call.args["index"]
    axes, fields = [], []
    for a, f in zip(tf.axes, tf.fields, strict=True):
        if a == d:
            axes.append(None)
            fields.append(f.slice(index + t.shape[d] if index < 0 else index))
        else:
            axes.append(None if a is None else (a - 1 if a > d else a))
            fields.append(f)
    return _same(call, TensorField(tuple(axes), tuple(fields)))


def _split(call: OpCall) -> FieldResult:
    t, tf = call.inputs[0]
    d = _dim(call.args.get("dim", 0), t.dim())
    if d not in tf.axes:
        return _same(call, tf)
    k = tf.axes.index(d)
    results, offset = [], 0
    for out in call.outputs:
        fields = list(tf.fields)
        fields[k] = fields[k].slice(offset)
        offset += int(out.shape[d])
        results.append(TensorField(tf.axes, tuple(fields)))
    return FieldResult(results)


def _cat(call: OpCall) -> FieldResult:
    out = call.outputs[0]
    d = _dim(call.args.get("dim", 0), out.dim())
    if any(d in tf.axes for _, tf in call.inputs):
        return _mix_all(call, "concatenation along a spatial axis: field treated as global")
    return _join(call.inputs, out)


def _pad(call: OpCall) -> FieldResult:
    t, tf = call.inputs[0]
    pad = list(call.args.get("pad") or call.args.get("padding") or [])
    fields = list(tf.fields)
    for k, a in enumerate(tf.axes):
        if a is None:
            continue
        i = 2 * (t.dim() - 1 - a)
        if i < len(pad):
            fields[k] = fields[k].pad(int(pad[i]))
    return _same(call, TensorField(tf.axes, tuple(fields)))


def _pixel_shuffle(call: OpCall) -> FieldResult:
    r = int(call.args.get("upscale_factor") or call.args.get("downscale_factor"))
    up = call.name == "pixel_shuffle"
    return _per_axis_rule(call, 2, lambda k, f: f.transposed(r, r) if up else f.conv(r, r))


RULES: dict[str, Rule] = {
    "convolution": convolution,
    **{f"max_pool{d}d_with_indices": _pool(d) for d in (1, 2, 3)},
    **{f"avg_pool{d}d": _pool(d) for d in (1, 2, 3)},
    "max_pool2d": _pool(2),
    "_adaptive_avg_pool2d": _adaptive(2),
    "_adaptive_avg_pool3d": _adaptive(3),
    "adaptive_max_pool2d": _adaptive(2),
    "adaptive_max_pool3d": _adaptive(3),
    "upsample_nearest1d": _upsample(1, 1),
    "upsample_nearest2d": _upsample(2, 1),
    "upsample_nearest3d": _upsample(3, 1),
    "_upsample_nearest_exact1d": _upsample(1, 1),
    "_upsample_nearest_exact2d": _upsample(2, 1),
    "_upsample_nearest_exact3d": _upsample(3, 1),
    "upsample_linear1d": _upsample(1, 2),
    "upsample_bilinear2d": _upsample(2, 2),
    "upsample_trilinear3d": _upsample(3, 2),
    "upsample_bicubic2d": _upsample(2, 4),
    **{
        name: _reduce
        for name in (
            "mean",
            "sum",
            "amax",
            "amin",
            "max",
            "min",
            "var",
            "std",
            "var_mean",
            "std_mean",
            "logsumexp",
            "prod",
            "norm",
            "linalg_vector_norm",
        )
    },
    **{
        name: _view
        for name in (
            "view",
            "_unsafe_view",
            "reshape",
            "_reshape_alias",
            "expand",
            "squeeze",
            "unsqueeze",
            "flatten",
            "unflatten",
            "view_as",
        )
    },
    "permute": _permute,
    "transpose": _permute,
    "t": _permute,
    "slice": _slice,
    "select": _select,
    "split": _split,
    "split_with_sizes": _split,
    "cat": _cat,
    "constant_pad_nd": _pad,
    **{f"{kind}_pad{d}d": _pad for kind in ("reflection", "replication") for d in (1, 2, 3)},
    "pixel_shuffle": _pixel_shuffle,
    "pixel_unshuffle": _pixel_shuffle,
    **{name: _mixing for name in ("mm", "addmm", "bmm", "baddbmm", "matmul", "dot", "addmv")},
}


def propagate(call: OpCall) -> FieldResult:
    """Fields of ``call``'s outputs (one per output tensor), by ``RULES`` or element-wise."""
    if not call.inputs or not call.outputs:
        return FieldResult([None] * len(call.outputs))
    rule = RULES.get(call.name, elementwise)
    result = rule(call)
    if len(result.fields) != len(call.outputs):
        result.fields = [result.fields[0]] * len(call.outputs)
    return result


def linear_field(x: torch.Tensor, tf: TensorField, out: torch.Tensor) -> TensorField | None:
    """``F.linear`` mixes only the last dim: spatial axes elsewhere keep their field."""
    if x.dim() != out.dim() or (x.dim() - 1) in tf.axes:
        return None
    return tf
