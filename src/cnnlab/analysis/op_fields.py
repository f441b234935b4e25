"""Receptive-field rules of ATen ops; the op table (:mod:`cnnlab.analysis.op_table`) assigns them.

Window ops (convolution, pooling, adaptive pooling, interpolation, pixel shuffle) apply the
recurrences of :mod:`cnnlab.core.receptive_field` per spatial axis; layout ops (views,
permutes, slices, splits, padding, concatenation) move or crop the spatial axes; reductions
over spatial axes collapse them (global pooling). Ops without a rule are element-wise or mixing,
see :func:`cnnlab.analysis.tensor_fields.elementwise`.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

import torch

from cnnlab.analysis.tensor_fields import (
    FieldResult,
    OpCall,
    Rule,
    TensorField,
    collapse,
    join,
    mix_all,
    norm_dim,
    per_axis,
    per_axis_rule,
    same,
)
from cnnlab.core.receptive_field import AxisField


def convolution(call: OpCall) -> FieldResult:
    """Per spatial axis: :meth:`AxisField.conv`, or :meth:`AxisField.transposed`."""
    a = call.args
    weight = a["weight"]
    d = weight.dim() - 2
    kernel = weight.shape[2:]

    def step(k: int, f: AxisField) -> AxisField:
        settings = (
            int(kernel[k]),
            per_axis(a["stride"], k, 1),
            per_axis(a["padding"], k, 0),
            per_axis(a["dilation"], k, 1),
        )
        return f.transposed(*settings) if a["transposed"] else f.conv(*settings)

    return per_axis_rule(call, d, step)


def pool(d: int) -> Rule:
    """Max and average pooling over ``d`` window dims."""

    def rule(call: OpCall) -> FieldResult:
        a = call.args
        k_list = a["kernel_size"]
        stride = a.get("stride") or k_list

        def step(k: int, f: AxisField) -> AxisField:
            return f.conv(
                per_axis(k_list, k, 1),
                per_axis(stride, k, 1),
                per_axis(a.get("padding"), k, 0),
                per_axis(a.get("dilation"), k, 1),
            )

        return per_axis_rule(call, d, step)

    return rule


def adaptive(d: int) -> Rule:
    """Adaptive pooling: equal windows when the sizes divide, else PyTorch's widest window."""

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

        res = per_axis_rule(call, d, step)
        res.notes.extend(notes)
        return res

    return rule


def _scale_args(a: dict[str, Any]) -> list[Any]:
    if "scale_factors" in a:
        return list(a["scale_factors"] or [])
    if "scales" in a:
        return [a["scales"]]
    return [a[k] for k in ("scales_d", "scales_h", "scales_w") if k in a]


def upsample(d: int, taps: int) -> Rule:
    """Interpolation reading ``taps`` pixels per axis (1 nearest, 2 linear, 4 cubic)."""

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

        return per_axis_rule(call, d, step)

    return rule


def reduce(call: OpCall) -> FieldResult:
    t, tf = call.inputs[0]
    out = call.outputs[0]
    dims = call.args.get("dim")
    if dims is None or (isinstance(dims, (list, tuple)) and not dims):
        dims = list(range(t.dim()))
    dims = {norm_dim(d, t.dim()) for d in ([dims] if isinstance(dims, int) else dims)}
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
        return mix_all(call)
    return same(call, new)


def view(call: OpCall) -> FieldResult:
    """Reshapes keep the field when the dims from the first spatial axis on are unchanged."""
    t, tf = call.inputs[0]
    out = call.outputs[0]
    present = [a for a in tf.axes if a is not None]
    if not present:
        return same(call, tf)
    first = min(present)
    tail = tuple(t.shape[first:])
    if len(tail) <= out.dim() and tuple(out.shape[out.dim() - len(tail) :]) == tail:
        shift = out.dim() - t.dim()
        return same(
            call, replace(tf, axes=tuple(None if a is None else a + shift for a in tf.axes))
        )
    if tuple(out.shape) == tuple(t.shape):
        return same(call, tf)
    expanded = _expand(tf, t, out)
    if expanded is not None:
        return same(call, expanded)
    return same(call, collapse(tf, t.shape))


def _expand(tf: TensorField, t: torch.Tensor, out: torch.Tensor) -> TensorField | None:
    """Broadcasting a size-1 spatial axis: every position sees the same window (jump 0)."""
    shift = out.dim() - t.dim()
    if shift < 0:
        return None
    if any(n != 1 and out.shape[i + shift] != n for i, n in enumerate(t.shape)):
        return None
    fields = []
    for a, f in zip(tf.axes, tf.fields, strict=True):
        widened = a is not None and t.shape[a] == 1 and out.shape[a + shift] > 1
        fields.append(AxisField(f.size, 0, f.start) if widened else f)
    axes = tuple(None if a is None else a + shift for a in tf.axes)
    return TensorField(axes, tuple(fields))


