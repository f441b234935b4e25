"""AdaBound and AMSBound (Luo, Xiong, Liu and Sun, ICLR 2019): Adam whose per-coordinate step is
clipped into bounds that tighten towards SGD's learning rate."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cnnlab.core.optimizers import check_base_lr
from cnnlab.scratch.optim.optimizer import (
    Optimizer,
    ParamsArg,
    apply_weight_decay,
)
from cnnlab.scratch.parameter import Parameter


class AdaBound(Optimizer):
    r"""AdaBound (``amsbound=True``: AMSBound), exactly as the authors' ``adabound`` package.

    Math:
        g_t = grad + weight_decay * theta_{t-1}     (or theta_{t-1} *= 1 - lr * weight_decay)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2      (AMSBound: vmax_t = max(vmax_{t-1}, v_t))
        eta_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t) / (sqrt(v_t) + eps)
        final_t = final_lr * lr / base_lr                (final_lr follows the scheduled lr)
        lower_t = final_t * (1 - 1 / (gamma * t + 1)),   upper_t = final_t * (1 + 1 / (gamma * t))
        theta_t = theta_{t-1} - clip(eta_t, lower_t, upper_t) * m_t

    Early on the bounds are (0, inf) and AdaBound is Adam; as t grows both approach
    ``final_lr`` and it becomes SGD with momentum. ``base_lr`` is the group's lr when the group
    was added (stored in the group, so changing ``group["lr"]`` scales ``final_lr`` too).

    Reference quirks kept: eps sits outside the square root and *before* the bias correction of
    v (unlike torch's Adam), and AMSBound takes the max of the raw v_t.

    Args:
        params: parameters or parameter groups.
        lr: Adam learning rate (>= 0).
        betas: (beta1, beta2), each in [0, 1).
        final_lr: the SGD learning rate the bounds converge to (>= 0).
        gamma: convergence speed of the bounds, in [0, 1).
        eps: added to the denominator (> 0).
        weight_decay: L2 penalty (>= 0).
        amsbound: use the running max of the second moment (AMSBound).
        decoupled_weight_decay: AdamW-style decay, theta *= 1 - lr * weight_decay (AdaBoundW).

    State (per parameter): ``step``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq`` (AMSBound).
    """

    _extra_group_keys = ("base_lr",)

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        final_lr: float = 0.1,
        gamma: float = 1e-3,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsbound: bool = False,
        *,
        decoupled_weight_decay: bool = False,
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
        }
        super().__init__(params, defaults)

    def _init_group(self, group: dict[str, Any]) -> None:
        group.setdefault("base_lr", group["lr"])
        check_base_lr(group["base_lr"])

    def _update(
        self, param: Parameter, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param.data)
            state["exp_avg_sq"] = np.zeros_like(param.data)
            if group["amsbound"]:
                state["max_exp_avg_sq"] = np.zeros_like(param.data)
        state["step"] += 1
        step = state["step"]
        lr, (beta1, beta2) = group["lr"], group["betas"]
        grad = apply_weight_decay(param, grad, group)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg *= beta1
        exp_avg += (1 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * (grad * grad)
        if group["amsbound"]:
            second = state["max_exp_avg_sq"]
            np.maximum(second, exp_avg_sq, out=second)
        else:
            second = exp_avg_sq
        denom = np.sqrt(second) + group["eps"]
        step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
        final_lr = group["final_lr"] * lr / group["base_lr"]
        lower = final_lr * (1 - 1 / (group["gamma"] * step + 1))
        upper = final_lr * (1 + 1 / (group["gamma"] * step))
        eta = np.clip(step_size / denom, lower, upper)
        param.data -= eta * exp_avg
