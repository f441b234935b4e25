"""``create_optimizer(name, params, **hyperparameters)``: the notes' twelve names, NumPy tier.

The names and what each means (rule, fixed options, default lr) come from the table both tiers
share, :mod:`cnnlab.core.optimizers`; this module only says which NumPy class runs each rule.
"""

from __future__ import annotations

import inspect
from typing import Any

from cnnlab.core.optimizers import (
    OPTIMIZERS,
    OptimizerSpec,
    check_hyperparameters,
    get_optimizer_spec,
)
from cnnlab.scratch.optim.adabound import AdaBound
from cnnlab.scratch.optim.adadelta import Adadelta
from cnnlab.scratch.optim.adagrad import Adagrad
from cnnlab.scratch.optim.adam import Adam
from cnnlab.scratch.optim.adamax import Adamax
from cnnlab.scratch.optim.nadam import NAdam
from cnnlab.scratch.optim.optimizer import Optimizer, ParamsArg
from cnnlab.scratch.optim.rmsprop import RMSprop
from cnnlab.scratch.optim.sgd import SGD

__all__ = ["OPTIMIZERS", "RULES", "OptimizerSpec", "create_optimizer"]

# The class that runs each rule of the name table in this tier (torch.optim's class names).
RULES: dict[str, type[Optimizer]] = {
    "SGD": SGD,
    "Adagrad": Adagrad,
    "Adadelta": Adadelta,
    "RMSprop": RMSprop,
    "Adam": Adam,
    "Adamax": Adamax,
    "NAdam": NAdam,
    "AdaBound": AdaBound,
}


def create_optimizer(name: str, params: ParamsArg, **hyperparameters: Any) -> Optimizer:
    """Build the NumPy-tier optimizer the notes call ``name``.

    ``sgd`` and ``minibatch`` are the same rule (the batch size is the data loader's business);
    ``momentum`` and ``nesterov`` are :class:`SGD` with momentum 0.9 unless given; ``amsgrad``
    is :class:`Adam` with ``amsgrad=True``.

    Args:
        name: one of :data:`OPTIMIZERS`.
        params: parameters or parameter groups.
        **hyperparameters: the class's hyperparameters (``lr``, ``betas``, ``weight_decay``...);
            ``lr`` defaults to the name's default in the table.

    Raises:
        ValueError: unknown name, a hyperparameter the class lacks, one that contradicts the
            name (``create_optimizer("sgd", ..., momentum=0.9)``), or one out of range or not
            finite (an :class:`~cnnlab.core.validate.InvalidArgument` naming it).
    """
    spec = get_optimizer_spec(name)
    cls = RULES[spec.rule]
    for key, value in spec.fixed.items():
        if key in hyperparameters and hyperparameters[key] != value:
            raise ValueError(
                f"optimizer {name!r} means {key}={value!r}, got {key}={hyperparameters[key]!r}"
            )
    known = [k for k in inspect.signature(cls).parameters if k != "params"]
    unknown = sorted(set(hyperparameters) - set(known))
    if unknown:
        raise ValueError(
            f"optimizer {name!r} ({cls.__name__}) has no hyperparameter(s) {unknown}; "
            f"it takes {', '.join(known)}"
        )
    options = {"lr": spec.lr, **spec.defaults, **hyperparameters, **spec.fixed}
    check_hyperparameters(options, spec.positive)
    return cls(params, **options)
