"""Cost formulas per ATen op: multiply-accumulates (MACs) and floating-point operations (FLOPs).

Conventions (per sample; the summary traces a batch of one):

* **MACs** count the multiply-accumulates of convolutions (transposed included), linear layers and
  matrix products, bias excluded. This is what papers and torchvision's metadata call "FLOPs"
  (ResNet-50: 4.09 G at 224x224).

  - convolution: ``N * C_out * H' * W' * (C_in / g) * kh * kw``;
  - transposed convolution: ``N * C_in * H_in * W_in * (C_out / g) * kh * kw`` -- each input pixel
    is scattered once, counted at *input* resolution (counting at output resolution, as some
    tools do, overcounts by stride^2);
  - ``mm``/``addmm``/``bmm``/``baddbmm``: ``M * K * N`` per matrix.

* **FLOPs** are ``2 * MACs`` plus the element-wise work, per output element unless stated:
  bias add 1; activations (ReLU, sigmoid, GELU, ...) 1; add/sub/mul/div 1; BatchNorm 2 in eval
  (folded scale and shift), 4 in training (plus mean and variance); LayerNorm, GroupNorm 5 (mean,
  variance, normalise, scale, shift); softmax 3 (exp, sum, divide); average pooling ``kh*kw`` (adds
  and one divide); max pooling ``kh*kw - 1`` comparisons; adaptive pooling, ``mean`` and ``sum``
  1 per *input* element; linear/bilinear/trilinear interpolation ``2 * 2^d - 1`` (2^d weighted
  taps); nearest interpolation, concatenation, views and copies 0.

An op found neither in :data:`COSTS` nor in :data:`FREE` is never counted as zero silently: the
report lists it and marks itself partial.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Cost:
    """MACs and FLOPs of one op call; ``bias_adds`` are the bias additions inside ``flops``."""

    macs: int = 0
    flops: int = 0
    bias_adds: int = 0


CostFn = Callable[[dict[str, Any], list[torch.Tensor]], Cost]


def _numel(t: Any) -> int:
    return int(t.numel()) if isinstance(t, torch.Tensor) else 0


def convolution(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
    x, w, out = a["input"], a["weight"], outs[0]
    kernel = math.prod(int(k) for k in w.shape[2:])
    if a["transposed"]:
        # weight (C_in, C_out/g, k...): every input pixel is scattered to C_out/g * k outputs.
        macs = _numel(x) * int(w.shape[1]) * kernel
    else:
        # weight (C_out, C_in/g, k...): every output pixel gathers C_in/g * k inputs.
        macs = _numel(out) * int(w.shape[1]) * kernel
    bias = _numel(out) if a.get("bias") is not None else 0
    return Cost(macs, 2 * macs + bias, bias)


def _matmul(left_arg: str, bias_arg: str | None = None) -> CostFn:
    """(..., M, K) @ (..., K, N): one multiply-accumulate per output element and k."""

    def cost(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
        k = int(a[left_arg].shape[-1])
        macs = _numel(outs[0]) * k
        bias = _numel(outs[0]) if bias_arg and isinstance(a.get(bias_arg), torch.Tensor) else 0
        return Cost(macs, 2 * macs + bias, bias)

    return cost


def _per_output(flops_per_element: int) -> CostFn:
    def cost(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
        return Cost(0, flops_per_element * _numel(outs[0]))

    return cost


def _per_input(flops_per_element: int) -> CostFn:
    def cost(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
        x = a.get("self", a.get("input"))
        return Cost(0, flops_per_element * _numel(x))

    return cost


def batch_norm(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
    training = bool(a.get("training", False))
    return Cost(0, (4 if training else 2) * _numel(outs[0]))


def _pool(max_pool: bool) -> CostFn:
    def cost(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
        k = a["kernel_size"]
        d = outs[0].dim() - 2 if outs[0].dim() > 2 else 1
        ks = [int(v) for v in k] if not isinstance(k, int) else [k]
        window = math.prod(ks if len(ks) > 1 else ks * d)
        return Cost(0, (window - 1 if max_pool else window) * _numel(outs[0]))

    return cost


def _interpolate(d: int) -> CostFn:
    return _per_output(2 * 2**d - 1)


def attention(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
    q, k, v = a["query"], a["key"], a["value"]
    batch = math.prod(int(s) for s in q.shape[:-2])
    L, S, E, Ev = int(q.shape[-2]), int(k.shape[-2]), int(q.shape[-1]), int(v.shape[-1])
    macs = batch * L * S * (E + Ev)
    return Cost(macs, 2 * macs + 3 * batch * L * S)


_ACTIVATIONS = (
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "silu",
    "mish",
    "sigmoid",
    "tanh",
    "hardtanh",
    "hardsigmoid",
    "hardswish",
    "softplus",
    "prelu",
    "_prelu_kernel",
    "threshold",
    "clamp",
    "clamp_min",
    "clamp_max",
    "log_sigmoid_forward",
    "glu",
)
_ELEMENTWISE = (
    "add",
    "sub",
    "rsub",
    "mul",
    "div",
    "neg",
    "abs",
    "exp",
    "log",
    "sqrt",
    "rsqrt",
    "pow",
    "reciprocal",
    "maximum",
    "minimum",
    "where",
    "addcmul",
    "addcdiv",
    "lerp",
    "erf",
    "sin",
    "cos",
    "floor",
    "ceil",
    "round",
    "sign",
    "masked_fill",
    "bernoulli",
    "native_dropout",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
)

COSTS: dict[str, CostFn] = {
    "convolution": convolution,
    "mm": _matmul("self"),
    "addmm": _matmul("mat1", bias_arg="self"),
    "bmm": _matmul("self"),
    "baddbmm": _matmul("batch1", bias_arg="self"),
    "native_batch_norm": batch_norm,
    "_native_batch_norm_legit": batch_norm,
    "_native_batch_norm_legit_no_training": batch_norm,
    "native_layer_norm": _per_output(5),
    "native_group_norm": _per_output(5),
    "_softmax": _per_output(3),
    "_safe_softmax": _per_output(3),
    "_log_softmax": _per_output(3),
    **{f"max_pool{d}d_with_indices": _pool(True) for d in (1, 2, 3)},
    "max_pool2d": _pool(True),
    **{f"avg_pool{d}d": _pool(False) for d in (1, 2, 3)},
    **{
        name: _per_input(1)
        for name in (
            "_adaptive_avg_pool2d",
            "_adaptive_avg_pool3d",
            "adaptive_max_pool2d",
            "adaptive_max_pool3d",
            "mean",
            "sum",
            "amax",
            "amin",
            "max",
            "min",
            "var",
            "std",
            "var_mean",
            "logsumexp",
        )
    },
    "upsample_linear1d": _interpolate(1),
    "upsample_bilinear2d": _interpolate(2),
    "upsample_trilinear3d": _interpolate(3),
    "upsample_bicubic2d": _per_output(31),
    **{name: _per_output(1) for name in _ACTIVATIONS + _ELEMENTWISE},
    **{
        name: attention
        for name in (
            "_scaled_dot_product_flash_attention",
            "_scaled_dot_product_flash_attention_for_cpu",
            "_scaled_dot_product_efficient_attention",
            "_scaled_dot_product_cudnn_attention",
        )
    },
}

# Data movement, allocation and views: no arithmetic by definition.
FREE: frozenset[str] = frozenset(
    {
        "view",
        "_unsafe_view",
        "reshape",
        "_reshape_alias",
        "expand",
        "squeeze",
        "unsqueeze",
        "flatten",
        "unflatten",
        "permute",
        "transpose",
        "t",
        "slice",
        "select",
        "split",
        "split_with_sizes",
        "unbind",
        "chunk",
        "cat",
        "stack",
        "clone",
        "contiguous",
        "copy",
        "_to_copy",
        "alias",
        "detach",
        "lift_fresh",
        "empty",
        "empty_like",
        "empty_strided",
        "zeros",
        "zeros_like",
        "ones",
        "ones_like",
        "full",
        "full_like",
        "fill",
        "zero",
        "arange",
        "scalar_tensor",
        "constant_pad_nd",
        "reflection_pad1d",
        "reflection_pad2d",
        "reflection_pad3d",
        "replication_pad1d",
        "replication_pad2d",
        "replication_pad3d",
        "pixel_shuffle",
        "pixel_unshuffle",
        "channel_shuffle",
        "upsample_nearest1d",
        "upsample_nearest2d",
        "upsample_nearest3d",
        "_upsample_nearest_exact1d",
        "_upsample_nearest_exact2d",
        "_upsample_nearest_exact3d",
        "index",
        "index_select",
        "gather",
        "roll",
        "flip",
        "embedding",
        "as_strided",
        "new_empty",
        "new_zeros",
        "new_ones",
        "_local_scalar_dense",
        "set",
        "resize",
    }
)


def cost_of(name: str, args: dict[str, Any], outputs: list[torch.Tensor]) -> Cost | None:
    """The cost of one call of op ``name``; ``None`` when there is no formula for it."""
    fn = COSTS.get(name)
    if fn is not None:
        return fn(args, outputs)
    return Cost() if name in FREE else None
