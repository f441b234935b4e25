"""The one optimizer name table (``cnnlab.core.optimizers``) against what torch.optim and the
``adabound`` 0.0.5 package really do: the buffers they keep per parameter, their default learning
rates, and the hyperparameter ranges both tiers enforce."""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Any

import pytest
import torch

from cnnlab.core import optimizers as table
from cnnlab.core.validate import InvalidArgument

adabound_ref = pytest.importorskip("adabound")

# The independent side: the classes that really run each rule.
REFERENCE_CLASSES: dict[str, type[torch.optim.Optimizer]] = {
    "SGD": torch.optim.SGD,
    "Adagrad": torch.optim.Adagrad,
    "Adadelta": torch.optim.Adadelta,
    "RMSprop": torch.optim.RMSprop,
    "Adam": torch.optim.Adam,
    "Adamax": torch.optim.Adamax,
    "NAdam": torch.optim.NAdam,
    "AdaBound": adabound_ref.AdaBound,
}

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

# The option variants that change the buffer count (and the count the brief expects for them).
VARIANTS: list[tuple[str, dict[str, Any]]] = [(name, {}) for name in NOTES_NAMES] + [
    ("rmsprop", {"momentum": 0.9}),
    ("rmsprop", {"centered": True}),
    ("rmsprop", {"momentum": 0.5, "centered": True}),
    ("adabound", {"amsbound": True}),
]


def count_param_sized_buffers(name: str, options: dict[str, Any]) -> int:
    """Build the reference class for ``name``, take one step, count the tensors in its state
    that are shaped like the parameter (scalars such as ``step`` do not count)."""
    spec = table.OPTIMIZERS[name]
    p = torch.nn.Parameter(torch.randn(3, 4, dtype=torch.float64))
    opt = REFERENCE_CLASSES[spec.rule]([p], **{**spec.defaults, **options, **spec.fixed})
    p.grad = torch.randn_like(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the reference's add(Number, Tensor)
        opt.step()
    state = opt.state[p]
    return sum(isinstance(v, torch.Tensor) and v.shape == p.shape for v in state.values())


def test_the_table_has_the_notes_twelve_names() -> None:
    assert list(table.OPTIMIZERS) == NOTES_NAMES


@pytest.mark.parametrize(
    ("name", "options"),
    VARIANTS,
    ids=[n + "".join(f"-{k}={v}" for k, v in o.items()) for n, o in VARIANTS],
)
def test_state_buffers_match_a_real_optimizer(name: str, options: dict[str, Any]) -> None:
    assert table.state_buffers(name, **options) == count_param_sized_buffers(name, options)


def test_state_buffers_per_name() -> None:
    """The counts, written out: what a memory estimate multiplies the parameter bytes by."""
    expected = {
        "sgd": 0,
        "minibatch": 0,
        "momentum": 1,
        "nesterov": 1,
        "adagrad": 1,
        "adadelta": 2,
        "rmsprop": 1,
        "adam": 2,
        "amsgrad": 3,
        "adamax": 2,
        "nadam": 2,
        "adabound": 2,
    }
    assert {n: table.state_buffers(n) for n in NOTES_NAMES} == expected
    assert table.state_buffers("adabound", amsbound=True) == 3


@pytest.mark.parametrize("name", NOTES_NAMES)
def test_default_lr_is_the_reference_class_default(name: str) -> None:
    spec = table.OPTIMIZERS[name]
    default = inspect.signature(REFERENCE_CLASSES[spec.rule]).parameters["lr"].default
    assert spec.lr == default


def test_every_name_has_a_race_lr_on_every_landscape() -> None:
    for name, spec in table.OPTIMIZERS.items():
        assert set(spec.race_lr) == {"rosenbrock", "beale", "saddle", "himmelblau"}, name
        assert all(lr > 0 and math.isfinite(lr) for lr in spec.race_lr.values()), name


def test_race_lr_without_an_entry_raises_value_error() -> None:
    with pytest.raises(ValueError, match="'adam' has no race learning rate for 'sphere'"):
        table.race_lr("adam", "sphere")


def test_unknown_name_lists_close_matches() -> None:
    with pytest.raises(InvalidArgument, match="did you mean adam") as info:
        table.get_optimizer_spec("adamm")
    assert info.value.argument == "optimizer"


BAD: list[tuple[dict[str, Any], str]] = [
    ({"lr": math.inf}, "lr must be a finite number >= 0, got inf"),
    ({"lr": math.nan}, "lr must be a finite number >= 0, got nan"),
    ({"lr": -1.0}, "lr must be a finite number >= 0"),
    ({"weight_decay": math.inf}, "weight_decay must be a finite number >= 0, got inf"),
    ({"eps": 0.0}, "eps must be a finite number > 0"),
    ({"momentum": -math.inf}, "momentum must be a finite number >= 0"),
    ({"betas": (0.9, 1.0)}, r"betas\[1\] must be a finite number in \[0, 1\)"),
    ({"betas": (math.nan, 0.9)}, r"betas\[0\] must be a finite number"),
    ({"betas": "ab"}, "betas must be a pair"),
    ({"gamma": 1.0}, r"gamma must be a finite number in \(0, 1\)"),
    ({"alpha": 1.0}, r"alpha must be a finite number in \[0, 1\)"),
    ({"some_future_option": math.inf}, "some_future_option must be a finite number"),
    ({"lr": True}, "lr must be a finite number"),
]


@pytest.mark.parametrize(
    ("options", "match"), BAD, ids=[f"{next(iter(o))}={next(iter(o.values()))}" for o, _ in BAD]
)
def test_check_hyperparameters_names_the_argument(options: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidArgument, match=match) as info:
        table.check_hyperparameters(options)
    assert info.value.argument.split("[")[0] == next(iter(options))


def test_positive_options() -> None:
    table.check_hyperparameters({"momentum": 0.0})
    with pytest.raises(InvalidArgument, match=r"momentum must be a finite number > 0, got 0\.0"):
        table.check_hyperparameters({"momentum": 0.0}, positive=("momentum",))
