"""Each NumPy-tier rule equals its reference step for step over 200 steps of a non-convex problem.

References: torch.optim (float64, default single-tensor CPU path) for the eleven rules torch has;
the authors' ``adabound`` package (0.0.5) for AdaBound and AMSBound. Parameters are compared after
every step (relative 1e-9), and at the end every state buffer is compared under torch's name.

The problem: a tanh network (6 hidden units, 3 tensors) fitting sin(2x) from 8-sample
mini-batches that change every step. The mini-batch noise matters: on a deterministic problem
near convergence, centred RMSProp divides by sqrt(E[g^2] - E[g]^2) of a vanishing variance, which
amplifies last-bit rounding differences (torch's kernels use fused multiply-adds) to ~1e-5.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import torch

adabound_ref = pytest.importorskip("adabound")

from cnnlab.scratch import Parameter  # noqa: E402
from cnnlab.scratch import optim as so  # noqa: E402

STEPS = 200
RTOL = 1e-9


@pytest.fixture(autouse=True)
def _float64_default() -> Iterator[None]:
    # torch keeps scalar state (NAdam's mu_product, step) in the default dtype; use float64.
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


class Problem:
    """A small non-convex regression with a fixed sequence of mini-batches (seeded)."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(64, 3))
        self.x = torch.tensor(x)
        self.y = torch.sin(2 * self.x[:, :2]) + 0.1 * torch.tensor(rng.normal(size=(64, 2)))
        self.batches = [torch.tensor(rng.choice(64, 8, replace=False)) for _ in range(STEPS)]
        self.init = [
            rng.normal(size=(6, 3)) * 0.5,
            rng.normal(size=6) * 0.1,
            rng.normal(size=(2, 6)) * 0.5,
        ]

    def loss(self, t: int, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
        idx = self.batches[t]
        return ((torch.tanh(self.x[idx] @ w1.T + b1) @ w2.T - self.y[idx]) ** 2).mean()

    def numpy_grads(self, t: int, params: list[Parameter]) -> None:
        tensors = [torch.tensor(p.data, requires_grad=True) for p in params]
        for p, g in zip(params, torch.autograd.grad(self.loss(t, *tensors), tensors), strict=True):
            p.grad = g.numpy()


PROBLEM = Problem()


def run_pair(
    make_ours: Callable[[list[Parameter]], so.Optimizer],
    make_ref: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    on_step: Callable[[int, so.Optimizer, torch.optim.Optimizer], None] | None = None,
    before_ref_step: Callable[[torch.optim.Optimizer], None] | None = None,
) -> tuple[list[Parameter], list[torch.Tensor], so.Optimizer, torch.optim.Optimizer]:
    """Run both for STEPS steps, asserting equal parameters after every step.

    ``on_step`` runs before each step's gradients (to change the lr); ``before_ref_step`` runs on
    the reference between its backward and its step.
    """
    ours = [Parameter(a.copy()) for a in PROBLEM.init]
    ref = [torch.tensor(a.copy(), requires_grad=True) for a in PROBLEM.init]
    opt, opt_ref = make_ours(ours), make_ref(ref)
    for t in range(STEPS):
        if on_step is not None:
            on_step(t, opt, opt_ref)
        PROBLEM.numpy_grads(t, ours)
        opt.step()
        opt_ref.zero_grad()
        PROBLEM.loss(t, *ref).backward()
        if before_ref_step is not None:
            before_ref_step(opt_ref)
        opt_ref.step()
        for p, r in zip(ours, ref, strict=True):
            np.testing.assert_allclose(
                p.data, r.detach().numpy(), rtol=RTOL, atol=0, err_msg=f"{t}"
            )
    moved = max(np.abs(p.data - a).max() for p, a in zip(ours, PROBLEM.init, strict=True))
    assert moved > 0.05, "the trajectory barely moved; the comparison would be vacuous"
    return ours, ref, opt, opt_ref


# (rule, torch class, hyperparameters): several settings per rule, weight decay on and off.
TORCH_CASES: dict[str, tuple[type[so.Optimizer], type[torch.optim.Optimizer], dict[str, Any]]] = {
    "sgd": (so.SGD, torch.optim.SGD, {"lr": 0.05}),
    "sgd-wd": (so.SGD, torch.optim.SGD, {"lr": 0.05, "weight_decay": 1e-2}),
    "momentum": (so.SGD, torch.optim.SGD, {"lr": 0.02, "momentum": 0.9}),
    "momentum-damp-wd": (
        so.SGD,
        torch.optim.SGD,
        {"lr": 0.02, "momentum": 0.8, "dampening": 0.5, "weight_decay": 1e-2},
    ),
    "nesterov": (so.SGD, torch.optim.SGD, {"lr": 0.02, "momentum": 0.9, "nesterov": True}),
    "nesterov-wd": (
        so.SGD,
        torch.optim.SGD,
        {"lr": 0.02, "momentum": 0.5, "nesterov": True, "weight_decay": 5e-2},
    ),
    "adagrad": (so.Adagrad, torch.optim.Adagrad, {"lr": 0.05}),
    "adagrad-decay-wd": (
        so.Adagrad,
        torch.optim.Adagrad,
        {"lr": 0.1, "lr_decay": 1e-2, "weight_decay": 1e-2},
    ),
    "adagrad-init-eps": (
        so.Adagrad,
        torch.optim.Adagrad,
        {"lr": 0.1, "initial_accumulator_value": 0.1, "eps": 1e-6},
    ),
    "adadelta": (so.Adadelta, torch.optim.Adadelta, {}),
    "adadelta-rho-wd": (so.Adadelta, torch.optim.Adadelta, {"rho": 0.5, "weight_decay": 1e-2}),
    "adadelta-lr-eps": (so.Adadelta, torch.optim.Adadelta, {"lr": 0.5, "eps": 1e-4}),
    "rmsprop": (so.RMSprop, torch.optim.RMSprop, {}),
    "rmsprop-alpha-wd": (
        so.RMSprop,
        torch.optim.RMSprop,
        {"lr": 3e-3, "alpha": 0.9, "weight_decay": 1e-2},
    ),
    "rmsprop-centered": (so.RMSprop, torch.optim.RMSprop, {"lr": 3e-3, "centered": True}),
    "rmsprop-momentum": (so.RMSprop, torch.optim.RMSprop, {"lr": 3e-3, "momentum": 0.9}),
    "rmsprop-centered-momentum-wd": (
        so.RMSprop,
        torch.optim.RMSprop,
        {"lr": 3e-3, "centered": True, "momentum": 0.5, "weight_decay": 1e-2, "eps": 1e-6},
    ),
    "adam": (so.Adam, torch.optim.Adam, {"lr": 1e-2}),
    "adam-wd": (so.Adam, torch.optim.Adam, {"lr": 1e-2, "weight_decay": 1e-2}),
    "adam-betas-eps": (
        so.Adam,
        torch.optim.Adam,
        {"lr": 1e-2, "betas": (0.5, 0.9), "eps": 1e-4},
    ),
    "amsgrad": (so.Adam, torch.optim.Adam, {"lr": 1e-2, "amsgrad": True}),
    "amsgrad-wd": (
        so.Adam,
        torch.optim.Adam,
        {"lr": 1e-2, "amsgrad": True, "weight_decay": 1e-2, "betas": (0.8, 0.99)},
    ),
    "adamw": (
        so.Adam,
        torch.optim.Adam,
        {"lr": 1e-2, "weight_decay": 0.1, "decoupled_weight_decay": True},
    ),
    "adamax": (so.Adamax, torch.optim.Adamax, {"lr": 1e-2}),
    "adamax-wd": (so.Adamax, torch.optim.Adamax, {"lr": 1e-2, "weight_decay": 1e-2}),
    "adamax-betas-eps": (
        so.Adamax,
        torch.optim.Adamax,
        {"lr": 2e-2, "betas": (0.5, 0.9), "eps": 1e-3},
    ),
    "nadam": (so.NAdam, torch.optim.NAdam, {"lr": 1e-2}),
    "nadam-wd": (so.NAdam, torch.optim.NAdam, {"lr": 1e-2, "weight_decay": 1e-2}),
    "nadam-psi": (
        so.NAdam,
        torch.optim.NAdam,
        {"lr": 1e-2, "momentum_decay": 0.05, "betas": (0.8, 0.99)},
    ),
    "nadamw": (
        so.NAdam,
        torch.optim.NAdam,
        {"lr": 1e-2, "weight_decay": 0.1, "decoupled_weight_decay": True},
    ),
}


@pytest.mark.parametrize("case", list(TORCH_CASES))
def test_rule_equals_torch(case: str) -> None:
    ours_cls, torch_cls, hyper = TORCH_CASES[case]
    _, ref, opt, opt_ref = run_pair(
        lambda ps: ours_cls(ps, **hyper), lambda ts: torch_cls(ts, **hyper)
    )
    # The state holds torch's buffers under torch's names, with torch's values.
    for p, r in zip(opt.param_groups[0]["params"], ref, strict=True):
        ours_state, ref_state = opt.state[p], opt_ref.state[r]
        assert set(ours_state) == set(ref_state)
        for key, value in ref_state.items():
            expected = value.detach().numpy() if torch.is_tensor(value) else value
            np.testing.assert_allclose(ours_state[key], expected, rtol=RTOL, atol=1e-300)


def test_parameter_without_grad_is_skipped_like_torch() -> None:
    ours = [Parameter(a.copy()) for a in PROBLEM.init]
    ref = [torch.tensor(a.copy(), requires_grad=True) for a in PROBLEM.init]
    opt, opt_ref = so.Adam(ours, lr=0.1), torch.optim.Adam(ref, lr=0.1)
    for t in range(5):
        PROBLEM.numpy_grads(t, ours)
        ours[1].grad = None
        opt.step()
        opt_ref.zero_grad()
        PROBLEM.loss(t, *ref).backward()
        ref[1].grad = None
        opt_ref.step()
    np.testing.assert_array_equal(ours[1].data, PROBLEM.init[1])
    assert ours[1] not in opt.state
    for p, r in zip(ours, ref, strict=True):
        np.testing.assert_allclose(p.data, r.detach().numpy(), rtol=RTOL)


# ---------------------------------------------------------------- AdaBound vs the authors' package
ADABOUND_CASES: dict[str, dict[str, Any]] = {
    "adabound": {"lr": 1e-2},
    "adabound-wd": {"lr": 1e-2, "weight_decay": 1e-2},
    "adabound-tight-bounds": {"lr": 1e-2, "final_lr": 0.05, "gamma": 0.1},
    "adabound-betas-eps": {"lr": 3e-3, "betas": (0.5, 0.9), "eps": 1e-4, "final_lr": 0.3},
    "amsbound": {"lr": 1e-2, "amsbound": True},
    "amsbound-wd-tight": {
        "lr": 1e-2,
        "amsbound": True,
        "weight_decay": 1e-2,
        "final_lr": 0.05,
        "gamma": 0.05,
    },
}


@pytest.mark.parametrize("case", list(ADABOUND_CASES))
def test_adabound_equals_reference(case: str) -> None:
    hyper = ADABOUND_CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the package uses add(Number, Tensor)
        _, ref, opt, opt_ref = run_pair(
            lambda ps: so.AdaBound(ps, **hyper), lambda ts: adabound_ref.AdaBound(ts, **hyper)
        )
    for p, r in zip(opt.param_groups[0]["params"], ref, strict=True):
        assert set(opt.state[p]) == set(opt_ref.state[r])
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            if key in opt_ref.state[r]:
                expected = opt_ref.state[r][key].numpy()
                np.testing.assert_allclose(opt.state[p][key], expected, rtol=RTOL, atol=1e-300)


def test_adabound_final_lr_follows_a_changed_lr_like_reference() -> None:
    def halve_at_100(t: int, opt: so.Optimizer, opt_ref: torch.optim.Optimizer) -> None:
        if t in (100, 150):
            for group in (*opt.param_groups, *opt_ref.param_groups):
                group["lr"] *= 0.5

    hyper = {"lr": 1e-2, "final_lr": 0.05, "gamma": 0.02}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _, _, opt, _ = run_pair(
            lambda ps: so.AdaBound(ps, **hyper),
            lambda ts: adabound_ref.AdaBound(ts, **hyper),
            on_step=halve_at_100,
        )
    assert opt.param_groups[0]["base_lr"] == 1e-2


def test_adabound_decoupled_is_reference_plus_adamw_shrink() -> None:
    """AdaBoundW: theta *= 1 - lr * wd, then the reference's step with no L2 term."""
    lr, wd = 1e-2, 0.1

    def shrink(opt_ref: torch.optim.Optimizer) -> None:
        with torch.no_grad():
            for r in opt_ref.param_groups[0]["params"]:
                r.mul_(1 - lr * wd)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        run_pair(
            lambda ps: so.AdaBound(ps, lr=lr, weight_decay=wd, decoupled_weight_decay=True),
            lambda ts: adabound_ref.AdaBound(ts, lr=lr),
            before_ref_step=shrink,
        )
