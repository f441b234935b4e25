"""`cnnlab boxes-demo`: writes the figure; bad options and output paths get one line, exit 2."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import cnnlab.core.files as files
from cnnlab.cli.main import main
from cnnlab.demos import boxes


def _fails_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stop:  # argparse exits itself; ValueErrors return 2
        raise SystemExit(main(["boxes-demo", *argv]))
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cnnlab boxes-demo: error:"), err
    return err


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the demo starts: every check must come before any work."""

    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("the demo started before the options were checked")

    monkeypatch.setattr(boxes, "load_scene", started)
    monkeypatch.setattr(boxes, "plot_boxes_demo", started)


def test_cli_writes_the_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["boxes-demo", "--out", "~/figs/boxes.png", "--proposals", "10"]) == 0
    out = tmp_path / "figs" / "boxes.png"  # ~ expanded, the missing folder made
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    assert os.stat(out).st_mode & 0o777 == 0o666 & ~files.current_umask()
    printed = capsys.readouterr().out
    assert "mean IoU with ground truth" in printed and f"wrote {out}" in printed


@pytest.mark.parametrize(
    "argv,match",
    [
        (
            ["--iou-threshold", "1.5"],
            r"--iou-threshold must be a finite number in \[0, 1\], got 1.5",
        ),
        (
            ["--iou-threshold", "nan"],
            r"--iou-threshold must be a finite number in \[0, 1\], got nan",
        ),
        (["--proposals", "0"], "--proposals must be a positive integer <= 1000, got 0"),
        (["--jitter", "-0.1"], r"--jitter must be a finite number in \(0, 1\], got -0.1"),
        (["--seed", "-1"], "--seed must be an integer >= 0, got -1"),
        (["--seed", str(10**30)], "--seed must be an integer >= 0, got 1000000000000"),
        (["--seed", "x"], "invalid int value: 'x'"),
    ],
    ids=["iou", "iou-nan", "proposals", "jitter", "seed-neg", "seed-huge", "seed-type"],
)
def test_bad_options(
    argv: list[str], match: str, tmp_path: Path, no_work: None, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _fails_with_one_line([*argv, "--out", str(tmp_path / "b.png")], capsys)
    assert re.search(match, err), err


@pytest.mark.parametrize(
    "where,match",
    [
        ("under-a-file", r"--out '.*/afile/b.png' cannot be created: '.*/afile' is a file"),
        ("folder", r"--out '.*/b.png' is a folder; give a file name"),
        ("proc", r"--out '/proc/x.png' cannot be created: '/proc' is not writable"),
        ("unwritable", r"--out '.*/ro/b.png' cannot be created: '.*/ro' is not writable"),
        ("suffix", r"--out must end in one of \['.pdf', '.png', '.svg'\], got '.*b.jpeg'"),
    ],
    ids=["under-a-file", "folder", "proc", "unwritable", "suffix"],
)
def test_bad_out_is_refused_before_any_work(
    where: str,
    match: str,
    tmp_path: Path,
    no_work: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "afile").write_text("x")
    (tmp_path / "b.png").mkdir()
    (tmp_path / "ro").mkdir()
    if where == "unwritable":  # root ignores mode bits: simulate what a user meets
        real = files._can_write_in
        monkeypatch.setattr(files, "_can_write_in", lambda d: d.name != "ro" and real(d))
    out = {
        "under-a-file": tmp_path / "afile" / "b.png",
        "folder": tmp_path / "b.png",
        "proc": Path("/proc/x.png"),
        "unwritable": tmp_path / "ro" / "b.png",
        "suffix": tmp_path / "b.jpeg",
    }[where]
    err = _fails_with_one_line(["--out", str(out)], capsys)
    assert re.search(match, err), err
