"""``create_optimizer(name, params, lr, weight_decay)``: the notes' twelve names for PyTorch.

Where torch has the rule we return torch's class (momentum and Nesterov are ``SGD`` options,
AMSGrad is an ``Adam`` option); AdaBound is ours (:class:`cnnlab.optim.AdaBound`).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from cnnlab.core.optimizers import (
    OPTIMIZERS,
    OptimizerSpec,
    check_hyperparameters,
    get_optimizer_spec,
)
from cnnlab.optim.adabound import AdaBound

__all__ = ["OPTIMIZERS", "RULES", "OptimizerSpec", "create_optimizer", "param_groups"]

# The class that runs each rule of the name table (cnnlab.core.optimizers) in this tier.
RULES: dict[str, type[torch.optim.Optimizer]] = {
    "SGD": torch.optim.SGD,
    "Adagrad": torch.optim.Adagrad,
    "Adadelta": torch.optim.Adadelta,
    "RMSprop": torch.optim.RMSprop,
    "Adam": torch.optim.Adam,
    "Adamax": torch.optim.Adamax,
    "NAdam": torch.optim.NAdam,
    "AdaBound": AdaBound,
}

_NORM_TYPES: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._NormBase,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.LocalResponseNorm,
    nn.RMSNorm,
)


def _no_decay_names(model: nn.Module) -> set[str]:
    """Names of biases and of every parameter owned by a normalisation layer."""
    names: set[str] = set()
    for module_name, module in model.named_modules():
        for name, _ in module.named_parameters(recurse=False):
            full = f"{module_name}.{name}" if module_name else name
            if name == "bias" or isinstance(module, _NORM_TYPES):
                names.add(full)
    return names


def _split(tensors: list[torch.Tensor], no_decay: set[int]) -> tuple[list, list]:
    decay = [p for p in tensors if id(p) not in no_decay]
    return decay, [p for p in tensors if id(p) in no_decay]


def param_groups(
    params: nn.Module | Iterable[torch.Tensor] | Iterable[dict[str, Any]],
    exclude_bias_and_norm: bool = False,
) -> list[dict[str, Any]]:
    """Parameter groups, optionally with ``weight_decay = 0`` for biases and norm parameters.

    With a module, biases and the parameters of normalisation layers (BatchNorm, LayerNorm,
    GroupNorm, InstanceNorm...) are found by name and type, and frozen parameters
    (``requires_grad=False``) are left out; with plain tensors, every tensor of at most one
    dimension counts as a bias or norm parameter (timm's rule). Groups given as dicts keep their
    own options and are split in two.

    Args:
        params: a model, parameters, or parameter groups.
        exclude_bias_and_norm: put biases and norm parameters in groups with weight decay 0.

    Returns:
        Parameter groups for a ``torch.optim.Optimizer``, empty ones dropped.
    """
    if isinstance(params, nn.Module):
        named = dict(params.named_parameters())
        skip = _no_decay_names(params) if exclude_bias_and_norm else set()
        no_decay = {id(p) for n, p in named.items() if n in skip}
        groups = [{"params": [p for p in named.values() if p.requires_grad]}]
    else:
        items = list(params)
        groups = (
            [dict(g) for g in items]
            if items and isinstance(items[0], dict)
            else [{"params": items}]
        )
        no_decay = {id(p) for g in groups for p in g["params"] if p.ndim <= 1}
    out: list[dict[str, Any]] = []
    for group in groups:
        tensors = list(group["params"])
        if not exclude_bias_and_norm:
            out.append({**group, "params": tensors})
            continue
        decay, rest = _split(tensors, no_decay)
        out.append({**group, "params": decay})
        out.append({**group, "params": rest, "weight_decay": 0.0})
    return [g for g in out if g["params"]]


def create_optimizer(
    name: str,
    params: nn.Module | Iterable[torch.Tensor] | Iterable[dict[str, Any]],
    lr: float | None = None,
    weight_decay: float = 0.0,
    *,
    exclude_bias_and_norm: bool = False,
    **kwargs: Any,
) -> torch.optim.Optimizer:
    """Build the optimizer the notes call ``name``.

    Args:
        name: one of :data:`OPTIMIZERS` (the table in :mod:`cnnlab.core.optimizers`).
        params: a model, its parameters, or parameter groups.
        lr: learning rate (finite, >= 0); ``None`` takes the name's default from the table
            (1.0 for AdaDelta, 1e-2 for AdaGrad and RMSProp, 2e-3 for Adamax and NAdam, 1e-3
            otherwise: the classes' own defaults).
        weight_decay: L2 penalty (finite, >= 0; AdamW-style when ``decoupled_weight_decay=True``).
        exclude_bias_and_norm: no weight decay on biases and normalisation parameters (see
            :func:`param_groups`).
        **kwargs: further hyperparameters of the class (``betas``, ``momentum``...).

    Raises:
        ValueError: unknown name, a hyperparameter the class lacks, one that contradicts the
            name (``"sgd"`` with ``momentum=0.9``), or one out of range or not finite (an
            :class:`~cnnlab.core.validate.InvalidArgument` naming it: ``lr must be a finite
            number >= 0, got inf``).
    """
    spec = get_optimizer_spec(name)
    cls = RULES[spec.rule]
    known = [k for k in inspect.signature(cls).parameters if k != "params"]
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise ValueError(
            f"optimizer {name!r} ({cls.__name__}) has no hyperparameter(s) {unknown}; "
            f"it takes {', '.join(known)}"
        )
    for key, value in spec.fixed.items():
        if key in kwargs and kwargs[key] != value:
            raise ValueError(f"optimizer {name!r} means {key}={value!r}, got {key}={kwargs[key]!r}")
    options = {
        **spec.defaults,
        **kwargs,
        **spec.fixed,
        "lr": spec.lr if lr is None else lr,
        "weight_decay": weight_decay,
    }
    check_hyperparameters(options, spec.positive)
    groups = param_groups(params, exclude_bias_and_norm)
    if not groups:
        raise ValueError("create_optimizer got no trainable parameters")
    try:
        return cls(groups, **options)
    except (TypeError, ValueError) as err:
        raise ValueError(f"optimizer {name!r}: {err}") from None
