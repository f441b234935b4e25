"""Cost rules of ATen ops: multiply-accumulates (MACs), FLOPs, and the MACs of their backward.

The op table (:mod:`cnnlab.analysis.op_table`) says which rule each op uses. Conventions (per
call; the summary traces a batch of one unless given other inputs):

* **MACs** count the multiply-accumulates of convolutions (transposed included), linear layers,
  matrix products and attention, bias excluded. This is what papers and torchvision's metadata
  call "FLOPs" (ResNet-50: 4.09 G at 224x224).

  - convolution: ``N * C_out * H' * W' * (C_in / g) * kh * kw``;
  - transposed convolution: ``N * C_in * H_in * W_in * (C_out / g) * kh * kw`` -- each input pixel
    is scattered once, counted at *input* resolution (counting at output resolution, as some
    tools do, overcounts by stride^2);
  - ``mm``/``addmm``/``bmm``/``baddbmm``: ``M * K * N`` per matrix; attention ``L * S * (E + Ev)``
    per head (``QK^T`` and ``AV``), causal masks included (the kernels skip half, the count does
    not); recurrent layers are matrix products per step, so they follow the sequence length.

* **FLOPs** are ``2 * MACs`` plus the element-wise work, per output element unless stated:
  bias add 1; activations (ReLU, sigmoid, GELU, ...) 1; add/sub/mul/div 1; BatchNorm 2 in eval
  (folded scale and shift), 4 in training (plus mean and variance); LayerNorm, GroupNorm 5 (mean,
  variance, normalise, scale, shift); softmax 3 (exp, sum, divide); average pooling ``kh*kw`` (adds
  and one divide); max pooling ``kh*kw - 1`` comparisons; adaptive pooling, ``mean``, ``sum``,
  ``max``, cumulative sums 1 per *input* element; vector norms 2 per input element (square, add);
  linear/bilinear/trilinear interpolation ``2 * 2^d - 1`` (2^d weighted taps); nearest
  interpolation, concatenation, views, copies, indexing, random numbers and integer or boolean
  logic 0.

* **Backward MACs** (training): a product ``Y = A B`` costs one product of the same size per
  operand that needs a gradient (``dA = dY B^T``, ``dB = A^T dY``): a convolution's input gradient
  is a transposed convolution and its weight gradient a convolution, each with the forward's MACs
  (groups included: ``torch.utils.flop_counter`` counts grouped weight gradients ``g`` times); the
  first layer, whose input needs no gradient, pays only for its weights. Attention's backward
  is four products (``dV``, ``dP``, ``dQ``, ``dK``: twice the forward; flash kernels also
  recompute ``QK^T``, which is not counted). Element-wise backward work is not counted.

An op without a cost rule is never counted as zero silently: the report lists it and marks
itself partial.

``torch.utils.flop_counter`` counts the same products for convolutions, matrix products and
attention (FLOPs = 2 x MACs) and is what the tests compare training MACs with. The rules here are
our own because the trace needs more than it has: element-wise FLOPs, the fused CPU paths it does
not see (``_scaled_dot_product_flash_attention_for_cpu``, oneDNN's LSTM), and grouped weight
gradients counted once rather than ``g`` times.
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


CostRule = Callable[[dict[str, Any], list[torch.Tensor]], Cost]
BackwardRule = Callable[[dict[str, Any], list[torch.Tensor], Cost], int]

NO_COST = Cost()


def _numel(t: Any) -> int:
    return int(t.numel()) if isinstance(t, torch.Tensor) else 0


def _grad(t: Any) -> bool:
    return isinstance(t, torch.Tensor) and t.requires_grad


# -- forward ---------------------------------------------------------------------------------
def free(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
    """Data movement, views, allocation, indexing, random numbers: no arithmetic."""
    return NO_COST


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


def matmul(left: str, bias: str | None = None) -> CostRule:
    """(..., M, K) @ (..., K, N): one multiply-accumulate per output element and k."""

    def cost(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
        k = int(a[left].shape[-1]) if a[left].dim() else 1
        macs = _numel(outs[0]) * k
        adds = _numel(outs[0]) if bias and isinstance(a.get(bias), torch.Tensor) else 0
        return Cost(macs, 2 * macs + adds, adds)

    return cost


def per_output(flops_per_element: int) -> CostRule:
    def cost(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
        return Cost(0, flops_per_element * _numel(outs[0]))

    return cost


def per_input(flops_per_element: int) -> CostRule:
    def cost(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
        x = a.get("self", a.get("input"))
        return Cost(0, flops_per_element * _numel(x))

    return cost


def batch_norm(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
    training = bool(a.get("training", False))
    return Cost(0, (4 if training else 2) * _numel(outs[0]))


def pool(max_pool: bool) -> CostRule:
    def cost(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
        k = a["kernel_size"]
        d = outs[0].dim() - 2 if outs[0].dim() > 2 else 1
        ks = [int(v) for v in k] if not isinstance(k, int) else [k]
        window = math.prod(ks if len(ks) > 1 else ks * d)
        return Cost(0, (window - 1 if max_pool else window) * _numel(outs[0]))

    return cost


def interpolation(d: int) -> CostRule:
    return per_output(2 * 2**d - 1)


def _attention_sizes(a: dict[str, Any]) -> tuple[int, int, int, int, int]:
    q, k, v = a["query"], a["key"], a["value"]
    batch = math.prod(int(s) for s in q.shape[:-2])  # batch x query heads
    return batch, int(q.shape[-2]), int(k.shape[-2]), int(q.shape[-1]), int(v.shape[-1])


def attention(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
    """Fused scaled dot-product attention: ``QK^T`` and ``AV``, softmax 3 FLOPs per score."""
    batch, L, S, E, Ev = _attention_sizes(a)
    macs = batch * L * S * (E + Ev)
    return Cost(macs, 2 * macs + 3 * batch * L * S)


def multi_head_attention(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
    """``nn.MultiheadAttention``'s inference fast path: q, k, v and output projections plus
    attention (``_native_multi_head_attention``)."""
    q, k = a["query"], a["key"]
    e, heads = int(a["embed_dim"]), int(a["num_head"])
    batch = math.prod(int(s) for s in q.shape[:-2])
    L, S = int(q.shape[-2]), int(k.shape[-2])
    macs = batch * ((2 * L + 2 * S) * e * e + 2 * L * S * e)
    biases = batch * (2 * L + 2 * S) * e
    return Cost(macs, 2 * macs + biases + 3 * batch * heads * L * S, biases)


def transformer_encoder_layer(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
    """``nn.TransformerEncoderLayer``'s inference fast path (``_transformer_encoder_layer_fwd``):
    attention as above, a two-layer feed-forward network, two LayerNorms and two residual adds."""
    x = a["src"]
    e, heads, f = int(a["embed_dim"]), int(a["num_heads"]), int(a["ffn_weight_1"].shape[0])
    batch = math.prod(int(s) for s in x.shape[:-2])
    L = int(x.shape[-2])
    tokens = batch * L
    macs = tokens * (4 * e * e + 2 * e * f) + 2 * batch * L * L * e
    biases = tokens * (5 * e + f)
    elementwise = tokens * (2 * 5 * e + f + 2 * e) + 3 * batch * heads * L * L
    return Cost(macs, 2 * macs + biases + elementwise, biases)


def recurrent_layer(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
    """One fused recurrent layer (oneDNN's ``mkldnn_rnn_layer``, the CPU's LSTM): per step and
    sample, the input and hidden products of every gate (``gates * H * (C + H)``), as the
    step-by-step decomposition counts; FLOPs add the two biases and one per gate value."""
    x, w_ih, w_hh = a["input"], a["weight0"], a["weight1"]
    tokens = _numel(x) // int(x.shape[-1])  # steps x batch
    gates = int(w_ih.shape[0])
    macs = tokens * (_numel(w_ih) + _numel(w_hh))
    biases = 2 * tokens * gates if a.get("has_biases") else 0
    return Cost(macs, 2 * macs + biases + tokens * gates, biases)


def affine_grid(a: dict[str, Any], outs: list[torch.Tensor]) -> Cost:
    """Sampling grid ``base @ theta^T``: (d + 1) MACs per output coordinate."""
    theta = a["theta"]
    macs = _numel(outs[0]) * int(theta.shape[-1])
    return Cost(macs, 2 * macs)


# -- backward (MACs only) --------------------------------------------------------------------
def convolution_backward(a: dict[str, Any], outs: list[torch.Tensor], cost: Cost) -> int:
    """Input gradient (a transposed convolution) and weight gradient, each the forward's MACs."""
    return cost.macs * (_grad(a["input"]) + _grad(a["weight"]))


