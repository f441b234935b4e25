"""Adam (Kingma and Ba, 2015) and its AMSGrad variant (Reddi, Kale and Kumar, 2018)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cnnlab.scratch.optim.optimizer import (
    Optimizer,
    ParamsArg,
    apply_weight_decay,
)
from cnnlab.scratch.parameter import Parameter


class Adam(Optimizer):
    r"""Adam (``amsgrad=True``: AMSGrad; ``decoupled_weight_decay=True``: AdamW), exactly as
    ``torch.optim.Adam``.

    Math (the notes' v_dW = beta1 v_dW + (1 - beta1) dW, S_dW = beta2 S_dW + (1 - beta2) dW^2,
    both bias-corrected, W -= alpha v^corr / (sqrt(S^corr) + eps)):
        g_t = grad + weight_decay * theta_{t-1}     (or theta_{t-1} *= 1 - lr * weight_decay)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
        AMSGrad: vmax_t = max(vmax_{t-1}, v_t), used instead of v_t below
        theta_t = theta_{t-1} - lr / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)

    PyTorch versus the papers:
        - eps is added *after* the bias correction of v (to sqrt(v_t / (1 - beta2^t))), as in
          Kingma and Ba's Algorithm 1; the paper's "efficient" form (its Section 2) puts eps
          before the correction, a slightly different rule.
        - AMSGrad keeps the running max of the *raw* (uncorrected) second moment v_t and then
          bias-corrects the max; Reddi et al.'s Algorithm 2 has no bias correction at all.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (>= 0).
        betas: decays (beta1, beta2) of the two moments, each in [0, 1).
        eps: added to the denominator (> 0).
        weight_decay: L2 penalty (>= 0).
        amsgrad: use the running maximum of the second moment.
        decoupled_weight_decay: shrink the weights directly (AdamW, Loshchilov and Hutter, 2019)
            instead of adding the penalty to the gradient.

    State (per parameter): ``step``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq`` (AMSGrad).
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _update(
        self, param: Parameter, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param.data)
            state["exp_avg_sq"] = np.zeros_like(param.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param.data)
        state["step"] += 1
        step = state["step"]
        lr, (beta1, beta2) = group["lr"], group["betas"]
        grad = apply_weight_decay(param, grad, group)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1 - beta1) * (grad - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * (grad * grad)
        if group["amsgrad"]:
            second = state["max_exp_avg_sq"]
            np.maximum(second, exp_avg_sq, out=second)
        else:
            second = exp_avg_sq
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = math.sqrt(1 - beta2**step)
        denom = np.sqrt(second) / bias_correction2_sqrt + group["eps"]
        param.data -= lr / bias_correction1 * (exp_avg / denom)
