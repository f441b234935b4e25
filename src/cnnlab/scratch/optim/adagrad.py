"""AdaGrad (Duchi, Hazan and Singer, 2011): per-coordinate steps shrink with the summed squares."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlab.scratch.optim.optimizer import (
    Optimizer,
    ParamsArg,
)
from cnnlab.scratch.parameter import Parameter


class Adagrad(Optimizer):
    r"""AdaGrad, exactly as ``torch.optim.Adagrad``.

    Math:
        g_t = grad + weight_decay * theta_{t-1}
        lr_t = lr / (1 + (t - 1) * lr_decay)
        G_t = G_{t-1} + g_t^2                    (G_0 = initial_accumulator_value)
        theta_t = theta_{t-1} - lr_t * g_t / (sqrt(G_t) + eps)

    PyTorch versus the textbook: eps sits *outside* the square root (the textbook often writes
    sqrt(G_t + eps)), and its default is tiny (1e-10). The sum never forgets, so the effective
    step only shrinks: the weakness AdaDelta and RMSProp fix.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (>= 0).
        lr_decay: learning-rate decay per step (>= 0).
        weight_decay: L2 penalty (>= 0).
        initial_accumulator_value: starting value of the sum of squares (>= 0).
        eps: added to the denominator (> 0).

    State (per parameter): ``step``, ``sum``.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
        }
        super().__init__(params, defaults)

    def _update(
        self, param: Parameter, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param.data, group["initial_accumulator_value"])
        state["step"] += 1
        step = state["step"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        std = np.sqrt(state["sum"]) + group["eps"]
        param.data -= clr * (grad / std)
