"""The run folder: unique, checked before any work, readable as the umask says, never half-lost."""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
from pathlib import Path

import pytest
from rich.console import Console

import cnnlab.core.files
import cnnlab.train
import cnnlab.train.preflight
import cnnlab.train.setup
from cnnlab.core.validate import InvalidArgument
from cnnlab.train import TrainConfig, Trainer, load_checkpoint


def _cfg(tmp_path: Path, name: str, **kw: object) -> TrainConfig:
    base = {"epochs": 1, "batch_size": 512, "seed": 3, "device": "cpu", "out": str(tmp_path / name)}
    return TrainConfig(**{**base, **kw})


def _quiet() -> Console:
    return Console(file=io.StringIO(), highlight=False, soft_wrap=True)


def test_run_files_follow_the_umask(tmp_path: Path) -> None:
    # Reference: what a plain open() and mkdir() give under the same umask.
    old = os.umask(0o027)
    try:
        Trainer(_cfg(tmp_path, "run"), console=_quiet()).fit()
        (tmp_path / "plain.txt").write_text("x")
        (tmp_path / "plain_dir").mkdir()
    finally:
        os.umask(old)
    run = tmp_path / "run"
    file_mode = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert file_mode == 0o640
    names = sorted(p.name for p in run.iterdir())
    assert names == ["best.pt", "config.json", "curves.png", "last.pt", "metrics.csv"]
    assert {n: stat.S_IMODE((run / n).stat().st_mode) for n in names} == dict.fromkeys(
        names, file_mode
    )
    assert stat.S_IMODE(run.stat().st_mode) == stat.S_IMODE((tmp_path / "plain_dir").stat().st_mode)


def test_default_run_folders_of_the_same_second_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two runs started in the same second (the clock is frozen) get two folders.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cnnlab.train.setup, "default_run_dir", lambda c: Path("runs") / "same")
    first = Trainer(_cfg(tmp_path, "", out=""), console=_quiet())
    second = Trainer(_cfg(tmp_path, "", out=""), console=_quiet())
    assert first.run_dir != second.run_dir
    assert first.run_dir.is_dir() and second.run_dir.is_dir()
    assert (first.config.out, second.config.out) == (str(first.run_dir), str(second.run_dir))


def test_out_expands_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    trainer = Trainer(_cfg(tmp_path, "", out="~/runs/x"), console=_quiet())
    assert trainer.run_dir == tmp_path / "home" / "runs" / "x"
    assert trainer.config.out == str(tmp_path / "home" / "runs" / "x")
    assert not (tmp_path / "~").exists()


def _bad_outs(tmp_path: Path) -> dict[str, tuple[str, str]]:
    (tmp_path / "afile").write_text("x")
    cases = {
        "a-file": (str(tmp_path / "afile"), "is a file, not a folder"),
        "under-a-file": (str(tmp_path / "afile" / "run"), "is a file"),
    }
    if sys.platform.startswith("linux"):  # /proc refuses new files even to root
        cases["unwritable"] = ("/proc/cnnlab-run", "not writable")
    return cases


def test_bad_out_is_refused_before_data_or_model_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("data loaded before --out was checked")

    monkeypatch.setattr(cnnlab.train.preflight, "load_dataset", no_work)
    monkeypatch.setattr(cnnlab.train.setup, "create_model", no_work)
    for name, (out, message) in _bad_outs(tmp_path).items():
        with pytest.raises(InvalidArgument, match=message) as err:
            Trainer(_cfg(tmp_path, "", out=out), console=_quiet())
        assert err.value.argument == "out", name


def test_run_folder_turning_unwritable_keeps_the_last_good_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The folder becomes read-only (or the disk fills) during epoch 2: every new file fails.
    real_mkstemp = cnnlab.core.files.tempfile.mkstemp

    def refuse(*args: object, **kwargs: object) -> object:
        raise PermissionError(errno.EACCES, "Permission denied", kwargs.get("dir"))

    def break_disk(trainer: Trainer, epoch: int, step: int) -> None:
        if (epoch, step) == (1, 1):
            monkeypatch.setattr(cnnlab.core.files.tempfile, "mkstemp", refuse)

    run = tmp_path / "run"
    trainer = Trainer(_cfg(tmp_path, "run", epochs=3), console=_quiet(), on_iteration=break_disk)
    with pytest.raises(cnnlab.train.RunDirectoryError) as err:
        trainer.fit()
    monkeypatch.setattr(cnnlab.core.files.tempfile, "mkstemp", real_mkstemp)
    message = str(err.value)
    assert "\n" not in message
    assert f"cannot write {run / 'last.pt'}" in message and "Permission denied" in message
    assert f"{run / 'last.pt'} holds the end of epoch 1" in message
    assert load_checkpoint(run / "last.pt")["epoch"] == 1
