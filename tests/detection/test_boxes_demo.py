"""`cnnlab boxes-demo` and the worked example behind it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torchvision.ops as tv

from cnnlab.cli.main import main
from cnnlab.detection.demo import GROUND_TRUTH, run_boxes_demo


def test_cli_writes_the_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "figs" / "boxes.png"
    assert main(["boxes-demo", "--out", str(out), "--proposals", "10"]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    printed = capsys.readouterr().out
    assert "mean IoU with ground truth" in printed and f"wrote {out}" in printed


@pytest.mark.parametrize(
    "argv,match",
    [
        (["--iou-threshold", "1.5"], r"--iou-threshold must be in \[0, 1\], got 1.5"),
        (["--proposals", "0"], "--proposals must be between 1 and 1000, got 0"),
        (["--jitter", "-0.1"], r"--jitter must be in \(0, 1\], got -0.1"),
        (["--out", "boxes.jpeg"], "--out must end in one of .png, .pdf, .svg"),
        (["--seed", "x"], "invalid int value: 'x'"),
    ],
    ids=["iou", "proposals", "jitter", "suffix", "seed-type"],
)
def test_bad_arguments_exit_2_with_one_line(
    argv: list[str], match: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:  # argparse exits itself; ValueErrors return 2
        code = main(["boxes-demo", *argv])
        raise SystemExit(code)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cnnlab boxes-demo: error:")
    assert re.search(match, err), err


def test_regression_and_nms_do_their_jobs() -> None:
    demo = run_boxes_demo(seed=3, test_per_box=30)
    gt = demo.gt_boxes[demo.owners]
    before = tv.box_iou(demo.proposals, gt).diagonal().mean().item()
    after = tv.box_iou(demo.regressed, gt).diagonal().mean().item()
    assert after > before + 0.05, f"mean IoU {before:.3f} -> {after:.3f}"
    survivors = demo.owners[demo.keep].tolist()
    assert set(survivors) == set(range(len(GROUND_TRUTH))), f"survivors' objects {survivors}"
    assert len(survivors) <= 2 * len(GROUND_TRUTH), f"{len(survivors)} survivors"
    assert tv.box_iou(demo.regressed[demo.keep], demo.regressed[demo.keep]).triu(1).max() <= 0.3
