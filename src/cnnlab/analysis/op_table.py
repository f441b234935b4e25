"""The op table: everything the trace knows about an ATen op, in one entry per op name.

An entry (:class:`Op`) holds the op's forward cost rule (:mod:`cnnlab.analysis.op_costs`), its
receptive-field rule (:mod:`cnnlab.analysis.op_fields`), the MACs of its backward, a shortcut
that computes its output on the meta device without torch's Python meta kernels (the commonest
shape-preserving ops are most of a CNN's tracing time), and whether its output's *shape* depends
on the input's values (``nonzero``, ``unique``, NMS: a detector's later costs then depend on the
data). Ops are looked up by their overload packet's name without the in-place underscore
(``aten.relu_.default`` -> ``relu``).

To teach the trace a new op, add one line here: an op missing from the table is never counted as
zero silently (the report names it and says it is partial), and without a field rule an op is
treated as element-wise when its output has its inputs' broadcast shape, as mixing every
position otherwise (noted).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from cnnlab.analysis import op_costs as costs
from cnnlab.analysis import op_fields as fields
from cnnlab.analysis.op_costs import BackwardRule, CostRule
from cnnlab.analysis.tensor_fields import Rule, broadcast, mixing

MetaShortcut = Callable[[tuple, bool], Any]


@dataclass(frozen=True)
class Op:
    """What the trace knows about one op.

    Attributes:
        cost: MACs and FLOPs of a call (``None``: no formula; the report says it is partial).
        field: receptive-field rule (``None``: element-wise, or mixing when shapes differ).
        backward: MACs of the call's backward, given which inputs need a gradient (``None``:
            no multiply-accumulates in the backward).
        meta: computes the output of a call on meta tensors directly (``None``: run the op).
        data_dependent: the output's shape depends on the input's values (or a predicate on
            the call's arguments that says when it does).
    """

    cost: CostRule | None = None
    field: Rule | None = None
    backward: BackwardRule | None = None
    meta: MetaShortcut | None = None
    data_dependent: bool | Callable[[dict[str, Any]], bool] = False


# -- meta shortcuts --------------------------------------------------------------------------
# Each returns what torch's meta kernel would (shape, dtype and strides) for the simple cases
# (floating meta tensors with contiguous strides), or None to run the op.
_FLOATS = frozenset({torch.float16, torch.bfloat16, torch.float32, torch.float64})


def _dense(t: torch.Tensor) -> bool:
    """Row-major strides exactly (size-1 dims included: channels-last stays out)."""
    stride = 1
    for size, s in zip(reversed(t.shape), reversed(t.stride()), strict=True):
        if s != stride:
            return False
        stride *= size
    return True


def elementwise_meta(args: tuple, inplace: bool) -> Any:
    """Output of an element-wise op on dense meta tensors of one floating dtype and numbers."""
    x = args[0]
    if not isinstance(x, torch.Tensor) or not x.is_meta or x.dtype not in _FLOATS:
        return None
    shape: tuple[int, ...] | None = tuple(x.shape)
    for other in args[1:]:
        if isinstance(other, torch.Tensor):
            if not other.is_meta or other.dtype != x.dtype or not _dense(other):
                return None
            shape = broadcast(shape, other.shape)  # type: ignore[arg-type]
            if shape is None:
                return None
        elif type(other) not in (int, float):
            return None
    if inplace:
        return x if shape == tuple(x.shape) else None
    if not _dense(x):
        return None
    return torch.empty(shape, dtype=x.dtype, device="meta")


def reduction_meta(args: tuple, inplace: bool) -> Any:
    """``mean``/``sum`` of a dense floating meta tensor over the listed dims."""
    if len(args) < 2 or len(args) > 3 or inplace:
        return None
    x, dims = args[0], args[1]
    keep = bool(args[2]) if len(args) == 3 else False
    if not isinstance(x, torch.Tensor) or not x.is_meta or x.dtype not in _FLOATS:
        return None
    if not isinstance(dims, (list, tuple)) or not dims or not _dense(x):
        return None
    n = x.dim()
    reduced = {d + n if d < 0 else d for d in dims}
    if any(not 0 <= d < n for d in reduced):
        return None
    shape = [1 if i in reduced else s for i, s in enumerate(x.shape) if keep or i not in reduced]
    return torch.empty(shape, dtype=x.dtype, device="meta")


def convolution_meta(args: tuple, inplace: bool) -> Any:
    """Output of a convolution of dense meta tensors (``aten.convolution``'s arguments)."""
    if len(args) != 9:
        return None
    x, w, _, stride, padding, dilation, transposed, output_padding, groups = args
    if not (isinstance(x, torch.Tensor) and isinstance(w, torch.Tensor) and x.is_meta):
        return None
    d = w.dim() - 2
    if x.dim() != w.dim() or x.dtype not in _FLOATS or x.dtype != w.dtype:
        return None
    if not (_dense(x) and _dense(w)) or len(stride) != d or len(padding) != d:
        return None
    sizes = []
    for k in range(d):
        n, kernel = int(x.shape[2 + k]), int(w.shape[2 + k])
        span = dilation[k] * (kernel - 1)
        if transposed:
            size = (n - 1) * stride[k] - 2 * padding[k] + span + output_padding[k] + 1
        else:
            size = (n + 2 * padding[k] - span - 1) // stride[k] + 1
        if size <= 0:
            return None  # let torch's kernel raise its error
        sizes.append(size)
    channels = int(w.shape[1]) * int(groups) if transposed else int(w.shape[0])
    return torch.empty((int(x.shape[0]), channels, *sizes), dtype=x.dtype, device="meta")


def batch_norm_meta(args: tuple, inplace: bool) -> Any:
    """BatchNorm's output, saved mean and saved inverse deviation (per channel)."""
    x = args[0]
    if inplace or not isinstance(x, torch.Tensor) or not x.is_meta or x.dtype not in _FLOATS:
        return None
    if x.dim() < 2 or not _dense(x):
        return None
    c = (int(x.shape[1]),)
    stats = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
    return (
        torch.empty(x.shape, dtype=x.dtype, device="meta"),
        torch.empty(c, dtype=stats, device="meta"),
        torch.empty(c, dtype=stats, device="meta"),
    )


# -- the table -------------------------------------------------------------------------------
def _each(names: Iterable[str], op: Op) -> dict[str, Op]:
    return dict.fromkeys(names, op)


def _boolean_mask(a: dict[str, Any]) -> bool:
    """``x[mask]``: as many rows as the mask has True values."""
    return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in a["indices"] or ())


FREE = Op(costs.free)
CREATED = Op(costs.free, fields.created)  # values do not depend on the input
DATA_DEPENDENT = Op(costs.free, mixing, data_dependent=True)
_PER_ELEMENT = Op(costs.per_output(1))
_PER_ELEMENT_FAST = Op(costs.per_output(1), meta=elementwise_meta)
_PER_INPUT = Op(costs.per_input(1), fields.reduce)

# element-wise ops whose output has the broadcast shape and dtype of their (tensor, number)
# arguments: the meta shortcut applies
FAST_ELEMENTWISE = (
    "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid",
    "tanh", "hardtanh", "hardsigmoid", "hardswish", "softplus", "threshold", "clamp",
    "clamp_min", "clamp_max", "add", "sub", "rsub", "mul", "div", "neg", "abs", "exp", "sqrt",
    "rsqrt", "pow", "square", "reciprocal", "maximum", "minimum",
)  # fmt: skip
ELEMENTWISE = (
    "hardshrink", "softshrink", "prelu", "_prelu_kernel", "rrelu_with_noise",
    "log_sigmoid_forward", "glu", "logit", "exp2", "expm1", "log", "log2", "log10", "log1p",
    "fmax", "fmin", "addcmul", "addcdiv", "lerp", "erf", "erfc", "erfinv", "sin", "cos", "tan",
    "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh", "floor", "ceil",
    "round", "trunc", "frac", "sign", "sgn", "remainder", "fmod", "hypot", "xlogy",
    "logaddexp", "copysign", "nan_to_num", "digamma", "lgamma", "native_dropout", "bernoulli",
    "eq", "ne", "lt", "le", "gt", "ge", "where", "masked_fill", "isnan", "isinf", "isfinite",
    "isneginf", "isposinf",
)  # fmt: skip
LOGIC = (
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "logical_and", "logical_or",
    "logical_xor", "logical_not", "__and__", "__or__", "__xor__", "__lshift__", "__rshift__",
)  # fmt: skip
VIEWS = (
    "view", "_unsafe_view", "reshape", "_reshape_alias", "expand", "squeeze", "unsqueeze",
    "flatten", "unflatten", "view_as",
)  # fmt: skip
MOVES = (
    "clone", "contiguous", "copy", "_to_copy", "to", "alias", "detach", "lift_fresh",
    "lift_fresh_copy", "as_strided", "unfold", "roll", "flip", "rot90", "diagonal", "diag",
    "diag_embed", "tril", "triu", "repeat", "tile", "narrow", "index_select", "gather",
    "take", "take_along_dim", "scatter", "index_put", "index_copy", "index_fill", "masked_scatter",
    "embedding", "im2col", "unbind", "chunk", "stack", "view_as_real", "view_as_complex", "conj",
    "_conj", "resolve_conj", "resolve_neg", "channel_shuffle",
    "native_channel_shuffle", "fill", "zero", "_local_scalar_dense", "set", "resize",
    "_assert_async", "_assert_scalar", "_assert_tensor_metadata", "_functional_assert_async",
    "sym_size", "sym_numel", "sym_stride", "sym_storage_offset", "is_same_size", "equal",
    "_has_compatible_shallow_copy_type", "record_stream", "_pin_memory",
)  # fmt: skip
CREATION = (
    "empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "zeros",
    "zeros_like", "new_zeros", "ones", "ones_like", "new_ones", "full", "full_like", "new_full",
    "arange", "linspace", "logspace", "eye", "scalar_tensor", "rand", "rand_like", "randn",
    "randn_like", "randint", "randint_like", "randperm", "normal", "uniform", "exponential",
    "geometric", "cauchy", "log_normal", "random", "multinomial", "poisson",
)  # fmt: skip
REDUCTIONS = (
    "nansum", "amax", "amin", "max", "min", "aminmax", "argmax", "argmin", "prod", "any", "all",
    "var", "std", "var_mean", "std_mean", "logsumexp", "count_nonzero",
)  # fmt: skip
# output shapes that depend on values: selections (no arithmetic), and sorting-based ops whose
# work depends on the data (uncounted, like sort and topk; a report with them is partial)
VALUE_SHAPED = ("nonzero", "masked_select", "repeat_interleave")
VALUE_SORTED = ("_unique2", "unique_dim", "unique_consecutive", "nms")
FLASH_ATTENTION = (
    "_scaled_dot_product_flash_attention",
    "_scaled_dot_product_flash_attention_for_cpu",
    "_scaled_dot_product_efficient_attention",
    "_scaled_dot_product_cudnn_attention",
)
_ATTENTION = Op(costs.attention, mixing, costs.attention_backward)

OPS: dict[str, Op] = {
    # products: the multiply-accumulates
    "convolution": Op(
        costs.convolution, fields.convolution, costs.convolution_backward, convolution_meta
    ),
    "mm": Op(costs.matmul("self"), mixing, costs.matmul_backward("self", "mat2")),
    "addmm": Op(costs.matmul("mat1", bias="self"), mixing, costs.matmul_backward("mat1", "mat2")),
    "bmm": Op(costs.matmul("self"), mixing, costs.matmul_backward("self", "mat2")),
    "baddbmm": Op(
        costs.matmul("batch1", bias="self"), mixing, costs.matmul_backward("batch1", "batch2")
    ),
    "mv": Op(costs.matmul("self"), mixing, costs.matmul_backward("self", "vec")),
    "addmv": Op(costs.matmul("mat", bias="self"), mixing, costs.matmul_backward("mat", "vec")),
    "dot": Op(costs.matmul("self"), mixing, costs.matmul_backward("self", "tensor")),
    "vdot": Op(costs.matmul("self"), mixing, costs.matmul_backward("self", "other")),
    **_each(FLASH_ATTENTION, _ATTENTION),
    "_native_multi_head_attention": Op(costs.multi_head_attention, mixing),
    "_transformer_encoder_layer_fwd": Op(costs.transformer_encoder_layer, mixing),
    "mkldnn_rnn_layer": Op(costs.recurrent_layer, mixing, costs.recurrent_layer_backward),
    "affine_grid_generator": Op(costs.affine_grid, fields.created, costs.affine_grid_backward),
    # normalisation and softmax
    **_each(
        (
            "native_batch_norm",
            "_native_batch_norm_legit",
            "_native_batch_norm_legit_no_training",
            "_native_batch_norm_legit_functional",
            "cudnn_batch_norm",
            "miopen_batch_norm",
        ),
        Op(costs.batch_norm, meta=batch_norm_meta),
    ),
    "native_layer_norm": Op(costs.per_output(5)),
    "native_group_norm": Op(costs.per_output(5)),
    "_fused_rms_norm": Op(costs.per_output(4)),
    **_each(
        ("_softmax", "_safe_softmax", "_log_softmax"), Op(costs.per_output(3), fields.along_dim)
    ),
    # windows: pooling and interpolation
    **{f"max_pool{d}d_with_indices": Op(costs.pool(True), fields.pool(d)) for d in (1, 2, 3)},
    "max_pool2d": Op(costs.pool(True), fields.pool(2)),
    **{f"avg_pool{d}d": Op(costs.pool(False), fields.pool(d)) for d in (1, 2, 3)},
    "_adaptive_avg_pool2d": Op(costs.per_input(1), fields.adaptive(2)),
    "_adaptive_avg_pool3d": Op(costs.per_input(1), fields.adaptive(3)),
    "adaptive_max_pool2d": Op(costs.per_input(1), fields.adaptive(2)),
    "adaptive_max_pool3d": Op(costs.per_input(1), fields.adaptive(3)),
    "max_unpool2d": Op(costs.free, fields.unpool(2)),
    "max_unpool3d": Op(costs.free, fields.unpool(3)),
    **{f"upsample_nearest{d}d": Op(costs.free, fields.upsample(d, 1)) for d in (1, 2, 3)},
    **{f"_upsample_nearest_exact{d}d": Op(costs.free, fields.upsample(d, 1)) for d in (1, 2, 3)},
    "upsample_linear1d": Op(costs.interpolation(1), fields.upsample(1, 2)),
    "upsample_bilinear2d": Op(costs.interpolation(2), fields.upsample(2, 2)),
    "upsample_trilinear3d": Op(costs.interpolation(3), fields.upsample(3, 2)),
    "upsample_bicubic2d": Op(costs.per_output(31), fields.upsample(2, 4)),
    "pixel_shuffle": Op(costs.free, fields.pixel_shuffle),
    "pixel_unshuffle": Op(costs.free, fields.pixel_shuffle),
    # reductions
    **_each(REDUCTIONS, _PER_INPUT),
    **_each(("mean", "sum"), Op(costs.per_input(1), fields.reduce, meta=reduction_meta)),
    **_each(("norm", "linalg_vector_norm"), Op(costs.per_input(2), fields.reduce)),
    **_each(("cumsum", "cumprod", "logcumsumexp"), Op(costs.per_input(1), fields.along_dim)),
    "col2im": Op(costs.per_input(1)),
    "scatter_add": Op(costs.per_input(1)),
    "index_add": Op(costs.per_input(1)),
    "scatter_reduce": Op(costs.per_input(1)),
    "_embedding_bag": Op(costs.per_input(1)),
    # element-wise
    **_each(FAST_ELEMENTWISE, _PER_ELEMENT_FAST),
    **_each(ELEMENTWISE, _PER_ELEMENT),
    **_each(LOGIC, FREE),
    # layout: views, copies, indexing, padding, splitting, concatenation
    **_each(MOVES, FREE),
    **_each(VIEWS, Op(costs.free, fields.view)),
    **_each(("permute", "transpose", "t"), Op(costs.free, fields.permute)),
    "slice": Op(costs.free, fields.slice_axis),
    "select": Op(costs.free, fields.select),
    **_each(
        ("split", "split_with_sizes", "unsafe_split", "unsafe_split_with_sizes"),
        Op(costs.free, fields.split),
    ),
    "cat": Op(costs.free, fields.cat),
    "constant_pad_nd": Op(costs.free, fields.pad),
    **{
        f"{kind}_pad{d}d": Op(costs.free, fields.pad)
        for kind in ("reflection", "replication")
        for d in (1, 2, 3)
    },
    **_each(CREATION, CREATED),
    # shapes that depend on values
    **_each(VALUE_SHAPED, DATA_DEPENDENT),
    **_each(VALUE_SORTED, Op(field=mixing, data_dependent=True)),
    "index": Op(costs.free, data_dependent=_boolean_mask),
}
