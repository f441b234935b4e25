"""AdaBound and AMSBound for PyTorch (Luo, Xiong, Liu and Sun, ICLR 2019), resumable and fast.

The maths is the authors' reference package's (``adabound`` 0.0.5), including how ``final_lr``
follows a scheduled lr; unlike the reference, the base lr lives in each parameter group, so
``state_dict()`` resume and ``add_param_group`` work. Public torch only: the eager kernels are
the ``torch._foreach_*`` ops torch.optim itself uses, and the fast path on CPU is one kernel per
tensor made by ``torch.compile``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import torch
from torch import Tensor

from cnnlab.core.optimizers import check_base_lr, check_hyperparameters

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]

logger = logging.getLogger(__name__)

# Tensors with at least this many elements go through the compiled kernel (one call each);
# smaller ones cost less through the multi-tensor eager ops than a call costs.
_FUSED_MIN = 1 << 16
# fused=None compiles on CPU once a group's large tensors hold this many elements: below it the
# compile time (seconds) would not be paid back within a short run.
_AUTO_FUSED_MIN = 1 << 22
# Elements per batch of the eager path on CPU: a batch's temporaries stay in the cache between
# the moment update and the bounded step.
_CHUNK = 1 << 18
_FUSED_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


class _Bounds(NamedTuple):
    """The per-step scalars of one parameter group at one step count."""

    step_size: float  # lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    lower: float  # final_lr * (1 - 1 / (gamma t + 1))
    upper: float  # final_lr * (1 + 1 / (gamma t))


def _bounds(group: dict[str, Any], step: int) -> _Bounds:
    lr, (beta1, beta2) = group["lr"], group["betas"]
    final_lr = group["final_lr"] * lr / group["base_lr"]
    return _Bounds(
        step_size=lr * math.sqrt(1 - beta2**step) / (1 - beta1**step),
        lower=final_lr * (1 - 1 / (group["gamma"] * step + 1)),
        upper=final_lr * (1 + 1 / (group["gamma"] * step)),
    )


class _Item(NamedTuple):
    """One parameter (or a piece of one) with its gradient, state and bounds."""

    param: Tensor
    grad: Tensor
    exp_avg: Tensor
    exp_avg_sq: Tensor
    max_exp_avg_sq: Tensor | None
    bounds: _Bounds

    def tensors(self) -> list[Tensor]:
        return [t for t in self[:5] if t is not None]


class AdaBound(torch.optim.Optimizer):
    r"""AdaBound (``amsbound=True``: AMSBound; ``decoupled_weight_decay=True``: AdaBoundW).

    Math (per coordinate, t = this parameter's step count):
        g_t = grad + weight_decay * theta_{t-1}   (AdaBoundW: theta_{t-1} *= 1 - lr * weight_decay)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2      (AMSBound: vmax_t = max(vmax_{t-1}, v_t))
        eta_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t) / (sqrt(v_t) + eps)
        final = final_lr * lr / base_lr
        eta_t <- clip(eta_t, final * (1 - 1 / (gamma t + 1)), final * (1 + 1 / (gamma t)))
        theta_t = theta_{t-1} - eta_t * m_t

    ``base_lr`` is stored in each parameter group (the group's lr when it was added; pass it in
    the group dict to override), so a scheduler that lowers ``lr`` lowers ``final_lr`` in
    proportion, as in the reference, and ``load_state_dict`` restores it.

    Speed: a step must read theta, g, m, v and write theta, m, v (seven parameter-sized
    streams; the reference makes 13 passes and 4 allocations per parameter). With ``fused``
    each large tensor is updated by one kernel that ``torch.compile`` makes from
    :func:`_fused_step`, which streams exactly those seven. The eager path (``fused=False``, or
    when compiling fails: logged, never raised) runs the multi-tensor ``torch._foreach_*`` ops;
    on CPU over batches of at most 2^18 elements, so that its temporaries stay in the cache.

    Args:
        params: parameters or parameter groups.
        lr: Adam learning rate (>= 0).
        betas: (beta1, beta2), each in [0, 1).
        final_lr: the SGD learning rate the bounds converge to (>= 0).
        gamma: convergence speed of the bounds, in (0, 1).
        eps: added to the denominator (> 0).
        weight_decay: L2 penalty, or decoupled decay factor (>= 0).
        amsbound: use the running max of the second moment (AMSBound).
        decoupled_weight_decay: AdamW-style decay, theta *= 1 - lr * weight_decay, instead of
            the L2 term in the gradient. (The authors' separate AdaBoundW class subtracts
            weight_decay * theta without the lr factor; this follows torch's AdamW.)
        foreach: eager path only: update many tensors per kernel (``None``/``True``) or one
            tensor (piece) at a time (``False``).
        fused: update each tensor of at least 2^16 elements on CPU or CUDA in one compiled
            kernel; ``None`` does so on CPU when the group's large tensors hold at least 2^22
            elements (where the one-off compile time pays back).

    Shape:
        Parameters of any shape; ``state[p]`` holds ``step`` (int), ``exp_avg``,
        ``exp_avg_sq`` and, for AMSBound, ``max_exp_avg_sq``, each shaped like ``p`` (the
        reference's names, so its state dicts load).

    Raises:
        ValueError: a hyperparameter out of range or not finite (naming it), a sparse or
            complex gradient.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        final_lr: float = 0.1,
        gamma: float = 1e-3,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsbound: bool = False,
        *,
        decoupled_weight_decay: bool = False,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "final_lr": final_lr,
            "gamma": gamma,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsbound": amsbound,
            "decoupled_weight_decay": decoupled_weight_decay,
            "foreach": foreach,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group; its ``base_lr`` is its lr now unless the dict gives one."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        group.setdefault("base_lr", group["lr"])
        try:
            _check_group(group)
        except ValueError:
            self.param_groups.pop()
            raise

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state dict (ours, or the reference package's: its groups lack ``base_lr``,
        for which the saved lr is used, ``foreach`` and ``fused``)."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group.setdefault("base_lr", group["lr"])
            group.setdefault("amsbound", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("foreach", None)
            group.setdefault("fused", None)
            _check_group(group)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """Perform one update of every parameter that has a gradient.

        Args:
            closure: re-evaluates the model and returns the loss (optional).
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            items = self._prepare(group)
            if not items:
                continue
            fused = [it for it in items if _wants_fused(group, it)]
            if group["fused"] is None and (
                sum(it.param.numel() for it in fused) < _AUTO_FUSED_MIN
                or any(it.param.device.type != "cpu" for it in fused)
            ):
                fused = []
            done = _run_fused(group, fused, explicit=group["fused"] is True)
            _eager_step(group, [it for it in items if id(it.param) not in done])
        return loss

    def _prepare(self, group: dict[str, Any]) -> list[_Item]:
        """Check the gradients, create the state, count the step; one item per parameter."""
        items, cache = [], {}
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise ValueError("AdaBound does not support sparse gradients")
            if torch.is_complex(p):
                raise ValueError("AdaBound does not support complex parameters")
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            if group["amsbound"] and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["step"] += 1
            step = state["step"]
            if step not in cache:  # one set of bounds per distinct step count
                cache[step] = _bounds(group, step)
            vmax = state["max_exp_avg_sq"] if group["amsbound"] else None
            items.append(_Item(p, p.grad, state["exp_avg"], state["exp_avg_sq"], vmax, cache[step]))
        return items


def _check_group(group: dict[str, Any]) -> None:
    """The shared ranges (finite lr, eps > 0, gamma in (0, 1)...) and a usable base lr."""
    names = ("lr", "betas", "final_lr", "gamma", "eps", "weight_decay")
    check_hyperparameters({k: group[k] for k in names})
    check_base_lr(group["base_lr"])


# ---------------------------------------------------------------------- the eager kernels
def _pieces(item: _Item, limit: int) -> list[_Item]:
    """``item`` cut into contiguous pieces of at most ``limit`` elements (views)."""
    tensors = item.tensors()
    n = item.param.numel()
    if n <= limit or not all(t.is_contiguous() for t in tensors):
        return [item]
    flat = [t.view(-1) for t in tensors]
    out = []
    for i in range(0, n, limit):
        views = [f[i : i + limit] for f in flat]
        vmax = views[4] if item.max_exp_avg_sq is not None else None
        out.append(_Item(*views[:4], vmax, item.bounds))
    return out


def _batches(items: list[_Item], limit: int | None, one_each: bool) -> Iterator[list[_Item]]:
    """Group the items (cut into pieces when ``limit`` is set) into batches of at most
    ``limit`` elements, or of one piece each."""
    if limit is None:
        yield from ([it] for it in items) if one_each else [items]
        return
    batch: list[_Item] = []
    size = 0
    for item in items:
        for piece in _pieces(item, limit):
            n = piece.param.numel()
            if batch and (one_each or size + n > limit):
                yield batch
                batch, size = [], 0
            batch.append(piece)
            size += n
    if batch:
        yield batch


def _eager_step(group: dict[str, Any], items: list[_Item]) -> None:
    """The update with ``torch._foreach_*`` ops, the clip moved to the denominator:
    theta -= s * m / clip(sqrt(v) + eps, s / upper, s / lower) = clip(eta, lower, upper) * m."""
    if not items:
        return
    beta1, beta2 = group["betas"]
    lr, wd, decoupled = group["lr"], group["weight_decay"], group["decoupled_weight_decay"]
    on_cpu = all(it.param.device.type == "cpu" for it in items)
    for batch in _batches(items, _CHUNK if on_cpu else None, group["foreach"] is False):
        params = [it.param for it in batch]
        grads = [it.grad for it in batch]
        exp_avgs = [it.exp_avg for it in batch]
        exp_avg_sqs = [it.exp_avg_sq for it in batch]
        if wd != 0 and decoupled:
            torch._foreach_mul_(params, 1 - lr * wd)
        elif wd != 0:
            grads = torch._foreach_add(grads, params, alpha=wd)
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
        second = exp_avg_sqs
        if group["amsbound"]:
            second = [it.max_exp_avg_sq for it in batch]
            torch._foreach_maximum_(second, exp_avg_sqs)
        if lr == 0:  # the clip range is [0, 0]: theta does not move
            continue
        bounds = [it.bounds for it in batch]
        denom = torch._foreach_sqrt(second)
        torch._foreach_add_(denom, group["eps"])
        torch._foreach_clamp_min_(denom, [_ratio(b.step_size, b.upper) for b in bounds])
        torch._foreach_clamp_max_(denom, [_ratio(b.step_size, b.lower) for b in bounds])
        torch._foreach_addcdiv_(params, exp_avgs, denom, [-b.step_size for b in bounds])


def _ratio(step_size: float, bound: float) -> float:
    """The denominator that gives the step ``bound``: inf when the bound is 0."""
    return step_size / bound if bound > 0 else math.inf


# ---------------------------------------------------------------------- the fused kernel
def _fused_step(
    param: Tensor,
    grad: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    max_exp_avg_sq: Tensor | None,
    scalars: Tensor,
) -> None:
    """One 1-D tensor in one pass, exactly the reference's arithmetic; ``scalars`` holds
    (beta1, 1 - beta1, beta2, 1 - beta2, eps, l2, shrink, step_size, lower, upper) as a tensor,
    so that a new lr or step does not recompile."""
    beta1, one_m_beta1, beta2, one_m_beta2, eps, l2, shrink, step_size, lower, upper = (
        scalars.unbind()
    )
    grad = grad + l2 * param
    exp_avg.mul_(beta1).add_(one_m_beta1 * grad)
    exp_avg_sq.mul_(beta2).add_(one_m_beta2 * grad * grad)
    second = exp_avg_sq
    if max_exp_avg_sq is not None:
        max_exp_avg_sq.copy_(torch.maximum(max_exp_avg_sq, exp_avg_sq))
        second = max_exp_avg_sq
    eta = torch.clamp(step_size / (second.sqrt() + eps), lower, upper)
    param.mul_(shrink).sub_(eta * exp_avg)


_compiled: Callable[..., None] | None = None
_compile_failed = False


def _wants_fused(group: dict[str, Any], item: _Item) -> bool:
    p = item.param
    return (
        group["fused"] is not False
        and not _compile_failed
        and p.numel() >= _FUSED_MIN
        and p.device.type in ("cpu", "cuda")
        and p.dtype in _FUSED_DTYPES
        and _flat(p) is not None
        and all(t.shape == p.shape and t.stride() == p.stride() for t in item.tensors())
    )


def _flat(t: Tensor) -> Tensor | None:
    """A 1-D view of a contiguous or channels-last tensor (the state has ``p``'s layout)."""
    if t.is_contiguous():
        return t.view(-1)
    if t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last):
        return t.permute(0, 2, 3, 1).view(-1)
    return None


def _run_fused(group: dict[str, Any], items: list[_Item], explicit: bool) -> set[int]:
    """Update ``items`` with the compiled kernel; return the ids of the parameters done.

    A failure to compile (no C++ compiler, an unsupported platform) is logged once, and every
    later step runs the eager kernels.
    """
    global _compiled, _compile_failed
    if not items:
        return set()
    beta1, beta2 = group["betas"]
    decoupled = group["decoupled_weight_decay"]
    l2 = 0.0 if decoupled else group["weight_decay"]
    shrink = 1 - group["lr"] * group["weight_decay"] if decoupled else 1.0
    scalars: dict[tuple[_Bounds, torch.device, torch.dtype], Tensor] = {}
    done: set[int] = set()
    for item in items:
        p = item.param
        dtype = p.dtype if p.dtype == torch.float64 else torch.float32
        key = (item.bounds, p.device, dtype)
        if key not in scalars:
            b = item.bounds
            values = [beta1, 1 - beta1, beta2, 1 - beta2, group["eps"], l2, shrink, *b]
            scalars[key] = torch.tensor(values, dtype=dtype).to(p.device, non_blocking=True)
        try:
            if _compiled is None:
                _compiled = torch.compile(_fused_step, dynamic=True)
            flat = [_flat(t) for t in item.tensors()]
            vmax = flat[4] if item.max_exp_avg_sq is not None else None
            _compiled(*flat[:4], vmax, scalars[key])
        except Exception as err:  # any compiler failure means: use the eager path
            _compile_failed = True
            log = logger.warning if explicit else logger.info
            log(
                "AdaBound: compiling the fused step failed (%s: %s); using the eager kernels",
                type(err).__name__,
                err,
            )
            return done
        done.add(id(p))
    return done
