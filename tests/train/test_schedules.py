"""build_scheduler: each name's lr sequence equals torch's scheduler built by hand and the
closed form; warmup equals torch's SequentialLR; options in epochs; bad input names the field."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch
from torch.optim import lr_scheduler as L

from cnnlab.core.validate import InvalidArgument
from cnnlab.train import build_scheduler, load_checkpoint, save_checkpoint
from cnnlab.train.schedules import is_per_epoch, replay

LR, E, S = 0.1, 6, 5  # base lr, epochs, iterations per epoch


def _opt(lr: float = LR, kind: str = "sgd") -> torch.optim.Optimizer:
    params = [torch.zeros(2, requires_grad=True)]
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.SGD(params, lr=lr, momentum=0.9 if kind == "momentum" else 0.0)


def _lrs(scheduler: L.LRScheduler, optimizer: torch.optim.Optimizer, n: int) -> list[float]:
    """The lr of each of ``n`` iterations, stepping after each (as the loop does)."""
    out = []
    for _ in range(n):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return out


# name -> (options, torch's scheduler by hand on an optimizer, closed form of iteration i or None)
CASES = {
    "none": ({}, lambda o: L.LambdaLR(o, lambda i: 1.0), lambda i: LR),
    "step": (
        {"step_size": 2, "gamma": 0.5},
        lambda o: L.StepLR(o, step_size=2 * S, gamma=0.5),
        lambda i: LR * 0.5 ** (i // (2 * S)),
    ),
    "multistep": (
        {"milestones": [1, 4], "gamma": 0.1},
        lambda o: L.MultiStepLR(o, milestones=[S, 4 * S], gamma=0.1),
        lambda i: LR * 0.1 ** ((i >= S) + (i >= 4 * S)),
    ),
    "cosine": (
        {"min_lr": 0.001},
        lambda o: L.CosineAnnealingLR(o, T_max=E * S, eta_min=0.001),
        lambda i: 0.001 + (LR - 0.001) * (1 + math.cos(math.pi * i / (E * S))) / 2,
    ),
    "exponential": (
        {"gamma": 0.5},
        lambda o: L.ExponentialLR(o, gamma=0.5 ** (1 / S)),
        lambda i: LR * 0.5 ** (i / S),
    ),
    "onecycle": (
        {},
        lambda o: L.OneCycleLR(o, max_lr=LR, total_steps=E * S, cycle_momentum=False),
        None,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_schedule_is_the_torch_scheduler_per_iteration(name: str) -> None:
    options, by_hand, closed = CASES[name]
    ours_opt, ref_opt = _opt(), _opt()
    ours = build_scheduler(ours_opt, name, epochs=E, steps_per_epoch=S, **options)
    got = _lrs(ours, ours_opt, E * S)
    expected = _lrs(by_hand(ref_opt), ref_opt, E * S)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
    if closed is not None:
        assert got == pytest.approx([closed(i) for i in range(E * S)], rel=1e-12, abs=1e-15)
    assert not is_per_epoch(ours)


def test_step_drops_exactly_at_epoch_boundaries() -> None:
    opt = _opt()
    lrs = _lrs(build_scheduler(opt, "step", epochs=E, steps_per_epoch=S, step_size=2), opt, E * S)
    # Per epoch, the lr of every iteration is the lr of a per-epoch StepLR(step_size=2).
    for epoch in range(E):
        expected = LR * 0.1 ** (epoch // 2)
        assert lrs[epoch * S : (epoch + 1) * S] == pytest.approx([expected] * S, rel=1e-12)


def test_onecycle_cycles_momentum_only_when_the_optimizer_has_it() -> None:
    plain, momentum = _opt(), _opt(kind="momentum")
    build_scheduler(plain, "onecycle", epochs=E, steps_per_epoch=S)
    build_scheduler(momentum, "onecycle", epochs=E, steps_per_epoch=S)
    assert plain.param_groups[0]["momentum"] == 0.0  # "sgd" stays plain SGD
    assert momentum.param_groups[0]["momentum"] == pytest.approx(0.95)  # max_momentum first
    ref = _opt(kind="momentum")
    L.OneCycleLR(ref, max_lr=LR, total_steps=E * S)
    assert ref.param_groups[0]["lr"] == momentum.param_groups[0]["lr"]


@pytest.mark.parametrize("name", ["none", "step", "multistep", "cosine", "exponential", "onecycle"])
def test_warmup_is_torch_sequential_lr(name: str) -> None:
    warm = 2
    options, _, _ = CASES[name]
    ours_opt, ref_opt = _opt(), _opt()
    ours = build_scheduler(
        ours_opt, name, epochs=E, steps_per_epoch=S, warmup_epochs=warm, **options
    )
    # By hand: main schedule over the remaining E - W epochs, as the issue specifies.
    start = L.LinearLR(ref_opt, start_factor=0.01, total_iters=warm * S)
    rest = E - warm
    mains = {
        "none": lambda o: L.ConstantLR(o, factor=1.0, total_iters=0),
        "step": lambda o: L.StepLR(o, step_size=2 * S, gamma=0.5),
        "multistep": lambda o: L.MultiStepLR(o, milestones=[S, 4 * S], gamma=0.1),
        "cosine": lambda o: L.CosineAnnealingLR(o, T_max=rest * S, eta_min=0.001),
        "exponential": lambda o: L.ExponentialLR(o, gamma=0.5 ** (1 / S)),
        "onecycle": lambda o: L.OneCycleLR(
            o, max_lr=LR, total_steps=rest * S, cycle_momentum=False
        ),
    }
    ref = L.SequentialLR(ref_opt, [start, mains[name](ref_opt)], milestones=[warm * S])
    got, expected = _lrs(ours, ours_opt, E * S), _lrs(ref, ref_opt, E * S)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
    if name == "none":  # linear from 1% to 100% over W epochs, then flat
        ramp = [LR * (0.01 + 0.99 * i / (warm * S)) for i in range(warm * S)]
        assert got == pytest.approx(ramp + [LR] * (rest * S), rel=1e-12)


def test_plateau_steps_per_epoch_on_the_score() -> None:
    opt, ref_opt = _opt(), _opt()
    ours = build_scheduler(opt, "plateau", epochs=E, steps_per_epoch=S, patience=1, mode="max")
    ref = L.ReduceLROnPlateau(ref_opt, mode="max", factor=0.1, patience=1)
    assert is_per_epoch(ours)
    for score in [0.5, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7]:
        ours.step(score)
        ref.step(score)
        assert opt.param_groups[0]["lr"] == ref_opt.param_groups[0]["lr"]
    assert opt.param_groups[0]["lr"] == pytest.approx(LR * 0.01)


def test_replay_equals_stepping_and_the_state_survives_a_checkpoint(tmp_path: Path) -> None:
    straight, again = _opt(), _opt()
    a = build_scheduler(straight, "cosine", epochs=E, steps_per_epoch=S, warmup_epochs=1)
    _lrs(a, straight, 13)
    b = build_scheduler(again, "cosine", epochs=E, steps_per_epoch=S, warmup_epochs=1)
    replay(b, 13)
    assert again.param_groups[0]["lr"] == straight.param_groups[0]["lr"]
    save_checkpoint(
        tmp_path / "s.pt",
        {"model": {}, "optimizer": {}, "epoch": 0, "rng": {}, "scheduler": a.state_dict()},
    )
    fresh_opt = _opt()  # as a resumed run: schedule built first, then both states loaded
    c = build_scheduler(fresh_opt, "cosine", epochs=E, steps_per_epoch=S, warmup_epochs=1)
    fresh_opt.load_state_dict(straight.state_dict())
    c.load_state_dict(load_checkpoint(tmp_path / "s.pt")["scheduler"])
    assert _lrs(c, fresh_opt, 17) == _lrs(a, straight, 17)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"name": "cosin"}, "scheduler", "did you mean cosine"),
        ({"name": "plateau", "warmup_epochs": 1}, "warmup_epochs", "cannot be combined"),
        ({"name": "cosine", "warmup_epochs": 6}, "warmup_epochs", "must be < epochs (6)"),
        ({"name": "cosine", "step_size": 2}, "step_size", "not an option of scheduler 'cosine'"),
        ({"name": "step", "step_size": 0}, "step_size", "positive integer"),
        ({"name": "multistep", "milestones": [3, 2]}, "milestones", "increasing"),
        ({"name": "step", "gamma": 0}, "gamma", "in (0, 1]"),
        ({"name": "plateau", "gamma": 1}, "gamma", "must be < 1"),
        ({"name": "none", "steps_per_epoch": 0}, "steps_per_epoch", "positive integer"),
    ],
    ids=[
        "typo",
        "plateau-warmup",
        "warmup-too-long",
        "foreign-option",
        "zero-step",
        "decreasing-milestones",
        "zero-gamma",
        "plateau-gamma-1",
        "zero-steps",
    ],
)
def test_bad_options_name_the_field(kwargs: dict, field: str, message: str) -> None:
    args = {"epochs": E, "steps_per_epoch": S, **kwargs}
    name = args.pop("name")
    with pytest.raises(InvalidArgument, match=re.escape(message)) as err:
        build_scheduler(_opt(), name, **args)
    assert err.value.argument == field
