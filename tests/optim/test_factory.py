"""``cnnlab.optim.create_optimizer``: the notes' twelve names, torch classes where torch has the
rule, the bias/norm weight-decay exclusion, and ValueError for bad input."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from torch import nn

from cnnlab.core import optimizers as core_optimizers
from cnnlab.core.validate import InvalidArgument
from cnnlab.optim import OPTIMIZERS, AdaBound, create_optimizer, param_groups
from cnnlab.optim.factory import RULES
from cnnlab.scratch import optim as scratch_optim

NOTES_NAMES = [
    "sgd",
    "minibatch",
    "momentum",
    "nesterov",
    "adagrad",
    "adadelta",
    "rmsprop",
    "adam",
    "adamax",
    "nadam",
    "amsgrad",
    "adabound",
]

# name -> (class, options the group must carry); defaults are torch's own.
EXPECTED: dict[str, tuple[type[torch.optim.Optimizer], dict[str, Any]]] = {
    "sgd": (torch.optim.SGD, {"momentum": 0.0, "nesterov": False, "lr": 1e-3}),
    "minibatch": (torch.optim.SGD, {"momentum": 0.0, "nesterov": False}),
    "momentum": (torch.optim.SGD, {"momentum": 0.9, "nesterov": False}),
    "nesterov": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True, "dampening": 0}),
    "adagrad": (torch.optim.Adagrad, {"lr": 1e-2}),
    "adadelta": (torch.optim.Adadelta, {"lr": 1.0, "rho": 0.9}),
    "rmsprop": (torch.optim.RMSprop, {"lr": 1e-2, "alpha": 0.99}),
    "adam": (torch.optim.Adam, {"lr": 1e-3, "amsgrad": False}),
    "adamax": (torch.optim.Adamax, {"lr": 2e-3}),
    "nadam": (torch.optim.NAdam, {"lr": 2e-3}),
    "amsgrad": (torch.optim.Adam, {"amsgrad": True}),
    "adabound": (AdaBound, {"lr": 1e-3, "final_lr": 0.1, "amsbound": False}),
}


def small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, bias=False),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3),
        nn.GroupNorm(2, 4),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 3),
        nn.LayerNorm(3),
    )


def test_both_tiers_read_the_one_name_table() -> None:
    assert sorted(OPTIMIZERS) == sorted(NOTES_NAMES)
    assert OPTIMIZERS is scratch_optim.OPTIMIZERS is core_optimizers.OPTIMIZERS
    rules = {spec.rule for spec in OPTIMIZERS.values()}
    assert set(RULES) == set(scratch_optim.RULES) == rules
    for rule, cls in RULES.items():
        assert cls.__name__ == scratch_optim.RULES[rule].__name__ == rule


@pytest.mark.parametrize("name", NOTES_NAMES)
def test_builds_the_named_rule_and_steps(name: str) -> None:
    cls, options = EXPECTED[name]
    model = small_cnn()
    opt = create_optimizer(name, model.parameters())  # as `cnnlab train` calls it (lr aside)
    assert type(opt) is cls
    for key, value in options.items():
        assert opt.param_groups[0][key] == value, key
    before = [p.detach().clone() for p in model.parameters()]
    model(torch.randn(2, 1, 8, 8)).square().mean().backward()
    opt.step()
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))


def test_lr_weight_decay_and_kwargs_reach_the_optimizer() -> None:
    opt = create_optimizer(
        "nesterov", small_cnn().parameters(), lr=0.05, weight_decay=1e-4, momentum=0.8
    )
    group = opt.param_groups[0]
    assert (group["lr"], group["weight_decay"], group["momentum"]) == (0.05, 1e-4, 0.8)
    opt = create_optimizer("adabound", small_cnn(), lr=1e-2, amsbound=True, final_lr=0.05)
    assert opt.param_groups[0]["amsbound"] and opt.param_groups[0]["base_lr"] == 1e-2


def test_exclude_bias_and_norm_with_a_module() -> None:
    model = small_cnn()
    opt = create_optimizer("sgd", model, lr=0.1, weight_decay=0.01, exclude_bias_and_norm=True)
    names = {id(p): n for n, p in model.named_parameters()}
    decay = sorted(names[id(p)] for p in opt.param_groups[0]["params"])
    no_decay = sorted(names[id(p)] for p in opt.param_groups[1]["params"])
    assert decay == ["0.weight", "3.weight", "6.weight"]
    assert no_decay == sorted(
        ["1.weight", "1.bias", "3.bias", "4.weight", "4.bias", "6.bias", "7.weight", "7.bias"]
    )
    assert opt.param_groups[0]["weight_decay"] == 0.01
    assert opt.param_groups[1]["weight_decay"] == 0.0


def test_excluded_parameters_do_not_decay() -> None:
    """With zero gradients one SGD step multiplies decayed weights by 1 - lr * wd exactly."""
    model = small_cnn()
    opt = create_optimizer("sgd", model, lr=0.1, weight_decay=0.5, exclude_bias_and_norm=True)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    for n, p in model.named_parameters():
        factor = 0.95 if n in ("0.weight", "3.weight", "6.weight") else 1.0
        torch.testing.assert_close(p.detach(), before[n] * factor)


def test_exclude_with_plain_tensors_uses_the_ndim_rule() -> None:
    model = small_cnn()
    opt = create_optimizer(
        "adam", model.parameters(), weight_decay=0.01, exclude_bias_and_norm=True
    )
    assert all(p.ndim > 1 for p in opt.param_groups[0]["params"])
    assert all(p.ndim <= 1 for p in opt.param_groups[1]["params"])
    assert len(opt.param_groups[0]["params"]) + len(opt.param_groups[1]["params"]) == len(
        list(model.parameters())
    )


def test_exclude_splits_given_groups_and_keeps_their_options() -> None:
    model = small_cnn()
    groups = [
        {"params": list(model[0].parameters()) + list(model[1].parameters()), "lr": 0.5},
        {"params": list(model[6].parameters())},
    ]
    got = param_groups(groups, exclude_bias_and_norm=True)
    assert [len(g["params"]) for g in got] == [1, 2, 1, 1]
    assert [g.get("lr") for g in got] == [0.5, 0.5, None, None]
    assert [g.get("weight_decay") for g in got] == [None, 0.0, None, 0.0]


def test_frozen_parameters_of_a_module_are_left_out() -> None:
    model = small_cnn()
    model[0].weight.requires_grad_(False)
    opt = create_optimizer("sgd", model, lr=0.1)
    assert all(p is not model[0].weight for p in opt.param_groups[0]["params"])


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("adamm", {}, "did you mean adam"),
    ("sgd", {"lr": -0.1}, "lr must be"),
    ("adam", {"eps": 0.0}, "eps must be"),
    ("adam", {"betas": (0.9, 1.0)}, r"betas\[1\] must be a finite number in \[0, 1\)"),
    ("nadam", {"betas": (0.9,)}, "pair"),
    ("rmsprop", {"momentum": -0.9}, "momentum must be"),
    ("momentum", {"momentum": 0.0}, "momentum must be a finite number > 0"),
    ("nesterov", {"momentum": 0.0}, "momentum must be a finite number > 0"),
    ("nesterov", {"dampening": 0.1}, "optimizer 'nesterov'"),
    ("sgd", {"momentum": 0.9}, "means momentum=0.0"),
    ("adam", {"amsgrad": True}, "means amsgrad=False"),
    ("adam", {"weight_decay": -1.0}, "weight_decay must be"),
    ("adam", {"momentum": 0.9}, "no hyperparameter"),
    ("adabound", {"gamma": 1.5}, "gamma must be"),
]


@pytest.mark.parametrize(
    ("name", "options", "match"),
    BAD,
    ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for n, o, _ in BAD],
)
def test_bad_input_raises_value_error(name: str, options: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        create_optimizer(name, small_cnn().parameters(), **options)


@pytest.mark.parametrize("name", NOTES_NAMES)
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("lr", math.inf),
        ("lr", math.nan),
        ("lr", -math.inf),
        ("weight_decay", math.inf),
        ("weight_decay", math.nan),
    ],
    ids=["lr=inf", "lr=nan", "lr=-inf", "weight_decay=inf", "weight_decay=nan"],
)
def test_non_finite_lr_and_weight_decay_are_refused_naming_them(
    name: str, key: str, value: float
) -> None:
    """torch.optim itself accepts lr=inf (``0 <= inf``) and trains to NaN; we refuse it up
    front, and the CLI shows the flag (``--lr``) because the error names the argument."""
    with pytest.raises(InvalidArgument, match=f"{key} must be a finite number >= 0") as info:
        create_optimizer(name, small_cnn().parameters(), **{key: value})
    assert info.value.argument == key


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("adam", {"eps": math.inf}),
        ("adam", {"betas": (0.9, math.nan)}),
        ("nesterov", {"momentum": math.inf}),
        ("sgd", {"dampening": math.nan}),
        ("rmsprop", {"alpha": math.nan}),
        ("adagrad", {"lr_decay": math.inf}),
        ("adagrad", {"initial_accumulator_value": math.inf}),
        ("adadelta", {"rho": math.inf}),
        ("nadam", {"momentum_decay": math.inf}),
        ("adabound", {"final_lr": math.inf}),
        ("adabound", {"gamma": math.nan}),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={x}" for k, x in v.items()),
)
def test_every_non_finite_hyperparameter_is_refused(name: str, options: dict[str, Any]) -> None:
    key = next(iter(options))
    with pytest.raises(InvalidArgument, match="must be a finite number") as info:
        create_optimizer(name, small_cnn().parameters(), **options)
    assert info.value.argument.split("[")[0] == key


def test_no_trainable_parameters_raises_value_error() -> None:
    model = small_cnn().requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        create_optimizer("adam", model)
