"""Adamax (Kingma and Ba, 2015, Section 7.1): Adam with the infinity norm."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlab.scratch.optim.optimizer import (
    Optimizer,
    ParamsArg,
)
from cnnlab.scratch.parameter import Parameter


class Adamax(Optimizer):
    r"""Adamax, exactly as ``torch.optim.Adamax``.

    Math:
        g_t = grad + weight_decay * theta_{t-1}
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        u_t = max(beta2 * u_{t-1}, |g_t| + eps)
        theta_t = theta_{t-1} - lr / (1 - beta1^t) * m_t / u_t

    PyTorch versus the paper: eps is added to |g_t| *inside* the max (the paper has no eps;
    u_t > 0 whenever a gradient was ever non-zero). The infinity norm needs no bias correction.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (>= 0; default 2e-3 as in the paper).
        betas: (beta1, beta2), each in [0, 1).
        eps: floor of |g_t| in the max (> 0).
        weight_decay: L2 penalty (>= 0).

    State (per parameter): ``step``, ``exp_avg``, ``exp_inf``.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def _update(
        self, param: Parameter, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param.data)
            state["exp_inf"] = np.zeros_like(param.data)
        state["step"] += 1
        (beta1, beta2), eps = group["betas"], group["eps"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg += (1 - beta1) * (grad - exp_avg)
        exp_inf *= beta2
        np.maximum(exp_inf, np.abs(grad) + eps, out=exp_inf)
        clr = group["lr"] / (1 - beta1 ** state["step"])
        param.data -= clr * (exp_avg / exp_inf)
