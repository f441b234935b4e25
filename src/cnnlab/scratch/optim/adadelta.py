"""AdaDelta (Zeiler, 2012): RMSProp whose step size has the units of the parameter."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlab.scratch.optim.optimizer import (
    Optimizer,
    ParamsArg,
)
from cnnlab.scratch.parameter import Parameter


class Adadelta(Optimizer):
    r"""AdaDelta, exactly as ``torch.optim.Adadelta``.

    Math:
        g_t = grad + weight_decay * theta_{t-1}
        E[g^2]_t = rho * E[g^2]_{t-1} + (1 - rho) * g_t^2
        dx_t = sqrt(E[dx^2]_{t-1} + eps) / sqrt(E[g^2]_t + eps) * g_t
        E[dx^2]_t = rho * E[dx^2]_{t-1} + (1 - rho) * dx_t^2
        theta_t = theta_{t-1} - lr * dx_t

    PyTorch versus the paper: the paper has no learning rate (lr = 1, torch's default); torch
    multiplies the step by ``lr``. eps sits *inside* both square roots, and its default (1e-6)
    is large enough to set the size of the first steps (sqrt(eps) = 1e-3).

    Args:
        params: parameters or parameter groups.
        lr: scale of the step (>= 0).
        rho: decay of both running averages, in [0, 1).
        eps: added inside the square roots (> 0).
        weight_decay: L2 penalty (>= 0).

    State (per parameter): ``step``, ``square_avg``, ``acc_delta``.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def _update(
        self, param: Parameter, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param.data)
            state["acc_delta"] = np.zeros_like(param.data)
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1 - rho) * (grad * grad)
        std = np.sqrt(square_avg + eps)
        delta = np.sqrt(acc_delta + eps) / std * grad
        acc_delta *= rho
        acc_delta += (1 - rho) * (delta * delta)
        param.data -= group["lr"] * delta