def matmul_backward(left: str, right: str) -> BackwardRule:
    def rule(a: dict[str, Any], outs: list[torch.Tensor], cost: Cost) -> int:
        return cost.macs * (_grad(a[left]) + _grad(a[right]))

    return rule


def attention_backward(a: dict[str, Any], outs: list[torch.Tensor], cost: Cost) -> int:
    """``dV = P^T dO``, ``dP = dO V^T`` (for ``dQ``/``dK``), ``dQ = dS K``, ``dK = dS^T Q``."""
    batch, L, S, E, Ev = _attention_sizes(a)
    q, k, v = _grad(a["query"]), _grad(a["key"]), _grad(a["value"])
    return batch * L * S * (Ev * v + Ev * (q or k) + E * q + E * k)


def recurrent_layer_backward(a: dict[str, Any], outs: list[torch.Tensor], cost: Cost) -> int:
    """Weight gradients, the input's gradient where needed, and the gradient carried back through
    the hidden state at every step but the first (unless the initial state needs one)."""
    x, w_ih, w_hh, h0 = a["input"], a["weight0"], a["weight1"], a["hx_"]
    tokens = _numel(x) // int(x.shape[-1])
    batch = int(h0.shape[-2]) if h0.dim() >= 2 else 1
    if not (_grad(x) or _grad(w_ih) or _grad(w_hh) or _grad(h0)):
        return 0
    carried = tokens - (0 if _grad(h0) else batch)
    return (
        tokens * _numel(w_ih) * (_grad(x) + _grad(w_ih))
        + tokens * _numel(w_hh) * _grad(w_hh)
        + carried * _numel(w_hh)
    )


def affine_grid_backward(a: dict[str, Any], outs: list[torch.Tensor], cost: Cost) -> int:
    return cost.macs if _grad(a["theta"]) else 0
