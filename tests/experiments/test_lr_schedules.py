"""lr-schedules: every schedule against closed forms written here, the range test's rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cnnlab.experiments import lr_schedules as L
from cnnlab.train import SCHEDULERS

EXPERIMENT = "lr-schedules"


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)
    assert len(quick.checks) == 4  # closed forms, torch's, one-cycle momentum, range test


def test_every_schedule_is_traced(quick, read_csv) -> None:
    rows = read_csv(quick.csv_path)
    names = sorted({r["schedule"] for r in rows})
    assert names == sorted([*SCHEDULERS, "cosine+warmup"])
    assert len(rows) == len(names) * L.EPOCHS * L.STEPS
    trained = read_csv(quick.csv_path.parent / "training.csv")
    assert sorted(r["schedule"] for r in trained) == names
    assert all(0.0 <= float(r["val_acc"]) <= 1.0 for r in trained)


# The learning rate at a few steps (t) of a 30 x 10 run at lr 0.1, by hand.
BY_HAND = {
    "step": {0: 0.1, 99: 0.1, 100: 0.01, 200: 0.001, 299: 0.001},
    "multistep": {149: 0.1, 150: 0.01, 219: 0.01, 220: 0.001},
    "cosine": {0: 0.1, 150: 0.05, 75: 0.05 * (1 + math.cos(math.pi / 4))},
    "exponential": {0: 0.1, 10: 0.09, 20: 0.081, 5: 0.1 * 0.9**0.5},
    "onecycle": {0: 0.004, 89: 0.1, 299: 0.004 / 1e4},
    "cosine+warmup": {0: 0.001, 15: 0.1 * (0.01 + 0.99 * 15 / 30), 30: 0.1, 165: 0.05},
    # scores improve for epochs 0-9, then 4 bad epochs (patience 3): the cut after epoch 13,
    # and again after 4 more
    "plateau": {139: 0.1, 140: 0.01, 179: 0.01, 180: 0.001},
    "none": {0: 0.1, 299: 0.1},
}


@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_schedule_values_by_hand(name: str) -> None:
    lrs, _ = L.trace(lambda o: L._build(o, name, L.EPOCHS, L.STEPS), per_epoch=name == "plateau")
    for step, value in BY_HAND[name].items():
        assert lrs[step] == pytest.approx(value, rel=1e-12), step
    assert np.allclose(L.closed_form(name), lrs, rtol=0, atol=1e-14)


def test_onecycle_momentum_moves_against_the_lr() -> None:
    lrs, moms = L.trace(lambda o: L._build(o, "onecycle", L.EPOCHS, L.STEPS))
    peak = int(np.argmax(lrs))
    assert moms[0] == pytest.approx(0.95) and moms[peak] == pytest.approx(0.85)
    assert moms[-1] == pytest.approx(0.95, abs=1e-6)


def test_range_test_stops_when_the_loss_explodes() -> None:
    torch.manual_seed(0)
    train, _ = L.digits()
    train = L.Split(train.x[::4], train.y[::4])
    init = L._model().state_dict()
    rows = L.range_test(train, 60, 0, init)
    lrs = np.array([r["lr"] for r in rows])
    # geometric: constant ratio 1e7 ** (1 / 59)
    assert np.allclose(lrs[1:] / lrs[:-1], (L.RANGE[1] / L.RANGE[0]) ** (1 / 59), rtol=1e-12)
    smoothed = [r["smoothed"] for r in rows]
    # bias-corrected moving average, recomputed here
    per_decade = 59 / 7  # 60 rates from 1e-5 to 100
    beta, avg = 1 - 3 / per_decade, 0.0
    for i, r in enumerate(rows):
        avg = beta * avg + (1 - beta) * r["loss"]
        assert smoothed[i] == pytest.approx(avg / (1 - beta ** (i + 1)), rel=1e-12)
    if len(rows) < 60:  # stopped early: only the last step is above 4 x the minimum so far
        assert smoothed[-1] > 4 * min(smoothed)
        assert all(v <= 4 * min(smoothed[: i + 1]) for i, v in enumerate(smoothed[:-1]))
    at_min, suggested, _ = L.suggest(rows)
    assert at_min == lrs[int(np.argmin(smoothed))] and suggested == pytest.approx(at_min / 10)
