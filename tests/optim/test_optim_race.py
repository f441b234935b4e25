"""``cnnlab optim-race`` and the landscapes behind it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnlab.cli.main import main
from cnnlab.scratch.optim.landscapes import LANDSCAPES
from cnnlab.scratch.optim.race import RACE_LR, run_race

TWELVE = set(RACE_LR["rosenbrock"])


@pytest.mark.parametrize("name", sorted(LANDSCAPES))
def test_gradients_match_finite_differences(name: str) -> None:
    land = LANDSCAPES[name]
    rng = np.random.default_rng(0)
    h = 1e-6
    for x, y in rng.uniform(-2, 2, size=(20, 2)):
        gx, gy = land.grad(x, y)
        fx = (land.value(x + h, y) - land.value(x - h, y)) / (2 * h)
        fy = (land.value(x, y + h) - land.value(x, y - h)) / (2 * h)
        np.testing.assert_allclose([gx, gy], [fx, fy], rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", sorted(LANDSCAPES))
def test_minima_are_stationary_points(name: str) -> None:
    land = LANDSCAPES[name]
    for x, y in land.minima:
        np.testing.assert_allclose(land.grad(x, y), [0.0, 0.0], atol=1e-4)


def test_every_optimizer_decreases_the_loss_on_rosenbrock() -> None:
    results = run_race("rosenbrock", steps=300)
    assert set(results) == TWELVE
    for name, r in results.items():
        x0, y0 = r.points[0]
        x1, y1 = r.points[-1]
        start = (1 - x0) ** 2 + 100 * (y0 - x0**2) ** 2  # written out again, independently
        end = (1 - x1) ** 2 + 100 * (y1 - x1**2) ** 2
        assert np.isfinite(end) and end < 0.8 * start, (name, start, end)
    # sgd and minibatch are one rule: identical paths.
    np.testing.assert_array_equal(results["sgd"].points, results["minibatch"].points)


def test_first_sgd_step_is_start_minus_lr_times_gradient() -> None:
    r = run_race("beale", steps=1, optimizers=["sgd"], lrs={"sgd": 0.01})["sgd"]
    x, y = LANDSCAPES["beale"].start
    a, b, c = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    dx = 2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1)
    dy = 2 * a * x + 4 * b * x * y + 6 * c * x * y**2
    np.testing.assert_allclose(r.points[1], [x - 0.01 * dx, y - 0.01 * dy], rtol=1e-12)


def test_cli_writes_the_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "race.png"
    code = main(["optim-race", "--function", "rosenbrock", "--out", str(out), "--steps", "150"])
    assert code == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    printed = capsys.readouterr().out
    for name in TWELVE:
        assert f"\n{name} " in printed


def test_cli_subset_and_lr_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "saddle.png"
    args = ["optim-race", "--function", "saddle", "--out", str(out), "--steps", "50"]
    assert main([*args, "--optimizers", "sgd,adam", "--lr", "adam=0.2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("adam") and " 0.2 " in line for line in lines)
    assert not any(line.startswith("rmsprop") for line in lines)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--function", "rosenbrok"], "did you mean rosenbrock"),
        (["--steps", "0"], "steps must be a positive integer"),
        (["--lr", "adam"], "NAME=VALUE"),
        (["--optimizers", "sgd,adamm"], "did you mean adam"),
        (["--optimizers", "sgd", "--lr", "adam=0.1"], "not racing"),
    ],
    ids=["unknown-function", "zero-steps", "bad-lr", "unknown-optimizer", "lr-not-racing"],
)
def test_cli_bad_input_exits_2(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["optim-race", "--out", str(tmp_path / "r.png"), *extra])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_rejects_non_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["optim-race", "--out", str(tmp_path / "race.jpg")]) == 2
    assert ".png" in capsys.readouterr().err
