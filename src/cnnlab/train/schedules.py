"""Learning-rate schedules: torch's schedulers, stepped every iteration, options given in epochs.

:func:`build_scheduler` returns a ``torch.optim.lr_scheduler`` object, nothing of ours: each name
is the torch scheduler it wraps, with the options a user thinks of in epochs (``step_size``,
``milestones``) converted to iterations, so that the learning rate changes smoothly within an
epoch (cosine, one-cycle, warmup) and a step schedule drops exactly at an epoch boundary.

=============  ===========================================================================
name           torch scheduler (S iterations per epoch, E epochs after the warmup)
=============  ===========================================================================
``none``       ``ConstantLR(factor=1, total_iters=0)`` (the lr never changes)
``step``       ``StepLR(step_size=step_size * S, gamma)``
``multistep``  ``MultiStepLR(milestones=[m * S for m in milestones], gamma)``
``cosine``     ``CosineAnnealingLR(T_max=E * S, eta_min=min_lr)``
``exponential````ExponentialLR(gamma=gamma ** (1 / S))``: ``gamma`` per epoch
``onecycle``   ``OneCycleLR(max_lr=lr, total_steps=E * S)``, momentum cycled when the
               optimizer has momentum (``betas`` or ``momentum > 0``)
``plateau``    ``ReduceLROnPlateau(mode, factor=gamma, patience)``, stepped once per epoch on
               the monitored validation score (not per iteration)
=============  ===========================================================================

With ``warmup_epochs = W > 0`` the result is torch's ``SequentialLR([LinearLR(start_factor=0.01,
total_iters=W * S), main], milestones=[W * S])``: the lr climbs linearly from 1% of its value over
W epochs, then the main schedule runs over the remaining epochs (its ``step_size`` and
``milestones`` count from the end of the warmup, as in torchvision's reference script).
``plateau`` reacts to validation scores and cannot be combined with a warmup.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from torch.optim import Optimizer
from torch.optim.lr_scheduler import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

from cnnlab.core.validate import InvalidArgument, non_negative_int, number, one_of, positive_int

__all__ = [
    "SCHEDULERS",
    "WARMUP_START_FACTOR",
    "Scheduler",
    "build_scheduler",
    "check_milestones",
    "is_per_epoch",
    "replay",
]

Scheduler = LRScheduler  # ReduceLROnPlateau is one too (stepped with a score)

WARMUP_START_FACTOR = 0.01
"""The warmup starts at 1% of the learning rate (torchvision's ``lr_warmup_decay``)."""


@dataclass(frozen=True)
class _Main:
    """What a builder gets: the optimizer, the main schedule's epochs and iterations per epoch."""

    optimizer: Optimizer
    epochs: int
    steps: int


def _gamma(options: dict[str, Any], default: float) -> float:
    value = options.get("gamma")
    if value is None:
        return default
    return number("gamma", value, minimum=0, maximum=1, exclusive_minimum=True)


def _constant(m: _Main, options: dict[str, Any]) -> LRScheduler:
    return ConstantLR(m.optimizer, factor=1.0, total_iters=0)


def _step(m: _Main, options: dict[str, Any]) -> LRScheduler:
    size = options.get("step_size")
    size = max(m.epochs // 3, 1) if size is None else positive_int("step_size", size)
    return StepLR(m.optimizer, step_size=size * m.steps, gamma=_gamma(options, 0.1))


def _default_milestones(epochs: int) -> list[int]:
    return sorted({max(epochs // 2, 1), max(3 * epochs // 4, 1)})


def _multistep(m: _Main, options: dict[str, Any]) -> LRScheduler:
    given = options.get("milestones")
    milestones = _default_milestones(m.epochs) if given is None else check_milestones(given)
    return MultiStepLR(
        m.optimizer, milestones=[e * m.steps for e in milestones], gamma=_gamma(options, 0.1)
    )


def check_milestones(value: Any) -> list[int]:
    """``value`` as a list of increasing positive epochs (a list or tuple of ints)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise InvalidArgument("milestones", f"milestones must be a list of epochs, got {value!r}")
    out = [positive_int("milestones", v) for v in value]
    if any(b <= a for a, b in itertools.pairwise(out)):
        raise InvalidArgument(
            "milestones", f"milestones must be increasing epochs, got {list(value)!r}"
        )
    return out


def _cosine(m: _Main, options: dict[str, Any]) -> LRScheduler:
    eta_min = number("min_lr", options.get("min_lr", 0.0), minimum=0)
    return CosineAnnealingLR(m.optimizer, T_max=m.epochs * m.steps, eta_min=eta_min)


def _exponential(m: _Main, options: dict[str, Any]) -> LRScheduler:
    per_epoch = _gamma(options, 0.9)
    return ExponentialLR(m.optimizer, gamma=per_epoch ** (1.0 / m.steps))


def _has_momentum(optimizer: Optimizer) -> bool:
    defaults = optimizer.defaults
    return "betas" in defaults or float(defaults.get("momentum", 0.0) or 0.0) > 0


def _onecycle(m: _Main, options: dict[str, Any]) -> LRScheduler:
    # The base lr (a warmup built before has already lowered the groups' current lr).
    max_lr = [group.get("initial_lr", group["lr"]) for group in m.optimizer.param_groups]
    return OneCycleLR(
        m.optimizer,
        max_lr=max_lr,
        total_steps=m.epochs * m.steps,
        cycle_momentum=_has_momentum(m.optimizer),
    )


def _plateau(m: _Main, options: dict[str, Any]) -> ReduceLROnPlateau:
    factor = _gamma(options, 0.1)
    if factor >= 1:
        raise InvalidArgument(
            "gamma", f"gamma must be < 1 for plateau (the lr factor), got {factor}"
        )
    patience = non_negative_int("patience", options.get("patience", 10))
    mode = one_of("mode", options.get("mode", "min"), ("min", "max"))
    return ReduceLROnPlateau(m.optimizer, mode=mode, factor=factor, patience=patience)


@dataclass(frozen=True)
class _Entry:
    build: Callable[[_Main, dict[str, Any]], Scheduler]
    options: tuple[str, ...]
    per_epoch: bool = False


SCHEDULERS: dict[str, _Entry] = {
    "none": _Entry(_constant, ()),
    "step": _Entry(_step, ("step_size", "gamma")),
    "multistep": _Entry(_multistep, ("milestones", "gamma")),
    "cosine": _Entry(_cosine, ("min_lr",)),
    "exponential": _Entry(_exponential, ("gamma",)),
    "onecycle": _Entry(_onecycle, ()),
    "plateau": _Entry(_plateau, ("gamma", "patience", "mode"), per_epoch=True),
}
"""Schedule name -> its builder and the options it takes (see the module docstring)."""


def build_scheduler(
    optimizer: Optimizer,
    name: str,
    *,
    epochs: int,
    steps_per_epoch: int,
    warmup_epochs: int = 0,
    **options: Any,
) -> Scheduler:
    """The torch scheduler called ``name``, to be stepped after every optimizer step.

    ``plateau`` is the exception: step it once per epoch with the monitored validation score
    (``scheduler.step(score)``; :func:`is_per_epoch` tells which).

    Args:
        optimizer: the optimizer whose learning rates (its groups' ``lr``) the schedule scales.
        name: one of :data:`SCHEDULERS`.
        epochs: epochs of the whole run, warmup included.
        steps_per_epoch: optimizer steps per epoch (``S``).
        warmup_epochs: epochs of linear warmup from 1% of the lr (``W``; 0: none).
        **options: the schedule's options, in epochs: ``step_size`` (step; default
            ``(epochs - W) // 3``), ``milestones`` (multistep; default half and three quarters
            of ``epochs - W``), ``gamma`` (step, multistep, plateau: 0.1; exponential: 0.9 per
            epoch), ``min_lr`` (cosine: 0), ``patience`` and ``mode`` (plateau: 10, ``"min"``).

    Raises:
        InvalidArgument: an unknown name (with close matches), a count that is not a positive
            integer, an option the schedule does not take or out of range, a warmup as long as
            the run, or a warmup with ``plateau``.

    Example:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = build_scheduler(opt, "step", epochs=6, steps_per_epoch=10, step_size=2)
        >>> type(sched).__name__, sched.step_size
        ('StepLR', 20)
    """
    entry = SCHEDULERS[one_of("scheduler", name, SCHEDULERS)]
    epochs = positive_int("epochs", epochs)
    steps = positive_int("steps_per_epoch", steps_per_epoch)
    warmup = non_negative_int("warmup_epochs", warmup_epochs)
    unknown = sorted(set(options) - set(entry.options))
    if unknown:
        takes = f"it takes {', '.join(entry.options)}" if entry.options else "it takes none"
        raise InvalidArgument(
            unknown[0], f"{unknown[0]} is not an option of scheduler {name!r}; {takes}"
        )
    if warmup and entry.per_epoch:
        raise InvalidArgument(
            "warmup_epochs",
            f"warmup_epochs cannot be combined with scheduler {name!r}: it lowers the lr when "
            f"the validation score stops improving, a warmup would fight it; use "
            f"warmup_epochs 0 or another scheduler",
        )
    if warmup >= epochs:
        raise InvalidArgument(
            "warmup_epochs",
            f"warmup_epochs must be < epochs ({epochs}) to leave the schedule an epoch, "
            f"got {warmup}",
        )
    main_epochs = epochs - warmup
    if not warmup:
        return entry.build(_Main(optimizer, main_epochs, steps), options)
    start = LinearLR(optimizer, start_factor=WARMUP_START_FACTOR, total_iters=warmup * steps)
    main = entry.build(_Main(optimizer, main_epochs, steps), options)
    return SequentialLR(optimizer, [start, main], milestones=[warmup * steps])


def is_per_epoch(scheduler: Scheduler) -> bool:
    """Whether ``scheduler`` steps once per epoch on a validation score (``plateau``)."""
    return isinstance(scheduler, ReduceLROnPlateau)


def replay(scheduler: Scheduler, iterations: int, scores: Sequence[float] = ()) -> None:
    """Move a freshly built ``scheduler`` to where a run ``iterations`` steps in would have it.

    A per-iteration schedule is stepped ``iterations`` times; ``plateau`` is stepped once per
    finished epoch with that epoch's score. Used when a run resumes with a new number of epochs:
    the lr then follows the new schedule from the current step on. Nothing but the optimizer's
    ``lr`` (and momentum, for one-cycle) changes.
    """
    with warnings.catch_warnings():  # "lr_scheduler.step() before optimizer.step()": intended
        warnings.simplefilter("ignore", UserWarning)
        if is_per_epoch(scheduler):
            for score in scores:
                scheduler.step(score)
            return
        for _ in range(iterations):
            scheduler.step()
