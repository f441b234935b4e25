"""Resuming trusts only the checkpoint: no code from files, the checkpoint's config is the truth."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.console import Console

from cnnlab.cli.main import main
from cnnlab.models import create_model
from cnnlab.train import TrainConfig, Trainer, load_checkpoint, save_checkpoint
from cnnlab.train.state import rng_state, set_rng_state


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 2-epoch run (adam, 3 iterations per epoch)."""
    run = tmp_path_factory.mktemp("base") / "run"
    cfg = TrainConfig(epochs=2, batch_size=512, seed=1, device="cpu", out=str(run))
    Trainer(cfg, console=Console(file=io.StringIO())).fit()
    return run


def _copy(run: Path, tmp_path: Path, name: str = "copy") -> Path:
    target = tmp_path / name
    shutil.copytree(run, target)
    return target


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


class _Payload:
    """Unpickling this object calls ``os.mkdir(marker)``: what an attacker's file would run."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (self.marker,))


def test_a_crafted_checkpoint_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    path = tmp_path / "last.pt"
    torch.save({"format": "cnnlab.train/1", "x": _Payload(marker)}, path)
    with pytest.raises(ValueError, match=r"refused.*could run code") as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value)
    assert not marker.exists()


def test_resume_of_a_crafted_run_runs_nothing(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _copy(finished, tmp_path)
    marker = tmp_path / "PWNED"
    state = load_checkpoint(run / "last.pt")
    state["history"] = _Payload(marker)  # hidden deep inside an otherwise valid checkpoint
    torch.save(state, run / "last.pt")
    assert main(["train", "--resume", str(run), "--epochs", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refused" in err[0]
    assert not marker.exists()


def test_rng_states_are_plain_tensors_and_round_trip(tmp_path: Path) -> None:
    random.seed(5)
    np.random.seed(6)
    torch.manual_seed(7)
    np.random.standard_normal()  # leaves a cached Gaussian in NumPy's state
    save_checkpoint(
        tmp_path / "s.pt", {"model": {}, "optimizer": {}, "epoch": 0, "rng": rng_state()}
    )
    expected = (random.random(), np.random.standard_normal(), torch.rand(3))
    set_rng_state(load_checkpoint(tmp_path / "s.pt")["rng"])  # weights_only=True inside
    got = (random.random(), np.random.standard_normal(), torch.rand(3))
    assert got[:2] == expected[:2] and torch.equal(got[2], expected[2])


def test_checkpoints_of_the_first_format_still_resume(tmp_path: Path) -> None:
    # Phase 1 stored NumPy's RNG state as an ndarray; those run folders must still resume.
    np.random.seed(11)
    legacy = {"torch": torch.get_rng_state(), "numpy": np.random.get_state()}
    legacy["python"] = random.getstate()
    torch.save(
        {"format": "cnnlab.train/1", "model": {}, "optimizer": {}, "epoch": 0, "rng": legacy},
        tmp_path / "old.pt",
    )
    expected = np.random.random_sample(4)
    set_rng_state(load_checkpoint(tmp_path / "old.pt")["rng"])
    np.testing.assert_array_equal(np.random.random_sample(4), expected)


_EDITS = {
    "lr-text": ("lr", "abc"),
    "lr-null": ("lr", None),
    "lr-other": ("lr", 0.5),
    "seed-text": ("seed", "x"),
    "seed-other": ("seed", 7),
    "image-size-text": ("image_size", "x"),
    "val-fraction-text": ("val_fraction", "0.2"),
    "batch-size-huge": ("batch_size", 10**30),
    "optimizer-sgd": ("optimizer", "sgd"),
    "optimizer-adamax": ("optimizer", "adamax"),
    "drop-last-text": ("drop_last", "yes"),
}


@pytest.mark.parametrize("edit", list(_EDITS), ids=list(_EDITS))
def test_an_edited_config_is_named_before_any_work(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: str
) -> None:
    field, value = _EDITS[edit]
    run = _copy(finished, tmp_path)
    config = json.loads((run / "config.json").read_text())
    original = config[field]
    config[field] = value
    (run / "config.json").write_text(json.dumps(config))
    before = _snapshot(run)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--epochs", "3"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert f"{field} = {value!r}" in lines[0] and f"{field} = {original!r}" in lines[0], lines[0]
    assert "config.json" in lines[0] and "last.pt" in lines[0]
    assert "resuming" not in captured.out
    assert _snapshot(run) == before


def test_a_run_folder_two_runs_wrote_into(finished: Path, tmp_path: Path) -> None:
    # The report's mixed folder: config.json from an adam run, last.pt from an sgd run.
    run = _copy(finished, tmp_path)
    state = load_checkpoint(run / "last.pt")
    state["config"]["optimizer"] = "sgd"
    state["optimizer"] = torch.optim.SGD([torch.zeros(1)], lr=0.1).state_dict()
    state.pop("format")
    save_checkpoint(run / "last.pt", state)
    with pytest.raises(ValueError, match=r"optimizer = 'adam'.*optimizer = 'sgd'"):
        Trainer(TrainConfig.load(run / "config.json"), resume_from=run)


def test_optimizer_state_of_another_rule_is_refused(finished: Path, tmp_path: Path) -> None:
    # A checkpoint whose own config says adam but whose optimizer state is SGD's would fail
    # with KeyError: 'betas' at the first step, after "resuming" was printed.
    run = _copy(finished, tmp_path)
    state = load_checkpoint(run / "last.pt")
    sgd = torch.optim.SGD(create_model("digits_cnn").parameters(), lr=0.1)
    state["optimizer"] = sgd.state_dict()
    state.pop("format")
    save_checkpoint(run / "last.pt", state)
    with pytest.raises(ValueError, match=r"optimizer state .*does not fit optimizer 'adam'"):
        Trainer(TrainConfig.load(run / "config.json"), resume_from=run)


@pytest.mark.parametrize("epochs", [1, 2], ids=["fewer-epochs", "same-epochs"])
def test_resuming_a_finished_run_changes_nothing(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], epochs: int
) -> None:
    run = _copy(finished, tmp_path)
    before = _snapshot(run)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--epochs", str(epochs)]) == 0
    out = capsys.readouterr().out
    assert "already has 2 finished epoch(s)" in out and "nothing to do" in out
    assert _snapshot(run) == before


def test_resume_of_a_checkpoint_with_broken_weights_is_refused(
    finished: Path, tmp_path: Path
) -> None:
    run = _copy(finished, tmp_path)
    state = load_checkpoint(run / "last.pt")
    state["model"]["fc.weight"][0, 0] = float("inf")
    state.pop("format")
    save_checkpoint(run / "last.pt", state)
    config = TrainConfig.load(run / "config.json")
    config.epochs = 3
    with pytest.raises(ValueError, match=r"fc\.weight.*not finite"):
        Trainer(config, resume_from=run)
