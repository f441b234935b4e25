"""RMSProp (Hinton, Coursera lecture 6e, 2012): divide by a running root mean square."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlab.scratch.optim.optimizer import (
    Optimizer,
    ParamsArg,
)
from cnnlab.scratch.parameter import Parameter


class RMSprop(Optimizer):
    r"""RMSProp, optionally centred and with momentum, exactly as ``torch.optim.RMSprop``.

    Math (the notes' S_dW = beta * S_dW + (1 - beta) dW^2, W = W - alpha dW / sqrt(S_dW): no eps):
        g_t = grad + weight_decay * theta_{t-1}
        v_t = alpha * v_{t-1} + (1 - alpha) * g_t^2
        centred:   a_t = alpha * a_{t-1} + (1 - alpha) * g_t;   s_t = sqrt(v_t - a_t^2) + eps
        otherwise: s_t = sqrt(v_t) + eps
        momentum > 0: b_t = momentum * b_{t-1} + g_t / s_t;   theta_t = theta_{t-1} - lr * b_t
        momentum = 0: theta_t = theta_{t-1} - lr * g_t / s_t

    PyTorch versus the notes: the decay is called ``alpha`` (the notes' beta, default 0.99,
    not 0.9), torch adds eps *outside* the square root where the notes have none (with
    ``eps=0`` the two agree), and there is no bias correction (v_0 = 0 makes the first steps
    large: about lr / sqrt(1 - alpha) = 10 lr).

    Args:
        params: parameters or parameter groups.
        lr: learning rate (>= 0).
        alpha: decay of the squared-gradient average, in [0, 1).
        eps: added to the denominator (> 0).
        weight_decay: L2 penalty (>= 0).
        momentum: momentum factor on the normalised step (>= 0).
        centered: normalise by the estimated variance instead of the second moment.

    State (per parameter): ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0),
    ``grad_avg`` (centred).
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
        }
        super().__init__(params, defaults)

    def _update(
        self, param: Parameter, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param.data)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(param.data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param.data)
        state["step"] += 1
        alpha = group["alpha"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * (grad * grad)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1 - alpha) * (grad - grad_avg)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / avg
            param.data -= group["lr"] * buf
        else:
            param.data -= group["lr"] * (grad / avg)
