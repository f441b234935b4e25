"""The base of the NumPy-tier optimizers: parameter groups, per-parameter state, ``zero_grad``.

It mirrors ``torch.optim.Optimizer`` closely enough that the tests need no adapters: the
hyperparameters live in ``param_groups`` (a list of dicts; change ``group["lr"]`` to schedule the
learning rate), the per-parameter buffers live in ``state[param]`` under torch's names, and a
parameter whose ``grad`` is ``None`` is skipped by ``step()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from cnnlab.core.optimizers import check_hyperparameters
from cnnlab.scratch.parameter import Parameter

ParamsArg = Iterable[Parameter] | Iterable[Mapping[str, Any]]


class Optimizer:
    """Base class: subclasses define ``_check(group)`` and ``_update(param, grad, state, group)``.

    Args:
        params: an iterable of :class:`~cnnlab.scratch.Parameter`, or of dicts with a
            ``"params"`` entry and per-group hyperparameters (as torch's parameter groups).
        defaults: the hyperparameters a group gets when it does not set them.

    Raises:
        ValueError: an empty parameter list, something that is not a ``Parameter``, a parameter
            in two groups, or a hyperparameter outside its allowed range.
    """

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Parameter, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Parameter):
            raise ValueError(
                "params must be an iterable of Parameters or of dicts, got a single Parameter; "
                "wrap it in a list"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], Mapping):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: Mapping[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (the rest from ``defaults``)."""
        if not isinstance(group, Mapping) or "params" not in group:
            raise ValueError(
                f"a parameter group must be a dict with a 'params' entry, got {group!r}"
            )
        params = group["params"]
        params = [params] if isinstance(params, Parameter) else list(params)
        for p in params:
            if not isinstance(p, Parameter):
                raise ValueError(
                    f"{type(self).__name__} optimizes cnnlab.scratch.Parameter objects, "
                    f"got {type(p).__name__}"
                )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError("some parameters appear in more than one group (or twice)")
        unknown = sorted(set(group) - set(self.defaults) - {"params", *self._extra_group_keys})
        if unknown:
            raise ValueError(
                f"{type(self).__name__} has no hyperparameter(s) {unknown}; "
                f"known: {sorted(self.defaults)}"
            )
        new = {**self.defaults, **group, "params": params}
        self._check(new)
        self._init_group(new)
        self.param_groups.append(new)

    # Keys a group may carry besides the defaults (AdaBound's stored base lr).
    _extra_group_keys: tuple[str, ...] = ()

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to ``None`` (torch's ``set_to_none=True`` default)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, one rule application each."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.shape != p.data.shape:
                    raise ValueError(
                        f"gradient shape {p.grad.shape} does not match parameter {p.data.shape}"
                    )
                self._update(p, p.grad, self.state.setdefault(p, {}), group)

    # ------------------------------------------------------------------ subclass hooks
    def _check(self, group: dict[str, Any]) -> None:
        """Raise ``ValueError`` (an ``InvalidArgument`` naming it) if a hyperparameter of
        ``group`` is out of range or not finite: the ranges both tiers share, by torch's names
        (:func:`cnnlab.core.optimizers.check_hyperparameters`). Subclasses add what ties two
        hyperparameters together."""
        check_hyperparameters({k: v for k, v in group.items() if k != "params"})

    def _init_group(self, group: dict[str, Any]) -> None:
        """Fill in per-group values derived at construction (AdaBound's base lr)."""

    def _update(
        self, param: Parameter, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            options = ", ".join(f"{k}={v}" for k, v in sorted(group.items()) if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} params, {options}")
        return "\n".join([*lines, ")"])


# ---------------------------------------------------------------------- shared update steps
def apply_weight_decay(param: Parameter, grad: np.ndarray, group: dict[str, Any]) -> np.ndarray:
    """The weight-decay step shared by the Adam family; returns the gradient to use.

    Math:
        coupled (L2):          g <- g + wd * theta
        decoupled (AdamW):     theta <- theta * (1 - lr * wd), g unchanged
    """
    wd = group["weight_decay"]
    if wd == 0:
        return grad
    if group["decoupled_weight_decay"]:
        param.data *= 1 - group["lr"] * wd
        return grad
    return grad + wd * param.data
