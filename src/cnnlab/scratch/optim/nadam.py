"""NAdam (Dozat, 2016): Adam with Nesterov momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlab.scratch.optim.optimizer import (
    Optimizer,
    ParamsArg,
    apply_weight_decay,
)
from cnnlab.scratch.parameter import Parameter


class NAdam(Optimizer):
    r"""NAdam, exactly as ``torch.optim.NAdam``.

    Math:
        g_t = grad + weight_decay * theta_{t-1}     (or theta_{t-1} *= 1 - lr * weight_decay)
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))         (the momentum schedule)
        P_t = mu_1 * mu_2 * ... * mu_t                               (``mu_product``)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
        d_t = sqrt(v_t / (1 - beta2^t)) + eps
        theta_t = theta_{t-1} - lr * (1 - mu_t) / (1 - P_t) * g_t / d_t
                              - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m_t / d_t

    PyTorch versus the textbook: the momentum coefficient is not the constant beta1 but Dozat's
    warming-up schedule mu_t (0.96^(t/250) with the default momentum_decay = 4e-3), which starts
    near beta1 / 2 and approaches beta1 only after thousands of steps; the bias correction uses
    the running product of the mu's. ``m_t`` itself is still averaged with the plain beta1.
    The textbook NAdam (mu_t = beta1) is *not* what torch runs.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (>= 0; default 2e-3).
        betas: (beta1, beta2), each in [0, 1).
        eps: added to the denominator (> 0).
        weight_decay: L2 penalty (>= 0).
        momentum_decay: psi of the momentum schedule (>= 0).
        decoupled_weight_decay: AdamW-style decay (NAdamW).

    State (per parameter): ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _update(
        self, param: Parameter, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = np.zeros_like(param.data)
            state["exp_avg_sq"] = np.zeros_like(param.data)
        state["step"] += 1
        step = state["step"]
        lr, (beta1, beta2) = group["lr"], group["betas"]
        psi = group["momentum_decay"]
        grad = apply_weight_decay(param, grad, group)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1 - beta1) * (grad - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * (grad * grad)
        denom = np.sqrt(exp_avg_sq / (1 - beta2**step)) + group["eps"]
        param.data -= lr * (1 - mu) / (1 - mu_product) * (grad / denom)
        param.data -= lr * mu_next / (1 - mu_product * mu_next) * (exp_avg / denom)
