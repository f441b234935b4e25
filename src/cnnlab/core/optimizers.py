"""The notes' twelve optimizer names: one table that both tiers read, and the hyperparameter ranges.

Each name of the notes maps to an update rule (a class name that both ``cnnlab.optim`` and
``cnnlab.scratch.optim`` resolve in their own tier: ``"SGD"`` is ``torch.optim.SGD`` there and
``cnnlab.scratch.optim.SGD`` here) and to what the name *means* on top of the rule: the options
that define it (``momentum`` is SGD with momentum 0.9), its default learning rate, the learning
rate ``cnnlab optim-race`` gives it on each landscape, and how many parameter-sized buffers the
optimizer keeps per parameter (what a training run pays in memory on top of the weights and
gradients; the tests count them in a real torch optimizer's state after one step).

:func:`check_hyperparameters` holds the allowed range of every hyperparameter name that the
rules share (torch.optim's names), so that both tiers reject the same values with the same words,
non-finite ones included. Pure Python: no numpy, no torch.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cnnlab.core.validate import InvalidArgument, number, one_of

__all__ = [
    "OPTIMIZERS",
    "RANGES",
    "OptimizerSpec",
    "check_base_lr",
    "check_hyperparameters",
    "get_optimizer_spec",
    "race_lr",
    "state_buffers",
]


@dataclass(frozen=True)
class OptimizerSpec:
    """What one name of the notes means.

    Attributes:
        rule: the class that runs it, by name (``"SGD"``, ``"Adam"``, ``"AdaBound"``...): each
            tier maps the name to its own class.
        lr: the default learning rate (the class's own default, torch's where torch has it).
        state_buffers: parameter-sized buffers kept per parameter with the name's options
            (SGD 0, momentum 1, Adam 2, AMSGrad 3...); scalars such as ``step`` do not count.
        race_lr: landscape name -> the learning rate ``cnnlab optim-race`` uses there.
        fixed: options that *define* the rule (giving another value is an error).
        defaults: hyperparameters the name implies unless given (momentum = 0.9).
        positive: options that must be > 0 for this name (``momentum`` for the momentum rules).
        extra_buffers: option -> buffers it adds per parameter when set (RMSprop's ``centered``
            keeps the mean gradient; AdaBound's ``amsbound`` the running max).
        summary: one line for listings.
    """

    rule: str
    lr: float
    state_buffers: int
    race_lr: Mapping[str, float]
    fixed: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    positive: tuple[str, ...] = ()
    extra_buffers: Mapping[str, int] = field(default_factory=dict)
    summary: str = ""


def _race(rosenbrock: float, beale: float, saddle: float, himmelblau: float) -> dict[str, float]:
    return {"rosenbrock": rosenbrock, "beale": beale, "saddle": saddle, "himmelblau": himmelblau}


# Race learning rates let every rule make visible progress within a few hundred steps; one rate
# cannot serve all twelve (AdaDelta's first steps are ~sqrt(eps) = 1e-3 whatever the scale, so
# Rosenbrock's long valley wants lr = 5; SGD on Rosenbrock's valley walls needs lr ~ 1e-3).
_ADAM_RACE = _race(5e-2, 5e-2, 3e-2, 5e-2)
_SGD_RACE = _race(1e-3, 5e-3, 2e-2, 5e-3)
_MOMENTUM_RACE = _race(2e-4, 1e-3, 5e-3, 1e-3)

OPTIMIZERS: dict[str, OptimizerSpec] = {
    "sgd": OptimizerSpec(
        rule="SGD",
        lr=1e-3,
        state_buffers=0,
        race_lr=_SGD_RACE,
        fixed={"momentum": 0.0, "nesterov": False},
        summary="theta -= lr g",
    ),
    "minibatch": OptimizerSpec(
        rule="SGD",
        lr=1e-3,
        state_buffers=0,
        race_lr=_SGD_RACE,
        fixed={"momentum": 0.0, "nesterov": False},
        summary="SGD on mini-batches (the batch size is the loader's)",
    ),
    "momentum": OptimizerSpec(
        rule="SGD",
        lr=1e-3,
        state_buffers=1,  # momentum_buffer
        race_lr=_MOMENTUM_RACE,
        fixed={"nesterov": False},
        defaults={"momentum": 0.9},
        positive=("momentum",),
        summary="SGD with heavy-ball momentum",
    ),
    "nesterov": OptimizerSpec(
        rule="SGD",
        lr=1e-3,
        state_buffers=1,  # momentum_buffer
        race_lr=_MOMENTUM_RACE,
        fixed={"nesterov": True},
        defaults={"momentum": 0.9},
        positive=("momentum",),
        summary="SGD with Nesterov momentum",
    ),
    "adagrad": OptimizerSpec(
        rule="Adagrad",
        lr=1e-2,
        state_buffers=1,  # sum
        race_lr=_race(0.5, 0.5, 0.3, 0.5),
        summary="divide by the root of summed g^2",
    ),
    "adadelta": OptimizerSpec(
        rule="Adadelta",
        lr=1.0,
        state_buffers=2,  # square_avg, acc_delta
        race_lr=_race(5.0, 1.0, 1.0, 1.0),
        summary="RMSProp with unit-correct steps",
    ),
    "rmsprop": OptimizerSpec(
        rule="RMSprop",
        lr=1e-2,
        state_buffers=1,  # square_avg
        race_lr=_race(1e-2, 1e-2, 1e-2, 2e-2),
        extra_buffers={"momentum": 1, "centered": 1},  # momentum_buffer, grad_avg
        summary="divide by a running RMS of g",
    ),
    "adam": OptimizerSpec(
        rule="Adam",
        lr=1e-3,
        state_buffers=2,  # exp_avg, exp_avg_sq
        race_lr=_ADAM_RACE,
        fixed={"amsgrad": False},
        summary="momentum + RMSProp, bias-corrected",
    ),
    "adamax": OptimizerSpec(
        rule="Adamax",
        lr=2e-3,
        state_buffers=2,  # exp_avg, exp_inf
        race_lr=_ADAM_RACE,
        summary="Adam with the infinity norm",
    ),
    "nadam": OptimizerSpec(
        rule="NAdam",
        lr=2e-3,
        state_buffers=2,  # exp_avg, exp_avg_sq (mu_product is a scalar)
        race_lr=_ADAM_RACE,
        summary="Adam with Nesterov momentum",
    ),
    "amsgrad": OptimizerSpec(
        rule="Adam",
        lr=1e-3,
        state_buffers=3,  # exp_avg, exp_avg_sq, max_exp_avg_sq
        race_lr=_ADAM_RACE,
        fixed={"amsgrad": True},
        summary="Adam with the running max of the second moment",
    ),
    "adabound": OptimizerSpec(
        rule="AdaBound",
        lr=1e-3,
        state_buffers=2,  # exp_avg, exp_avg_sq
        race_lr=_ADAM_RACE,
        extra_buffers={"amsbound": 1},  # max_exp_avg_sq (AMSBound)
        summary="Adam clipped into bounds that tend to SGD (amsbound=True: AMSBound)",
    ),
}


def get_optimizer_spec(name: str) -> OptimizerSpec:
    """The entry for ``name``; an :class:`InvalidArgument` listing close matches otherwise."""
    one_of("optimizer", name, OPTIMIZERS)
    return OPTIMIZERS[name]


def state_buffers(name: str, **options: Any) -> int:
    """Parameter-sized buffers the optimizer ``name`` keeps per parameter with ``options``.

    >>> state_buffers("adam"), state_buffers("rmsprop", centered=True)
    (2, 2)
    """
    spec = get_optimizer_spec(name)
    merged = {**spec.defaults, **options, **spec.fixed}
    return spec.state_buffers + sum(n for key, n in spec.extra_buffers.items() if merged.get(key))


def race_lr(name: str, landscape: str) -> float:
    """The learning rate ``optim-race`` gives ``name`` on ``landscape``.

    Raises:
        ValueError: an unknown name, or a name without a race learning rate there.
    """
    lr = get_optimizer_spec(name).race_lr.get(landscape)
    if lr is None:
        raise InvalidArgument(
            "optimizers",
            f"optimizers: {name!r} has no race learning rate for {landscape!r}; "
            f"give one (--lr {name}=VALUE)",
        )
    return lr


# ---------------------------------------------------------------------- hyperparameter ranges
@dataclass(frozen=True)
class _Range:
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False


_AT_LEAST_0 = _Range(minimum=0)
_UNIT = _Range(minimum=0, maximum=1, exclusive_maximum=True)

# torch.optim's names (and AdaBound's): one range each, whichever rule uses it.
RANGES: dict[str, _Range] = {
    "lr": _AT_LEAST_0,
    "weight_decay": _AT_LEAST_0,
    "momentum": _AT_LEAST_0,
    "dampening": _AT_LEAST_0,
    "eps": _Range(minimum=0, exclusive_minimum=True),
    "alpha": _UNIT,
    "rho": _UNIT,
    "lr_decay": _AT_LEAST_0,
    "initial_accumulator_value": _AT_LEAST_0,
    "momentum_decay": _AT_LEAST_0,
    "final_lr": _AT_LEAST_0,
    "gamma": _Range(minimum=0, maximum=1, exclusive_minimum=True, exclusive_maximum=True),
}


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_hyperparameters(options: Mapping[str, Any], positive: tuple[str, ...] = ()) -> None:
    """Raise :class:`InvalidArgument` naming the first hyperparameter out of its range.

    Every known name is checked against :data:`RANGES` (always finite: ``lr=inf`` and
    ``weight_decay=nan`` are refused), ``betas`` must be a pair in [0, 1), any other number must
    be finite, and the names in ``positive`` must be > 0. Other values (bools, parameter lists)
    are left to the class.

        >>> check_hyperparameters({"lr": float("inf")})
        Traceback (most recent call last):
        ...
        cnnlab.core.validate.InvalidArgument: lr must be a finite number >= 0, got inf
    """
    for key, value in options.items():
        if key == "betas":
            _check_betas(value)
        elif key in RANGES:
            r = RANGES[key]
            number(
                key,
                value,
                minimum=r.minimum,
                maximum=r.maximum,
                exclusive_minimum=r.exclusive_minimum,
                exclusive_maximum=r.exclusive_maximum,
            )
        elif _is_real(value):
            number(key, value)
    for key in positive:
        if key in options:
            number(key, options[key], minimum=0, exclusive_minimum=True)


def check_base_lr(base_lr: Any) -> None:
    """AdaBound's stored base lr (``final_lr`` is scaled by ``lr / base_lr``) must be > 0."""
    if not (_is_real(base_lr) and math.isfinite(base_lr) and base_lr > 0):
        raise InvalidArgument(
            "base_lr",
            f"base_lr must be a finite number > 0 (final_lr is scaled by lr / base_lr), got "
            f"{base_lr!r}; a group created with lr=0 needs an explicit base_lr",
        )


def _check_betas(betas: Any) -> None:
    if isinstance(betas, (str, bytes)) or not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise InvalidArgument("betas", f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        number(f"betas[{i}]", beta, minimum=0, maximum=1, exclusive_maximum=True)
