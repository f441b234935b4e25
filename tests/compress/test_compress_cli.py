"""`cnnlab compress` end to end on a trained digits run, and its bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from torch import nn

import cnnlab.compress.run
from cnnlab.analysis import summary
from cnnlab.cli.main import main
from cnnlab.compress import METHODS, accuracy, load_compressed
from cnnlab.train import save_checkpoint

FAST = ["--repeats", "1", "--finetune-epochs", "1", "--calibration-images", "64"]


@pytest.mark.slow
def test_all_methods_one_table_files_that_load_back(
    digits_run: Path, trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "all"
    assert main(["compress", str(digits_run), "--all", "--out", str(out), *FAST]) == 0
    printed = capsys.readouterr().out
    assert (
        "| method | parameters | size (MB) | MACs | latency b1 (ms) | latency b32 (ms)" in printed
    )
    report = json.loads((out / "report.json").read_text())
    rows = {r["method"].split()[0]: r for r in report["rows"]}
    assert list(rows) == ["original", *METHODS]
    assert (out / "comparison.png").stat().st_size > 10_000
    assert (out / "report.md").read_text().count("\n|") == len(rows) + 2  # header, rule, rows

    original = rows.pop("original")
    n_val = len(trained.data.val)
    for method, row in rows.items():
        assert f"| {row['method']} |" in printed
        path = Path(row["path"])
        assert path.name == f"{method}.pt"
        assert row["size_mb"] == pytest.approx(path.stat().st_size / 1e6)
        loaded = load_compressed(path)  # weights_only=True, architecture rebuilt
        assert loaded.method == method and loaded.architecture == "digits_cnn"
        # the file holds the model that was measured
        assert accuracy(loaded.model, trained.data.val) == pytest.approx(row["val_acc"]), method
        assert row["delta_points"] == pytest.approx(100 * (row["val_acc"] - original["val_acc"]))
        if method in ("prune", "lowrank", "fold-bn"):  # plain modules: count them independently
            report_of = summary(loaded.model, trained.input_size)
            assert row["params"] == report_of.total_params
            assert row["macs"] == report_of.total_macs

    assert abs(rows["fold-bn"]["val_acc"] - original["val_acc"]) <= 1 / n_val  # same function
    assert rows["ptq-int8"]["delta_points"] >= -1.0
    assert rows["ptq-int8"]["size_mb"] * 3.5 <= original["size_mb"]
    assert rows["prune"]["params"] < original["params"] / 3  # half the channels: ~1/4 weights
    assert rows["prune"]["macs"] < original["macs"] / 3
    assert rows["prune"]["size_mb"] < original["size_mb"] / 3
    # zeroed weights: half the conv/linear weights counted as gone, the dense file is not smaller
    assert rows["prune-unstructured"]["params"] < 0.55 * original["params"]
    assert rows["prune-unstructured"]["size_mb"] == pytest.approx(original["size_mb"], rel=0.02)


def test_one_method_default_out_folder(digits_run: Path, capsys) -> None:
    assert main(["compress", str(digits_run), "--method", "fold-bn", "--repeats", "1"]) == 0
    out = digits_run / "compressed"
    assert (out / "fold-bn.pt").is_file() and (out / "report.md").is_file()
    assert not (out / "comparison.png").exists()
    assert "fold-bn" in capsys.readouterr().out
    shutil.rmtree(out)


def _error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["compress", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_run_dir_without_checkpoint(tmp_path: Path, capsys) -> None:
    err = _error(capsys, str(tmp_path), "--method", "fold-bn")
    assert "holds no checkpoint" in err and "cnnlab train --out" in err
    assert "does not exist" in _error(capsys, str(tmp_path / "nope"), "--method", "fold-bn")


def test_unknown_method_lists_close_matches(digits_run: Path, capsys) -> None:
    err = _error(capsys, str(digits_run), "--method", "prun")
    assert err.startswith("cnnlab compress: error: --method must be one of")
    assert "did you mean prune" in err


@pytest.mark.parametrize("amount", ["1.5", "-0.1", "nan"])
def test_amount_out_of_range(digits_run: Path, capsys, amount: str) -> None:
    err = _error(capsys, str(digits_run), "--method", "prune", "--amount", amount)
    assert "--amount must be a finite number in [0, 1)" in err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--threads", "-1", "--threads must be an integer >= 0"),
        ("--finetune-lr", "inf", "--finetune-lr must be a finite number >= 0"),
        ("--finetune-epochs", "-2", "--finetune-epochs must be an integer >= 0"),
        ("--repeats", "0", "--repeats must be a positive integer"),
    ],
)
def test_bad_numbers_name_their_flag(
    digits_run: Path, capsys, flag: str, value: str, message: str
) -> None:
    assert message in _error(capsys, str(digits_run), "--method", "prune", flag, value)


def test_amount_for_a_method_without_one(digits_run: Path, capsys) -> None:
    err = _error(capsys, str(digits_run), "--method", "ptq-int8", "--amount", "0.3")
    assert "amount applies to prune" in err


def test_method_and_all_together_or_neither(digits_run: Path, capsys) -> None:
    assert "not both" in _error(capsys, str(digits_run), "--all", "--method", "prune")
    assert "--method" in _error(capsys, str(digits_run))


def test_out_is_checked_before_any_work(digits_run: Path, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    err = _error(capsys, str(digits_run), "--method", "ptq-int8", "--out", str(blocker))
    assert err.startswith("cnnlab compress: error: --out") and "is a file" in err
    err = _error(capsys, str(digits_run), "--all", "--out", str(blocker / "sub"))
    assert "--out" in err


def test_model_with_nothing_to_prune(
    digits_run: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run whose classifier has no conv layer: the structured pruning has nothing to remove.
    flat = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    run = tmp_path / "flat"
    run.mkdir()
    shutil.copy(digits_run / "config.json", run / "config.json")
    save_checkpoint(
        run / "last.pt", {"model": flat.state_dict(), "optimizer": {}, "epoch": 1, "rng": {}}
    )
    monkeypatch.setattr(cnnlab.compress.run, "create_model", lambda *a, **k: flat)
    err = _error(capsys, str(run), "--method", "prune", "--out", str(tmp_path / "o"), *FAST)
    assert "has no convolution whose output channels can be pruned" in err


class _Sneaky:
    def __reduce__(self):  # a pickle that would run code when loaded without weights_only
        return (print, ("code ran",))


def test_load_compressed_refuses_other_files(tmp_path: Path) -> None:
    import torch

    with pytest.raises(ValueError, match="does not exist"):
        load_compressed(tmp_path / "missing.pt")
    torch.save({"state_dict": {}}, tmp_path / "plain.pt")
    with pytest.raises(ValueError, match="not a cnnlab compressed model"):
        load_compressed(tmp_path / "plain.pt")
    torch.save({"format": "cnnlab.compress/1", "x": _Sneaky()}, tmp_path / "code.pt")
    with pytest.raises(ValueError, match="corrupt or unreadable"):
        load_compressed(tmp_path / "code.pt")
