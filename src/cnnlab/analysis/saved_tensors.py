"""What autograd keeps for the backward during a traced training forward.

The trace records saved tensors with ``torch.autograd.graph.saved_tensors_hooks``, the hooks a
real training step goes through: each storage counts once (views of one tensor share it), and
parameters' storages not at all (they are counted as weights). Scaled dot-product attention
counts what fused kernels keep, the query, key, value, output and the row log-sum-exp (linear in
the sequence length, as torch's CPU and CUDA kernels save), not the attention matrices the meta
device's decomposition would keep; its output is laid out like the query, as the CPU kernel
returns it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch.autograd.graph import saved_tensors_hooks
from torch.nn.parameter import UninitializedParameter

from cnnlab.analysis.rows import Row


class SavedTensors:
    """Bytes saved for the backward, added to the row that ``row()`` names when they are saved.

    Args:
        params: the traced model's parameters (their storages are not activations).
        row: the row being executed.
    """

    def __init__(self, params: Iterable[torch.Tensor], row: Callable[[], Row]) -> None:
        self._params = list(params)
        self._row = row
        self._lazy = False
        self._param_storages = self._parameter_storages()
        self.storages: dict[int, Any] = {}
        self.attention = 0  # inside a scaled dot-product attention

    def _parameter_storages(self) -> dict[int, Any]:
        out = {}
        for p in self._params:
            if isinstance(p, UninitializedParameter):
                self._lazy = True  # materialised during the forward: look again later
                continue
            s = p.untyped_storage()
            out[id(s)] = s
        return out

    def pack(self, t: torch.Tensor) -> torch.Tensor:
        """The pack hook: count the tensor's storage (not inside attention: see above)."""
        if not self.attention:
            self.save(t)
        return t

    def save(self, t: Any) -> None:
        if not isinstance(t, torch.Tensor):
            return
        try:
            storage = t.untyped_storage()
        except (RuntimeError, NotImplementedError, TypeError):
            return
        key = id(storage)
        if self._lazy and key not in self.storages and key not in self._param_storages:
            self._param_storages = self._parameter_storages()
        if key in self.storages or key in self._param_storages:
            return
        self.storages[key] = storage  # held, so that its id is not reused
        self._row().saved_bytes += storage.nbytes()

    def fused_attention(self, attention: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        """Run ``attention(*args, **kwargs)`` (scaled dot-product attention), keeping what a
        fused kernel saves in place of what its decomposition saves."""
        if self.attention:
            return attention(*args, **kwargs)
        self.attention += 1
        try:
            out = attention(*args, **kwargs)
            out = _laid_out_like(out, args[0] if args else kwargs.get("query"))
        finally:
            self.attention -= 1
        if torch.is_grad_enabled():
            self._save_attention(args, kwargs, out)
        return out

    def _save_attention(self, args: tuple, kwargs: dict[str, Any], out: Any) -> None:
        names = ("query", "key", "value", "attn_mask")
        given = {**dict(zip(names, args, strict=False)), **kwargs}
        q, k, v = given.get("query"), given.get("key"), given.get("value")
        if not any(isinstance(x, torch.Tensor) and x.requires_grad for x in (q, k, v)):
            return
        for t in (q, k, v, out, given.get("attn_mask")):
            self.save(t)
        if isinstance(q, torch.Tensor):  # log-sum-exp per query row, float32
            self._row().saved_bytes += 4 * math.prod(q.shape[:-1])

    @contextmanager
    def recording(self) -> Iterator[None]:
        """The pack hook on, and ``F.scaled_dot_product_attention`` routed through
        :meth:`fused_attention` (attention called inside another torch function, such as the
        ``F.multi_head_attention_forward`` of ``nn.MultiheadAttention``, is invisible to the
        trace's function mode); both undone on exit."""
        original = F.scaled_dot_product_attention
        thread = threading.get_ident()

        def attention(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != thread:
                return original(*args, **kwargs)
            return self.fused_attention(original, args, kwargs)

        with ExitStack() as stack:
            stack.enter_context(saved_tensors_hooks(self.pack, _unpack))
            F.scaled_dot_product_attention = attention
            stack.callback(setattr, F, "scaled_dot_product_attention", original)
            yield


def _unpack(t: torch.Tensor) -> torch.Tensor:
    return t


def _laid_out_like(out: Any, query: Any) -> Any:
    """The meta device's attention output laid out in memory like the query, as torch's fused
    CPU kernel returns it (``nn.MultiheadAttention`` then reads it back without a copy)."""
    if not (isinstance(out, torch.Tensor) and isinstance(query, torch.Tensor)):
        return out
    if not out.is_meta or out.dim() != query.dim():
        return out
    order = sorted(range(query.dim()), key=lambda d: (-query.stride(d), d))
    if order == list(range(query.dim())):
        return out
    moved = out.permute(order)
    laid_out = torch.empty(moved.shape, dtype=out.dtype, device="meta")
    laid_out.copy_(moved)
    return laid_out.permute([order.index(d) for d in range(query.dim())])
