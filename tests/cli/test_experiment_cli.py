"""`cnnlab experiment`: --list, a quick run end to end, and bad input (one line, exit 2)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cnnlab.cli.main import main
from cnnlab.experiments import experiment_info, list_experiments


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["experiment", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_every_experiment_with_its_time(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--list")
    assert code == 0 and err == ""
    for name in list_experiments():
        info = experiment_info(name)
        assert name in out and f"{info.full_seconds:.0f} s" in out
    assert "Var(x) + p/(1-p) E[x^2]" in out  # brackets are text, not rich markup


def test_quick_run_writes_and_prints_the_summary(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "saddle"
    code, out, err = run(capsys, "saddle", "--quick", "--seed", "4", "--out", str(out_dir))
    assert code == 0, err
    assert "# Experiment `saddle`" in out and "**confirmed (all" in out
    assert f"wrote {out_dir / 'results.csv'}, {out_dir / 'figure.png'}" in out
    with open(out_dir / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12 and rows[0]["optimizer"] == "sgd"
    assert (out_dir / "summary.md").read_text() in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["init-dept"], "unknown experiment 'init-dept'; did you mean init-depth?"),
        (["saddle", "--seed", "-1"], "--seed must be an integer in [0, "),
        ([], "give an experiment NAME, or --list to see them"),
    ],
    ids=["unknown-name", "negative-seed", "no-name"],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("cnnlab experiment: error: ") and message in err
    assert err.count("\n") == 1


def test_seed_that_is_not_a_number(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["experiment", "saddle", "--seed", "x"])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err == "cnnlab experiment: error: argument --seed: invalid int value: 'x'\n"


def test_out_that_is_a_file_fails_before_any_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cnnlab.experiments.registry as registry

    def explode(ctx):
        raise AssertionError("the experiment ran")

    info = registry.ExperimentInfo("boom", "", "", "", 1.0, explode)
    monkeypatch.setitem(registry._REGISTRY, "boom", info)
    a_file = tmp_path / "results"
    a_file.write_text("not a folder")
    code, _, err = run(capsys, "boom", "--out", str(a_file))
    assert code == 2
    assert err == f"cnnlab experiment: error: --out {str(a_file)!r} is a file, not a folder\n"
