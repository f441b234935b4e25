"""``create_optimizer(name, params, **hyperparameters)``: the notes' twelve names, NumPy tier."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from cnnlab.core.names import unknown_name_message
from cnnlab.scratch.optim.adabound import AdaBound
from cnnlab.scratch.optim.adadelta import Adadelta
from cnnlab.scratch.optim.adagrad import Adagrad
from cnnlab.scratch.optim.adam import Adam
from cnnlab.scratch.optim.adamax import Adamax
from cnnlab.scratch.optim.nadam import NAdam
from cnnlab.scratch.optim.optimizer import Optimizer, ParamsArg
from cnnlab.scratch.optim.rmsprop import RMSprop
from cnnlab.scratch.optim.sgd import SGD


@dataclass(frozen=True)
class RuleSpec:
    """How a name of the notes maps to a class.

    Attributes:
        cls: the optimizer class.
        fixed: options that *define* the rule (giving another value is an error).
        defaults: hyperparameters the name implies unless given (momentum = 0.9).
    """

    cls: type[Optimizer]
    fixed: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)


OPTIMIZERS: dict[str, RuleSpec] = {
    "sgd": RuleSpec(SGD, {"momentum": 0.0, "nesterov": False}),
    "minibatch": RuleSpec(SGD, {"momentum": 0.0, "nesterov": False}),
    "momentum": RuleSpec(SGD, {"nesterov": False}, {"momentum": 0.9}),
    "nesterov": RuleSpec(SGD, {"nesterov": True}, {"momentum": 0.9}),
    "adagrad": RuleSpec(Adagrad),
    "adadelta": RuleSpec(Adadelta),
    "rmsprop": RuleSpec(RMSprop),
    "adam": RuleSpec(Adam, {"amsgrad": False}),
    "adamax": RuleSpec(Adamax),
    "nadam": RuleSpec(NAdam),
    "amsgrad": RuleSpec(Adam, {"amsgrad": True}),
    "adabound": RuleSpec(AdaBound),
}


def create_optimizer(name: str, params: ParamsArg, **hyperparameters: Any) -> Optimizer:
    """Build the NumPy-tier optimizer the notes call ``name``.

    ``sgd`` and ``minibatch`` are the same rule (the batch size is the data loader's business);
    ``momentum`` and ``nesterov`` are :class:`SGD` with momentum 0.9 unless given; ``amsgrad``
    is :class:`Adam` with ``amsgrad=True``.

    Args:
        name: one of :data:`OPTIMIZERS`.
        params: parameters or parameter groups.
        **hyperparameters: the class's hyperparameters (``lr``, ``betas``, ``weight_decay``...).

    Raises:
        ValueError: unknown name, a hyperparameter the class lacks, one that contradicts the
            name (``create_optimizer("sgd", ..., momentum=0.9)``), or one out of range.
    """
    spec = OPTIMIZERS.get(name)
    if spec is None:
        raise ValueError(unknown_name_message("optimizer", name, OPTIMIZERS))
    for key, value in spec.fixed.items():
        if key in hyperparameters and hyperparameters[key] != value:
            raise ValueError(
                f"optimizer {name!r} means {key}={value!r}, got {key}={hyperparameters[key]!r}"
            )
    known = [k for k in inspect.signature(spec.cls).parameters if k != "params"]
    unknown = sorted(set(hyperparameters) - set(known))
    if unknown:
        raise ValueError(
            f"optimizer {name!r} ({spec.cls.__name__}) has no hyperparameter(s) {unknown}; "
            f"it takes {', '.join(known)}"
        )
    options = {**spec.defaults, **hyperparameters, **spec.fixed}
    if name == "momentum" and not options["momentum"] > 0:
        raise ValueError(f"optimizer 'momentum' needs momentum > 0, got {options['momentum']!r}")
    return spec.cls(params, **options)
