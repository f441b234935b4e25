"""Stochastic gradient descent with (Nesterov) momentum: the notes' SGD, mini-batch, Momentum and
Nesterov momentum are all this one rule."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlab.scratch.optim.optimizer import Optimizer, ParamsArg
from cnnlab.scratch.parameter import Parameter


class SGD(Optimizer):
    r"""SGD, optionally with momentum or Nesterov momentum, exactly as ``torch.optim.SGD``.

    Math:
        g_t = grad + weight_decay * theta_{t-1}               (L2 penalty folded into the gradient)
        b_1 = g_1;  b_t = momentum * b_{t-1} + (1 - dampening) * g_t   (t > 1)
        d_t = g_t + momentum * b_t   if nesterov   else   b_t   (momentum > 0)
        d_t = g_t                                             (momentum = 0)
        theta_t = theta_{t-1} - lr * d_t

    PyTorch versus the textbook:
        - The velocity is *not* scaled by the learning rate: the textbook (Sutskever et al., 2013)
          keeps v_t = mu * v_{t-1} - lr * g_t and theta_t = theta_{t-1} + v_t. Both give the same
          trajectory at a fixed lr but differ when the lr changes mid-run.
        - The first step copies the gradient into the buffer (no ``1 - dampening`` factor).
        - Nesterov is the "look-ahead folded into the gradient" form of Bengio et al. (2013):
          the step uses g_t + mu * b_t instead of evaluating the gradient at theta + mu * v.

    Mini-batch SGD is the same rule; the batch size is the data loader's business.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (>= 0).
        momentum: momentum factor mu (>= 0; 0 is plain SGD).
        dampening: dampening of the gradient in the buffer (>= 0; must be 0 with Nesterov).
        weight_decay: L2 penalty (>= 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).

    State (per parameter): ``momentum_buffer`` (only when momentum > 0).
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "nesterov": nesterov,
            "weight_decay": weight_decay,
        }
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _update(
        self, param: Parameter, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, momentum = group["lr"], group["momentum"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param.data -= lr * grad
