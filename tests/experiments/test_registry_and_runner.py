"""The framework: registry, run(), the three files, seeds, output checks, the checks' helpers."""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnlab.core.files import current_umask
from cnnlab.experiments import (
    Context,
    ExperimentInfo,
    Outcome,
    experiment_info,
    list_experiments,
    register_experiment,
    run,
)
from cnnlab.experiments import checks as C
from cnnlab.experiments.registry import _REGISTRY

# The issue's experiments, names exactly these.
ISSUE = {
    "activations",
    "batch-size",
    "bn-noise",
    "degradation",
    "depth-width",
    "dropout-bn-shift",
    "effective-rf",
    "init-depth",
    "l1-sparsity",
    "lr-schedules",
    "odd-kernels",
    "pooling",
    "regularization",
    "saddle",
}


def _tiny(ctx: Context) -> Outcome:
    from matplotlib.figure import Figure

    rng = ctx.rng()
    value = float(rng.standard_normal())
    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [0, value])
    rows = [{"k": k, "value": value * k, "note": None} for k in ctx.pick(range(2), range(3))]
    check = C.close("|value| is finite", value, value, source="itself", kind="exact")
    return Outcome(rows=rows, figure=fig, checks=[check], answer="tiny answer")


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> str:
    info = ExperimentInfo("tiny", "#0 nowhere", "a tiny claim", "no paper", 1.0, _tiny)
    monkeypatch.setitem(_REGISTRY, "tiny", info)
    return "tiny"


def test_every_experiment_of_the_issue_is_registered() -> None:
    assert set(list_experiments()) == ISSUE
    for name in ISSUE:
        info = experiment_info(name)
        assert info.name == name and info.claim and info.reference and info.section.startswith("#")
        assert 0 < info.full_seconds < 300  # the issue's budget for a full run


def test_one_experiment_per_file() -> None:
    import pkgutil

    import cnnlab.experiments as package

    files = {
        m.name
        for m in pkgutil.iter_modules(package.__path__)
        if m.name not in package.FRAMEWORK and not m.name.startswith("_")  # private helpers
    }
    names = list_experiments()
    owners = [experiment_info(n).fn.__module__.rsplit(".", 1)[-1] for n in names]
    assert sorted(owners) == sorted(files)  # each file registers exactly one experiment
    assert {n.replace("-", "_") for n in names} == files  # file name = experiment name


def test_duplicate_name_raises() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_experiment(name="saddle", section="", claim="", reference="", full_seconds=1)(
            _tiny
        )


def test_unknown_name_lists_close_matches() -> None:
    with pytest.raises(ValueError, match="did you mean init-depth"):
        run("init-dept")


def test_run_writes_three_files(tiny: str, tmp_path: Path, read_csv) -> None:
    result = run(tiny, quick=True, seed=3, out=tmp_path / "a" / "b")
    assert result.paths == tuple(
        tmp_path / "a" / "b" / n for n in ("results.csv", "figure.png", "summary.md")
    )
    assert [dict(r) for r in read_csv(result.csv_path)] == [
        {"k": str(r["k"]), "value": repr(r["value"]), "note": ""} for r in result.rows
    ]
    assert len(result.rows) == 2  # the quick version
    assert result.figure_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = result.summary_path.read_text()
    assert text == result.summary
    for part in ("a tiny claim", "no paper", "#0 nowhere", "confirmed (all 1 checks pass)"):
        assert part in text
    assert "tiny answer" in text and "seed 3" in text and "quick run" in text
    assert "| \\|value\\| is finite |" in text  # bars inside a cell are escaped
    expected_mode = 0o666 & ~current_umask()
    for path in result.paths:
        assert stat.S_IMODE(os.stat(path).st_mode) == expected_mode
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp files


def test_seed_decides_the_numbers(tiny: str, tmp_path: Path) -> None:
    a = run(tiny, seed=1, out=tmp_path / "a").rows
    b = run(tiny, seed=1, out=tmp_path / "b").rows
    c = run(tiny, seed=2, out=tmp_path / "c").rows
    assert a == b and a != c
    assert len(a) == 3  # the full version
    assert a[1]["value"] == np.random.default_rng([1, 0]).standard_normal()


def test_global_torch_state_is_restored(tiny: str, tmp_path: Path) -> None:
    torch.manual_seed(123)
    torch.set_num_threads(2)  # not the runner's 1 (the autouse fixture restores it)
    state, threads = torch.get_rng_state(), torch.get_num_threads()
    run(tiny, seed=5, out=tmp_path)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0", 2**32], ids=str)
def test_bad_seed(tiny: str, tmp_path: Path, seed: object) -> None:
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, "):
        run(tiny, seed=seed, out=tmp_path)  # type: ignore[arg-type]


def test_bad_quick(tiny: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="quick must be True or False, got 1"):
        run(tiny, quick=1, out=tmp_path)  # type: ignore[arg-type]


def test_out_is_checked_before_any_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(ctx: Context) -> Outcome:
        raise AssertionError("the experiment ran")

    monkeypatch.setitem(_REGISTRY, "boom", ExperimentInfo("boom", "", "", "", 1.0, explode))
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        run("boom", out=a_file)
    with pytest.raises(ValueError, match="cannot be created"):
        run("boom", out=a_file / "below")


def test_default_out_is_a_new_runs_folder(
    tiny: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = run(tiny, quick=True)
    second = run(tiny, quick=True)
    assert first.csv_path.parent == Path("runs/experiment-tiny")
    assert second.csv_path.parent == Path("runs/experiment-tiny-2")
    assert first.csv_path.is_file() and second.summary_path.is_file()


def test_failed_check_gives_not_confirmed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def wrong(ctx: Context) -> Outcome:
        out = _tiny(ctx)
        out.checks.append(C.close("one is two", 1.0, 2.0, source="arithmetic"))
        return out

    monkeypatch.setitem(_REGISTRY, "wrong", ExperimentInfo("wrong", "", "c", "r", 1.0, wrong))
    result = run("wrong", out=tmp_path)
    assert not result.passed
    assert result.verdict == "not confirmed: 1 of 2 checks fail (one is two)"
    assert "| one is two | 1 | 2 | arithmetic (exact) | NO |" in result.summary


def test_check_helpers() -> None:
    assert C.close("a", 1.0 + 1e-9, 1.0, rtol=1e-8, source="s").passed
    assert not C.close("a", 1.0 + 1e-7, 1.0, rtol=1e-8, source="s").passed
    assert not C.close("a", math.nan, 1.0, atol=1.0, source="s").passed
    assert C.within("b", 0.5, 0.0, 1.0, source="s").passed
    assert not C.within("b", 1.5, 0.0, 1.0, source="s").passed
    assert C.within("b", 7.0, 1.0, math.inf, source="s").expected == ">= 1"
    with pytest.raises(ValueError, match="kind must be one of"):
        C.holds("c", True, measured="", expected="", source="", kind="guess")
