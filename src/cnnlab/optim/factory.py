"""``create_optimizer(name, params, lr, weight_decay)``: the notes' twelve names for PyTorch.

Where torch has the rule we return torch's class (momentum and Nesterov are ``SGD`` options,
AMSGrad is an ``Adam`` option); AdaBound is ours (:class:`cnnlab.optim.AdaBound`).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from cnnlab.core.names import unknown_name_message
from cnnlab.optim.adabound import AdaBound

_NORM_TYPES: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._NormBase,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.LocalResponseNorm,
    nn.RMSNorm,
)


@dataclass(frozen=True)
class OptimizerSpec:
    """How a name of the notes maps to an optimizer class.

    Attributes:
        cls: the ``torch.optim.Optimizer`` class.
        fixed: options that *define* the rule (giving another value is an error).
        defaults: hyperparameters the name implies unless given (momentum = 0.9).
        summary: one line for listings.
    """

    cls: type[torch.optim.Optimizer]
    fixed: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    summary: str = ""


OPTIMIZERS: dict[str, OptimizerSpec] = {
    "sgd": OptimizerSpec(
        torch.optim.SGD, {"momentum": 0.0, "nesterov": False}, summary="theta -= lr g"
    ),
    "minibatch": OptimizerSpec(
        torch.optim.SGD,
        {"momentum": 0.0, "nesterov": False},
        summary="SGD on mini-batches (the batch size is the loader's)",
    ),
    "momentum": OptimizerSpec(
        torch.optim.SGD, {"nesterov": False}, {"momentum": 0.9}, "SGD with heavy-ball momentum"
    ),
    "nesterov": OptimizerSpec(
        torch.optim.SGD, {"nesterov": True}, {"momentum": 0.9}, "SGD with Nesterov momentum"
    ),
    "adagrad": OptimizerSpec(torch.optim.Adagrad, summary="divide by the root of summed g^2"),
    "adadelta": OptimizerSpec(torch.optim.Adadelta, summary="RMSProp with unit-correct steps"),
    "rmsprop": OptimizerSpec(torch.optim.RMSprop, summary="divide by a running RMS of g"),
    "adam": OptimizerSpec(
        torch.optim.Adam, {"amsgrad": False}, summary="momentum + RMSProp, bias-corrected"
    ),
    "adamax": OptimizerSpec(torch.optim.Adamax, summary="Adam with the infinity norm"),
    "nadam": OptimizerSpec(torch.optim.NAdam, summary="Adam with Nesterov momentum"),
    "amsgrad": OptimizerSpec(
        torch.optim.Adam, {"amsgrad": True}, summary="Adam with the max of the second moment"
    ),
    "adabound": OptimizerSpec(AdaBound, summary="Adam clipped into bounds that tend to SGD"),
}


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


def _check_common(options: dict[str, Any]) -> None:
    """The checks every rule shares, so that all twelve names reject the same bad values."""
    checks = {
        "lr": (lambda v: v >= 0, ">= 0"),
        "weight_decay": (lambda v: v >= 0, ">= 0"),
        "eps": (lambda v: v > 0, "> 0"),
        "momentum": (lambda v: v >= 0, ">= 0"),
    }
    for key, (ok, allowed) in checks.items():
        if key in options and not (isinstance(options[key], (int, float)) and ok(options[key])):
            raise ValueError(f"{key} must be a number {allowed}, got {options[key]!r}")
    if "betas" in options:
        betas = options["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not (isinstance(beta, (int, float)) and 0 <= beta < 1):
                raise ValueError(f"betas[{i}] must be in [0, 1), got {beta!r}")


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
        name: one of :data:`OPTIMIZERS`.
        params: a model, its parameters, or parameter groups.
        lr: learning rate (>= 0); ``None`` takes the class's default (1.0 for AdaDelta, 1e-2
            for AdaGrad and RMSProp, 2e-3 for Adamax and NAdam, 1e-3 otherwise).
        weight_decay: L2 penalty (>= 0; AdamW-style when ``decoupled_weight_decay=True``).
        exclude_bias_and_norm: no weight decay on biases and normalisation parameters (see
            :func:`param_groups`).
        **kwargs: further hyperparameters of the class (``betas``, ``momentum``...).

    Raises:
        ValueError: unknown name, a hyperparameter the class lacks, one that contradicts the
            name (``"sgd"`` with ``momentum=0.9``), or one out of range.
    """
    spec = OPTIMIZERS.get(name)
    if spec is None:
        raise ValueError(unknown_name_message("optimizer", name, OPTIMIZERS))
    known = [k for k in inspect.signature(spec.cls).parameters if k != "params"]
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise ValueError(
            f"optimizer {name!r} ({spec.cls.__name__}) has no hyperparameter(s) {unknown}; "
            f"it takes {', '.join(known)}"
        )
    for key, value in spec.fixed.items():
        if key in kwargs and kwargs[key] != value:
            raise ValueError(f"optimizer {name!r} means {key}={value!r}, got {key}={kwargs[key]!r}")
    options = {**spec.defaults, **kwargs, **spec.fixed, "weight_decay": weight_decay}
    if lr is not None:
        options["lr"] = lr
    _check_common(options)
    if name == "momentum" and not options["momentum"] > 0:
        raise ValueError(f"optimizer 'momentum' needs momentum > 0, got {options['momentum']!r}")
    groups = param_groups(params, exclude_bias_and_norm)
    if not groups:
        raise ValueError("create_optimizer got no trainable parameters")
    try:
        return spec.cls(groups, **options)
    except (TypeError, ValueError) as err:
        raise ValueError(f"optimizer {name!r}: {err}") from None
