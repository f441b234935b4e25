"""``create_optimizer(name, params, lr, weight_decay)``: the notes' optimizer names -> torch.optim.

Where torch has the rule we return torch's class (momentum and Nesterov are ``SGD`` options,
AMSGrad is an ``Adam`` option).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from cnnlab.core.names import unknown_name_message

# name -> (torch class, fixed options that define the rule, default hyperparameters)
_Spec = tuple[Callable[..., torch.optim.Optimizer], dict[str, Any], dict[str, Any]]

OPTIMIZERS: dict[str, _Spec] = {
    "sgd": (torch.optim.SGD, {}, {}),
    "minibatch": (torch.optim.SGD, {}, {}),
    "momentum": (torch.optim.SGD, {}, {"momentum": 0.9}),
    "nesterov": (torch.optim.SGD, {"nesterov": True}, {"momentum": 0.9}),
    "adagrad": (torch.optim.Adagrad, {}, {}),
    "adadelta": (torch.optim.Adadelta, {}, {}),
    "rmsprop": (torch.optim.RMSprop, {}, {}),
    "adam": (torch.optim.Adam, {}, {}),
    "adamax": (torch.optim.Adamax, {}, {}),
    "nadam": (torch.optim.NAdam, {}, {}),
    "amsgrad": (torch.optim.Adam, {"amsgrad": True}, {}),
}


def create_optimizer(
    name: str,
    params: Iterable[torch.nn.Parameter] | Iterable[dict[str, Any]],
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    **kwargs: Any,
) -> torch.optim.Optimizer:
    """Build the optimizer the notes call ``name``.

    Args:
        name: one of :data:`OPTIMIZERS`.
        params: parameters or parameter groups, as for any ``torch.optim.Optimizer``.
        lr: learning rate (>= 0).
        weight_decay: L2 penalty added to the gradient (>= 0).
        **kwargs: further hyperparameters of the underlying class (``betas``, ``momentum``...).

    Raises:
        ValueError: unknown name or an invalid hyperparameter.
    """
    spec = OPTIMIZERS.get(name)
    if spec is None:
        raise ValueError(unknown_name_message("optimizer", name, OPTIMIZERS))
    if not lr >= 0:
        raise ValueError(f"lr must be >= 0, got {lr}")
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    cls, fixed, defaults = spec
    options = {**defaults, **kwargs, **fixed, "lr": lr, "weight_decay": weight_decay}
    try:
        return cls(params, **options)
    except (TypeError, ValueError) as err:
        raise ValueError(f"optimizer {name!r}: {err}") from None
