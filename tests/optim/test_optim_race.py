"""``cnnlab optim-race`` and the landscapes behind it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure

import cnnlab.scratch.optim.race as race_module
from cnnlab.cli.main import main
from cnnlab.core import optimizers as core_optimizers
from cnnlab.demos.optim_race import save_race_figure
from cnnlab.scratch.optim.landscapes import LANDSCAPES
from cnnlab.scratch.optim.race import run_race

TWELVE = {
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
}


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


def test_race_uses_the_table_learning_rates() -> None:
    results = run_race("saddle", steps=2, optimizers=["adagrad", "momentum"])
    assert results["adagrad"].lr == core_optimizers.OPTIMIZERS["adagrad"].race_lr["saddle"]
    assert results["momentum"].lr == core_optimizers.OPTIMIZERS["momentum"].race_lr["saddle"]


def test_optimizer_without_a_race_lr_raises_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = core_optimizers.OPTIMIZERS["adam"]
    no_beale = {k: v for k, v in spec.race_lr.items() if k != "beale"}
    monkeypatch.setitem(
        core_optimizers.OPTIMIZERS, "adam", dataclasses.replace(spec, race_lr=no_beale)
    )
    with pytest.raises(ValueError, match="'adam' has no race learning rate for 'beale'"):
        run_race("beale", steps=3, optimizers=["sgd", "adam"])
    assert run_race("beale", steps=3, optimizers=["adam"], lrs={"adam": 0.1})["adam"].lr == 0.1
    assert run_race("rosenbrock", steps=3, optimizers=["adam"])["adam"].lr == 5e-2


def test_empty_optimizer_list_raises_value_error() -> None:
    with pytest.raises(ValueError, match="at least one optimizer"):
        run_race("beale", steps=3, optimizers=[])


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
        (["--optimizers", ","], "--optimizers must name at least one optimizer"),
        (["--optimizers", " , "], "--optimizers must name at least one optimizer"),
        (["--optimizers", ""], "--optimizers must name at least one optimizer"),
        (["--optimizers", "adam", "--lr", "adam=inf"], "lr must be a finite number"),
    ],
    ids=[
        "unknown-function",
        "zero-steps",
        "bad-lr",
        "unknown-optimizer",
        "lr-not-racing",
        "comma",
        "comma-spaces",
        "empty",
        "lr-inf",
    ],
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


@pytest.mark.parametrize(
    "where", ["folder", "parent-is-a-file", "proc", "wrong-suffix"], ids=lambda w: w
)
def test_cli_checks_out_before_racing(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_race(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the race ran before --out was checked")

    monkeypatch.setattr(race_module, "run_race", no_race)
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "folder.png").mkdir()
    out = {
        "folder": tmp_path / "folder.png",
        "parent-is-a-file": tmp_path / "a_file" / "race.png",
        "proc": Path("/proc/race.png"),
        "wrong-suffix": tmp_path / "race.jpg",
    }[where]
    assert main(["optim-race", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cnnlab optim-race: error: --out") or "--out" in err
    assert len(err.strip().splitlines()) == 1


def test_figure_is_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while the PNG is being written leaves the previous file as it was."""
    out = tmp_path / "race.png"
    out.write_bytes(b"previous picture")
    results = run_race("saddle", steps=5, optimizers=["sgd", "adam"])

    def broken_savefig(self: Figure, f: Any, **kwargs: Any) -> None:
        f.write(b"\x89PNG half a picture")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        save_race_figure(LANDSCAPES["saddle"], results, out)
    assert out.read_bytes() == b"previous picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.png"]


def test_drawing_leaves_pyplot_and_the_backend_alone(tmp_path: Path) -> None:
    code = (
        "import sys, matplotlib\n"
        "raw = lambda: dict.__getitem__(matplotlib.rcParams, 'backend')  # unresolved\n"
        "before = raw()\n"
        "from cnnlab.demos.optim_race import save_race_figure\n"
        "from cnnlab.scratch.optim.landscapes import LANDSCAPES\n"
        "from cnnlab.scratch.optim.race import run_race\n"
        "r = run_race('beale', steps=3, optimizers=['adam'])\n"
        f"save_race_figure(LANDSCAPES['beale'], r, {str(tmp_path / 'b.png')!r})\n"
        "print('matplotlib.pyplot' in sys.modules, raw() == before)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