def permute(call: OpCall) -> FieldResult:
    t, tf = call.inputs[0]
    ndim = t.dim()
    if call.name == "permute":
        order = [norm_dim(d, ndim) for d in call.args["dims"]]
    else:
        order = list(range(ndim))
        if ndim >= 2:
            d0 = norm_dim(call.args.get("dim0", 0), ndim)
            d1 = norm_dim(call.args.get("dim1", 1), ndim)
            order[d0], order[d1] = order[d1], order[d0]
    axes = tuple(None if a is None else order.index(a) for a in tf.axes)
    return same(call, replace(tf, axes=axes))


def slice_axis(call: OpCall) -> FieldResult:
    t, tf = call.inputs[0]
    a = call.args
    d = norm_dim(a["dim"], t.dim())
    if d not in tf.axes:
        return same(call, tf)
    k = tf.axes.index(d)
    n = int(t.shape[d])
    start = a.get("start") or 0
    start = max(0, start + n if start < 0 else min(start, n))
    fields = list(tf.fields)
    fields[k] = fields[k].slice(start, int(a.get("step") or 1))
    return same(call, TensorField(tf.axes, tuple(fields)))


def select(call: OpCall) -> FieldResult:
    t, tf = call.inputs[0]
    d = norm_dim(call.args["dim"], t.dim())
    index = call.args["index"]
    axes, fields = [], []
    for a, f in zip(tf.axes, tf.fields, strict=True):
        if a == d:
            axes.append(None)
            fields.append(f.slice(index + t.shape[d] if index < 0 else index))
        else:
            axes.append(None if a is None else (a - 1 if a > d else a))
            fields.append(f)
    return same(call, TensorField(tuple(axes), tuple(fields)))


def split(call: OpCall) -> FieldResult:
    t, tf = call.inputs[0]
    d = norm_dim(call.args.get("dim", 0), t.dim())
    if d not in tf.axes:
        return same(call, tf)
    k = tf.axes.index(d)
    results, offset = [], 0
    for out in call.outputs:
        fields = list(tf.fields)
        fields[k] = fields[k].slice(offset)
        offset += int(out.shape[d])
        results.append(TensorField(tf.axes, tuple(fields)))
    return FieldResult(results)


def cat(call: OpCall) -> FieldResult:
    out = call.outputs[0]
    d = norm_dim(call.args.get("dim", 0), out.dim())
    if any(d in tf.axes for _, tf in call.inputs):
        return mix_all(call, "concatenation along a spatial axis: field treated as global")
    return join(call.inputs, out)


def pad(call: OpCall) -> FieldResult:
    t, tf = call.inputs[0]
    pad = list(call.args.get("pad") or call.args.get("padding") or [])
    fields = list(tf.fields)
    for k, a in enumerate(tf.axes):
        if a is None:
            continue
        i = 2 * (t.dim() - 1 - a)
        if i < len(pad):
            fields[k] = fields[k].pad(int(pad[i]))
    return same(call, TensorField(tf.axes, tuple(fields)))


def pixel_shuffle(call: OpCall) -> FieldResult:
    r = int(call.args.get("upscale_factor") or call.args.get("downscale_factor"))
    up = call.name == "pixel_shuffle"
    return per_axis_rule(call, 2, lambda k, f: f.transposed(r, r) if up else f.conv(r, r))


def created(call: OpCall) -> FieldResult:
    """New tensors whose values do not depend on the input (``x.new_zeros``, ``zeros_like``)."""
    return FieldResult([None] * len(call.outputs))


def along_dim(call: OpCall) -> FieldResult:
    """Softmax, cumulative sums and sorting along ``dim``: element-wise, unless ``dim`` is a
    spatial axis, whose positions then all mix (a prefix sum sees a growing window: the field
    is the whole map, noted)."""
    t, tf = call.inputs[0]
    dim = call.args.get("dim")
    if dim is None or norm_dim(int(dim), t.dim()) not in tf.axes:
        return same(call, tf)
    return mix_all(call, f"{call.name} along a spatial axis: field treated as global")


def unpool(d: int) -> Rule:
    """Max unpooling scatters each input to one output of its window: like nearest upsampling
    (the exact position depends on the indices, i.e. on the data)."""

    def rule(call: OpCall) -> FieldResult:
        t, out = call.inputs[0][0], call.outputs[0]

        def step(k: int, f: AxisField) -> AxisField:
            ratio = Fraction(int(t.shape[t.dim() - d + k]), int(out.shape[out.dim() - d + k]))
            return f.resample(ratio, (ratio - 1) / 2, 1)

        return per_axis_rule(call, d, step)

    return rule
