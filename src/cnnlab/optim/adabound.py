"""AdaBound and AMSBound for PyTorch (Luo, Xiong, Liu and Sun, ICLR 2019), resumable and fast.

The maths is the authors' reference package's (``adabound`` 0.0.5), including how ``final_lr``
follows a scheduled lr; unlike the reference, the base lr lives in each parameter group, so
``state_dict()`` resume and ``add_param_group`` work.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


@dataclass(frozen=True)
class _Bounds:
    """The per-step scalars: the Adam step size and the clip range of the denominator."""

    step_size: float  # lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    min_denom: float  # step_size / upper bound
    max_denom: float  # step_size / lower bound (inf while the lower bound is 0)


def _bounds(group: dict[str, Any], step: int) -> _Bounds:
    lr, (beta1, beta2) = group["lr"], group["betas"]
    step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
    final_lr = group["final_lr"] * lr / group["base_lr"]
    lower = final_lr * (1 - 1 / (group["gamma"] * step + 1))
    upper = final_lr * (1 + 1 / (group["gamma"] * step))
    return _Bounds(
        step_size=step_size,
        min_denom=step_size / upper if upper > 0 else math.inf,
        max_denom=step_size / lower if lower > 0 else math.inf,
    )


# Elements per piece of the CPU path: a piece's five tensors (theta, g, m, v, scratch) stay in
# the cache between the moment update and the bounded step.
_CHUNK = 1 << 20

_FUSED_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _can_fuse(p: Tensor) -> bool:
    return (
        hasattr(torch, "_fused_adam_")
        and p.device.type in ("cpu", "cuda")
        and p.dtype in _FUSED_DTYPES
    )


def _check_hyperparameters(group: dict[str, Any]) -> None:
    lr, eps, final_lr, gamma, wd = (
        group[k] for k in ("lr", "eps", "final_lr", "gamma", "weight_decay")
    )
    if isinstance(lr, Tensor) or not lr >= 0:
        raise ValueError(f"lr must be a float >= 0, got {lr!r}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    try:
        beta1, beta2 = group["betas"]
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {group['betas']!r}") from None
    for i, beta in enumerate((beta1, beta2)):
        if not 0 <= beta < 1:
            raise ValueError(f"betas[{i}] must be in [0, 1), got {beta!r}")
    if not final_lr >= 0:
        raise ValueError(f"final_lr must be >= 0, got {final_lr!r}")
    if not 0 < gamma < 1:
        raise ValueError(f"gamma must be in (0, 1), got {gamma!r}")
    if not wd >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {wd!r}")
    if not group["base_lr"] > 0:
        raise ValueError(
            f"base_lr must be > 0 (final_lr is scaled by lr / base_lr), got {group['base_lr']!r}; "
            "a group created with lr=0 needs an explicit base_lr"
        )


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

    Speed: a step reads and writes each parameter-sized tensor far fewer times than the
    reference (which makes 13 passes and 4 allocations per parameter) and allocates nothing
    parameter-sized. The moments are updated in one pass by torch's fused Adam kernel called
    with lr = 0 (``fused``, the default where torch has it; otherwise three multi-tensor
    passes); the bounded step is then theta -= s * m / clip(sqrt(v) + eps, s / upper,
    s / lower), i.e. clip(eta, lower, upper) * m with the clip moved to the denominator, in
    three in-place passes through a small shared scratch buffer (kept on the optimizer, not in
    ``state_dict``). Large tensors go through in pieces of 2^20 elements so that the second
    half finds its operands in the cache. With ``foreach`` (the default on CUDA) the bounded
    step runs as ``torch._foreach_*`` kernels over all parameters of a device and dtype.

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
        foreach: use the multi-tensor kernels; ``None`` picks them when every parameter is on
            CUDA.
        fused: update the moments with torch's fused Adam kernel; ``None`` picks it when
            torch has it for every parameter's device and dtype.

    Shape:
        Parameters of any shape; ``state[p]`` holds ``step`` (int), ``exp_avg``,
        ``exp_avg_sq`` and, for AMSBound, ``max_exp_avg_sq``, each shaped like ``p`` (the
        reference's names, so its state dicts load).

    Raises:
        ValueError: a hyperparameter out of range, a sparse or complex gradient.
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
        self._workspace: dict[tuple[torch.device, torch.dtype], Tensor] = {}
        self._ones: dict[torch.device, Tensor] = {}
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group; its ``base_lr`` is its lr now unless the dict gives one."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        group.setdefault("base_lr", group["lr"])
        try:
            _check_hyperparameters(group)
        except ValueError:
            self.param_groups.pop()
            raise

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._workspace = {}
        self._ones = {}
        for group in self.param_groups:
            group.setdefault("amsbound", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("foreach", None)
            group.setdefault("fused", None)
            group.setdefault("base_lr", group["lr"])

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state dict (ours, or the reference package's: its groups lack ``base_lr``,
        for which the saved lr is used, ``foreach`` and ``fused``)."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group.setdefault("base_lr", group["lr"])
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("foreach", None)
            group.setdefault("fused", None)
            _check_hyperparameters(group)

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
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            for p in params:
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
                    state["max_exp_avg_sq"] = torch.zeros_like(
                        p, memory_format=torch.preserve_format
                    )
                state["step"] += 1
            foreach = group["foreach"]
            if foreach is None:
                foreach = all(p.device.type == "cuda" for p in params)
            if foreach:
                self._foreach_update(group, params)
            else:
                for p in params:
                    self._single_update(group, p)
        return loss

    # ------------------------------------------------------------------ the kernels
    def _moments(
        self,
        group: dict[str, Any],
        ps: list[Tensor],
        grads: list[Tensor],
        exp_avgs: list[Tensor],
        exp_avg_sqs: list[Tensor],
        maxes: list[Tensor],
    ) -> list[Tensor]:
        """Update m and v (and the max of v) in place; return the second moments to use.

        With ``fused`` this is one pass of torch's fused Adam kernel called with lr = 0: it
        applies the L2 term and updates both moments (and AMSGrad's max) and leaves theta
        unchanged (theta - 0 * finite = theta exactly). Otherwise three multi-tensor passes.
        """
        beta1, beta2 = group["betas"]
        wd = 0.0 if group["decoupled_weight_decay"] else group["weight_decay"]
        fused = group["fused"]
        if fused is None:
            fused = all(_can_fuse(p) for p in ps)
        if fused:
            device = ps[0].device
            one = self._ones.get(device)
            if one is None:
                one = self._ones[device] = torch.ones((), device=device)
            torch._fused_adam_(
                ps,
                grads,
                exp_avgs,
                exp_avg_sqs,
                maxes,
                [one] * len(ps),
                amsgrad=bool(maxes),
                lr=0.0,
                beta1=beta1,
                beta2=beta2,
                weight_decay=wd,
                eps=1.0,
                maximize=False,
            )
        else:
            if wd != 0:
                grads = torch._foreach_add(grads, ps, alpha=wd)
            torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
            torch._foreach_mul_(exp_avg_sqs, beta2)
            torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
            if maxes:
                torch._foreach_maximum_(maxes, exp_avg_sqs)
        return maxes or exp_avg_sqs

    def _scratch(self, like: Tensor) -> Tensor:
        """A buffer shaped like ``like``: a view of the shared chunk buffer when it fits."""
        if not like.is_contiguous() or like.numel() > _CHUNK:
            return torch.empty_like(like)
        key = (like.device, like.dtype)
        buf = self._workspace.get(key)
        if buf is None or buf.numel() < like.numel():
            buf = self._workspace[key] = torch.empty(
                min(_CHUNK, max(like.numel(), 4096)), dtype=like.dtype, device=like.device
            )
        return buf[: like.numel()].view(like.shape)

    def _single_update(self, group: dict[str, Any], p: Tensor) -> None:
        """One parameter in place, in chunks of at most ``_CHUNK`` elements.

        Each chunk's moments, then its bounded step, run while the chunk is still in the cache:
        theta -= clip(s / (sqrt(v) + eps), lower, upper) * m is computed as
        theta -= s * m / clip(sqrt(v) + eps, s / upper, s / lower) through the shared scratch
        buffer, so nothing parameter-sized is allocated.
        """
        state = self.state[p]
        lr, wd = group["lr"], group["weight_decay"]
        if wd != 0 and group["decoupled_weight_decay"]:
            p.mul_(1 - lr * wd)
        bounds = _bounds(group, state["step"]) if lr != 0 else None
        tensors = [p, p.grad, state["exp_avg"], state["exp_avg_sq"]]
        if group["amsbound"]:
            tensors.append(state["max_exp_avg_sq"])
        n = p.numel()
        if n > _CHUNK and all(t.is_contiguous() for t in tensors):
            flat = [t.view(-1) for t in tensors]
            pieces = [[t[i : i + _CHUNK] for t in flat] for i in range(0, n, _CHUNK)]
        else:
            pieces = [tensors]
        for param, grad, exp_avg, exp_avg_sq, *maxes in pieces:
            (second,) = self._moments(group, [param], [grad], [exp_avg], [exp_avg_sq], maxes)
            if bounds is None:  # lr = 0: the clip range is [0, 0]; theta does not move
                continue
            w = torch.sqrt(second, out=self._scratch(second))
            w.add_(group["eps"]).clamp_(bounds.min_denom, bounds.max_denom)
            param.addcdiv_(exp_avg, w, value=-bounds.step_size)

    def _foreach_update(self, group: dict[str, Any], params: list[Tensor]) -> None:
        """All parameters of the group, per (device, dtype), with multi-tensor kernels."""
        lr, wd = group["lr"], group["weight_decay"]
        by_kind: dict[tuple[torch.device, torch.dtype], list[Tensor]] = {}
        for p in params:
            by_kind.setdefault((p.device, p.dtype), []).append(p)
        for ps in by_kind.values():
            states = [self.state[p] for p in ps]
            if wd != 0 and group["decoupled_weight_decay"]:
                torch._foreach_mul_(ps, 1 - lr * wd)
            exp_avgs = [st["exp_avg"] for st in states]
            second = self._moments(
                group,
                ps,
                [p.grad for p in ps],
                exp_avgs,
                [st["exp_avg_sq"] for st in states],
                [st["max_exp_avg_sq"] for st in states] if group["amsbound"] else [],
            )
            if lr == 0:
                continue
            cache: dict[int, _Bounds] = {}
            bounds = [cache.setdefault(st["step"], _bounds(group, st["step"])) for st in states]
            w = torch._foreach_sqrt(second)
            torch._foreach_add_(w, group["eps"])
            torch._foreach_clamp_min_(w, [b.min_denom for b in bounds])
            torch._foreach_clamp_max_(w, [b.max_denom for b in bounds])
            torch._foreach_addcdiv_(ps, exp_avgs, w, [-b.step_size for b in bounds])
