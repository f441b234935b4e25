"""Receptive-field rules per ATen op, looked up by name in ``RULES``.

Window ops (convolution, pooling, adaptive pooling, interpolation, pixel shuffle) apply the
recurrences of :mod:`cnnlab.core.receptive_field` per spatial axis; layout ops (views,
permutes, slices, splits, padding, concatenation) move or crop the spatial axes; reductions
over spatial axes collapse them (global pooling). Ops without a rule are element-wise or mixing,
see :func:`cnnlab.analysis.fields.elementwise`.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

import torch

from cnnlab.analysis.fields import (
    FieldResult,
    OpCall,
    Rule,
    TensorField,
    collapse,
    elementwise,
    join,
    mix_all,
    mixing,
    norm_dim,
    per_axis,
    per_axis_rule,
    same,
)
from cnnlab.core.receptive_field import AxisField


def convolution(call: OpCall) -> FieldResult:
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


def _pool(d: int) -> Rule:
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

        return per_axis_rule(call, d, step)

    return rule


def _reduce(call: OpCall) -> FieldResult:
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


def _view(call: OpCall) -> FieldResult:
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


def _permute(call: OpCall) -> FieldResult:
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


def _slice(call: OpCall) -> FieldResult:
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


def _select(call: OpCall) -> FieldResult:
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


def _split(call: OpCall) -> FieldResult:
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


def _cat(call: OpCall) -> FieldResult:
    out = call.outputs[0]
    d = norm_dim(call.args.get("dim", 0), out.dim())
    if any(d in tf.axes for _, tf in call.inputs):
        return mix_all(call, "concatenation along a spatial axis: field treated as global")
    return join(call.inputs, out)


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
    return same(call, TensorField(tf.axes, tuple(fields)))


def _pixel_shuffle(call: OpCall) -> FieldResult:
    r = int(call.args.get("upscale_factor") or call.args.get("downscale_factor"))
    up = call.name == "pixel_shuffle"
    return per_axis_rule(call, 2, lambda k, f: f.transposed(r, r) if up else f.conv(r, r))


def _created(call: OpCall) -> FieldResult:
    """New tensors whose values do not depend on the input (``x.new_zeros``, ``zeros_like``)."""
    return FieldResult([None] * len(call.outputs))


_CREATION = (
    "new_zeros",
    "new_ones",
    "new_empty",
    "new_full",
    "empty_like",
    "zeros_like",
    "ones_like",
    "full_like",
    "rand_like",
    "randn_like",
    "scalar_tensor",
)

RULES: dict[str, Rule] = {
    **{name: _created for name in _CREATION},
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
    **{name: mixing for name in ("mm", "addmm", "bmm", "baddbmm", "matmul", "dot", "addmv")},
}


def propagate(call: OpCall) -> FieldResult:
    """Fields of ``call``'s outputs (one per output tensor), by ``RULES`` or element-wise."""
    if not call.inputs or not call.outputs:
        return FieldResult([None] * len(call.outputs))
    rule = RULES.get(call.name, elementwise)
    try:
        result = rule(call)
    except (IndexError, KeyError, TypeError, ValueError, ZeroDivisionError) as err:
        # An argument pattern the rule does not know: stay conservative, and say so.
        result = mix_all(call, f"receptive field treated as global at {call.name} ({err!r})")
    if len(result.fields) != len(call.outputs):
        result.fields = [result.fields[0]] * len(call.outputs)
    return result
