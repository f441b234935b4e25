"""The NumPy-tier optimizers' factory, argument checks, torch-free import, and the Reddi et al.
(2018) counterexample where Adam converges to the worst point and AMSGrad does not."""

from __future__ import annotations

import inspect
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from cnnlab.core import optimizers as core_optimizers
from cnnlab.core.validate import InvalidArgument
from cnnlab.scratch import Parameter
from cnnlab.scratch import optim as so

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


def _params() -> list[Parameter]:
    return [Parameter(np.ones((2, 3))), Parameter(np.zeros(3))]


def test_factory_knows_the_notes_twelve_names() -> None:
    assert sorted(so.OPTIMIZERS) == sorted(NOTES_NAMES)


# name -> (class, options the built optimizer must have)
EXPECTED: dict[str, tuple[type, dict[str, Any]]] = {
    "sgd": (so.SGD, {"momentum": 0.0, "nesterov": False}),
    "minibatch": (so.SGD, {"momentum": 0.0, "nesterov": False}),
    "momentum": (so.SGD, {"momentum": 0.9, "nesterov": False}),
    "nesterov": (so.SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (so.Adagrad, {"lr": 1e-2, "eps": 1e-10}),
    "adadelta": (so.Adadelta, {"lr": 1.0, "rho": 0.9, "eps": 1e-6}),
    "rmsprop": (so.RMSprop, {"lr": 1e-2, "alpha": 0.99, "centered": False}),
    "adam": (so.Adam, {"lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False}),
    "adamax": (so.Adamax, {"lr": 2e-3}),
    "nadam": (so.NAdam, {"lr": 2e-3, "momentum_decay": 4e-3}),
    "amsgrad": (so.Adam, {"amsgrad": True}),
    "adabound": (so.AdaBound, {"final_lr": 0.1, "gamma": 1e-3, "amsbound": False}),
}


@pytest.mark.parametrize("name", NOTES_NAMES)
def test_factory_builds_the_named_rule_with_torch_defaults(name: str) -> None:
    cls, options = EXPECTED[name]
    opt = so.create_optimizer(name, _params())
    assert type(opt) is cls
    for key, value in options.items():
        assert opt.param_groups[0][key] == value, key


@pytest.mark.parametrize(
    "cls",
    [so.SGD, so.Adagrad, so.Adadelta, so.RMSprop, so.Adam, so.Adamax, so.NAdam],
    ids=lambda c: c.__name__,
)
def test_signature_is_torchs(cls: type) -> None:
    """Names, order, defaults and positional-or-keyword kind as torch.optim (whose extra
    options foreach, maximize, capturable... the NumPy tier leaves out)."""
    torch = pytest.importorskip("torch")
    ours = list(inspect.signature(cls).parameters.values())
    theirs = {
        n: p
        for n, p in inspect.signature(getattr(torch.optim, cls.__name__)).parameters.items()
        if n not in ("foreach", "maximize", "capturable", "differentiable", "fused")
    }
    assert [p.name for p in ours] == list(theirs)
    for p in ours:
        assert p.default == theirs[p.name].default, p.name
        assert p.kind == theirs[p.name].kind, p.name


def test_factory_passes_hyperparameters() -> None:
    opt = so.create_optimizer("nesterov", _params(), lr=0.3, momentum=0.5, weight_decay=1e-4)
    group = opt.param_groups[0]
    assert (group["lr"], group["momentum"], group["weight_decay"]) == (0.3, 0.5, 1e-4)


def test_minibatch_is_the_sgd_rule() -> None:
    a, b = _params(), _params()
    for p, q in zip(a, b, strict=True):
        p.grad = q.grad = np.full(p.shape, 0.25)
    so.create_optimizer("sgd", a, lr=0.1).step()
    so.create_optimizer("minibatch", b, lr=0.1).step()
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.data, q.data)
        np.testing.assert_allclose(p.data, np.asarray(q.data))


BAD_INPUT: list[tuple[str, dict[str, Any], str]] = [
    ("sgd", {"lr": -0.1}, "lr must be"),
    ("adam", {"lr": float("nan")}, "lr must be"),
    ("adam", {"eps": 0.0}, "eps must be"),
    ("rmsprop", {"eps": -1e-8}, "eps must be"),
    ("adam", {"betas": (1.0, 0.999)}, r"betas\[0\] must be a finite number in \[0, 1\)"),
    ("nadam", {"betas": (0.9, -0.1)}, r"betas\[1\]"),
    ("adabound", {"betas": (0.9,)}, "pair"),
    ("nesterov", {"momentum": -0.5}, "momentum must be"),
    ("momentum", {"momentum": 0.0}, "momentum must be a finite number > 0"),
    ("nesterov", {"dampening": 0.1}, "dampening = 0"),
    ("nesterov", {"momentum": 0.0}, "momentum must be a finite number > 0"),
    ("sgd", {"momentum": 0.9}, "means momentum=0.0"),
    ("amsgrad", {"amsgrad": False}, "means amsgrad=True"),
    ("adadelta", {"rho": 1.0}, "rho must be"),
    ("rmsprop", {"alpha": 1.5}, "alpha must be"),
    ("adam", {"weight_decay": -1e-4}, "weight_decay must be"),
    ("adagrad", {"lr_decay": -1.0}, "lr_decay must be"),
    ("adabound", {"gamma": 1.0}, "gamma must be"),
    ("adabound", {"final_lr": -0.1}, "final_lr must be"),
    ("adabound", {"lr": 0.0}, "base_lr must be a finite number > 0"),
    ("sgd", {"lr": float("inf")}, "lr must be a finite number >= 0, got inf"),
    ("adam", {"weight_decay": float("inf")}, "weight_decay must be a finite number >= 0, got inf"),
    ("adagrad", {"weight_decay": float("nan")}, "weight_decay must be a finite number"),
    ("rmsprop", {"momentum": float("inf")}, "momentum must be a finite number"),
    ("adamax", {"eps": float("inf")}, "eps must be a finite number > 0, got inf"),
    ("adabound", {"final_lr": float("inf")}, "final_lr must be a finite number"),
    ("nadam", {"momentum_decay": float("nan")}, "momentum_decay must be a finite number"),
    ("adadelta", {"lr": float("-inf")}, "lr must be a finite number"),
    ("adam", {"momentum": 0.9}, "no hyperparameter"),
    ("adamm", {}, "did you mean adam"),
]


@pytest.mark.parametrize(
    ("name", "options", "match"),
    BAD_INPUT,
    ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for n, o, _ in BAD_INPUT],
)
def test_bad_input_raises_value_error(name: str, options: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        so.create_optimizer(name, _params(), **options)


@pytest.mark.parametrize("key", ["lr", "weight_decay"])
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_values_name_the_argument_in_the_classes_too(key: str, value: float) -> None:
    """Built directly (not through the factory), every class refuses them, naming torch's
    argument, so that the CLI can show the flag."""
    for cls in (so.SGD, so.Adagrad, so.Adadelta, so.RMSprop, so.Adam, so.Adamax, so.NAdam):
        with pytest.raises(InvalidArgument, match=f"{key} must be a finite number") as info:
            cls(_params(), **{key: value})
        assert info.value.argument == key, cls.__name__
    with pytest.raises(InvalidArgument) as info:
        so.AdaBound(_params(), **{key: value})
    assert info.value.argument == key


def test_every_name_uses_the_shared_table() -> None:
    assert so.OPTIMIZERS is core_optimizers.OPTIMIZERS
    assert {spec.rule for spec in so.OPTIMIZERS.values()} == set(so.RULES)
    assert all(cls.__name__ == rule for rule, cls in so.RULES.items())


@pytest.mark.parametrize(
    ("name", "options"),
    [(n, {}) for n in NOTES_NAMES]
    + [("rmsprop", {"momentum": 0.9, "centered": True}), ("adabound", {"amsbound": True})],
    ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={x}" for k, x in v.items()),
)
def test_state_buffers_match_the_table(name: str, options: dict[str, Any]) -> None:
    """The NumPy rules keep exactly the buffers the table declares (and torch keeps: see
    tests/optim/test_names.py)."""
    p = Parameter(np.ones((3, 4)))
    opt = so.create_optimizer(name, [p], **options)
    p.grad = np.full((3, 4), 0.5)
    opt.step()
    buffers = [v for v in opt.state[p].values() if isinstance(v, np.ndarray) and v.shape == (3, 4)]
    assert len(buffers) == core_optimizers.state_buffers(name, **options)


def test_bad_params_raise_value_error() -> None:
    with pytest.raises(ValueError, match="empty parameter list"):
        so.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="single Parameter"):
        so.SGD(Parameter(np.ones(2)), lr=0.1)
    with pytest.raises(ValueError, match=r"cnnlab.scratch.Parameter objects, got ndarray"):
        so.SGD([np.ones(2)], lr=0.1)
    p = Parameter(np.ones(2))
    with pytest.raises(ValueError, match="more than one group"):
        so.SGD([{"params": [p]}, {"params": [p], "lr": 0.2}], lr=0.1)


def test_param_groups_override_defaults_and_zero_grad_clears() -> None:
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = so.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad, b.grad = np.ones(2), np.ones(2)
    opt.step()
    np.testing.assert_allclose(a.data, [0.9, 0.9])
    np.testing.assert_allclose(b.data, [0.5, 0.5])
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_scratch_optim_does_not_import_torch() -> None:
    code = "import sys, cnnlab.scratch.optim; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize(("amsgrad", "end"), [(False, 1.0), (True, -1.0)], ids=["adam", "amsgrad"])
@pytest.mark.parametrize("x0", [0.0, 1.0], ids=["x0=0", "x0=1"])
def test_reddi_counterexample(amsgrad: bool, end: float, x0: float) -> None:
    """Reddi, Kale and Kumar (ICLR 2018), Section 3: on F = [-1, 1] with f_t(x) = C x for
    t mod 3 == 1 and -x otherwise (C = 3), the regret-minimising point is x = -1 (each cycle
    sums to (C - 2) x), yet Adam with beta1 = 0, beta2 = 1 / (1 + C^2) and step alpha / sqrt(t)
    drifts to x = +1. AMSGrad's max of the second moment fixes it."""
    c = 3.0
    p = Parameter(np.array([x0]))
    opt = so.Adam([p], lr=0.5, betas=(0.0, 1 / (1 + c**2)), amsgrad=amsgrad)
    for t in range(1, 3001):
        opt.param_groups[0]["lr"] = 0.5 / np.sqrt(t)
        p.grad = np.array([c if t % 3 == 1 else -1.0])
        opt.step()
        np.clip(p.data, -1.0, 1.0, out=p.data)  # projection onto F
    assert abs(p.data[0] - end) < 0.01, p.data
