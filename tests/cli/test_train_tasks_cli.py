"""`cnnlab train --task segmentation|multilabel`: recipes, and bad input as one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnlab.cli.main import main
from cnnlab.train.recipes import recipe


def _png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint8)).save(path)


def _segfolder(root: Path, *, masks_for: int) -> Path:
    rng = np.random.default_rng(0)
    for i in range(4):
        _png(root / "images" / f"s{i}.png", rng.integers(0, 256, (16, 16)))
        if i < masks_for:
            _png(root / "masks" / f"s{i}.png", rng.integers(0, 3, (16, 16)))
    return root


def _multilabel_folder(root: Path, listed: list[str]) -> Path:
    rng = np.random.default_rng(0)
    for i in range(4):
        _png(root / f"im{i}.png", rng.integers(0, 256, (16, 16, 3)))
    rows = [f"{name},{'cat dog' if k % 2 else 'dog'}" for k, name in enumerate(listed)]
    (root / "labels.csv").write_text("file,labels\n" + "\n".join(rows) + "\n")
    return root


def test_recipes_are_the_task_defaults_and_options_win() -> None:
    seg = recipe("segmentation")
    assert (seg.model, seg.dataset, seg.task) == ("unet_small", "scenes", "segmentation")
    assert seg.elastic > 0
    assert recipe("multilabel", lr=0.5).lr == 0.5
    assert recipe("classification") == recipe()
    assert recipe("detection", model_kwargs={"min_size": 96}).model_kwargs == {"min_size": 96}


def _cases(tmp: Path) -> dict[str, tuple[list[str], str]]:
    seg_missing = _segfolder(tmp / "seg", masks_for=2)
    seg_ok = _segfolder(tmp / "segok", masks_for=4)
    unknown_file = _multilabel_folder(tmp / "ml", ["im0.png", "im1.png", "nope.png"])
    ml_ok = _multilabel_folder(tmp / "mlok", [f"im{i}.png" for i in range(4)])
    return {
        "segmentation-with-a-classifier": (
            ["--task", "segmentation", "--model", "digits_cnn"],
            "model 'digits_cnn' is a classification model; task 'segmentation' trains "
            "segmentation models",
        ),
        "multilabel-with-a-unet": (
            ["--task", "multilabel", "--model", "unet_small"],
            "task 'multilabel' trains classification models",
        ),
        "unknown-task": (["--task", "segmentaton"], "--task must be one of"),
        "digits-have-no-masks": (
            ["--task", "segmentation", "--dataset", "digits"],
            "provides classification targets, not segmentation",
        ),
        "segfolder-missing-masks": (
            ["--task", "segmentation", "--dataset", f"segfolder:{seg_missing}"],
            "have no mask of the same stem",
        ),
        "segfolder-policy-augment": (
            [
                "--task",
                "segmentation",
                "--dataset",
                f"segfolder:{seg_ok}",
                "--augment",
                "randaugment",
                "--image-size",
                "16",
            ],
            "cannot move masks",
        ),
        "labels-csv-unknown-file": (
            [
                "--task",
                "multilabel",
                "--dataset",
                f"multilabel:{unknown_file}",
                "--image-size",
                "16",
            ],
            "nope.png",
        ),
        "elastic-for-classification": (["--elastic", "2"], "elastic deformation"),
        "multilabel-label-smoothing": (
            [
                "--task",
                "multilabel",
                "--dataset",
                f"multilabel:{ml_ok}",
                "--label-smoothing",
                "0.1",
            ],
            "label_smoothing",
        ),
    }


def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = _cases(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    for name, (args, message) in cases.items():
        capsys.readouterr()
        try:
            code = main(["train", "--epochs", "1", "--device", "cpu", *args])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        err = capsys.readouterr().err
        assert code == 2, (name, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1, (name, err)
        assert lines[0].startswith("cnnlab train: error:"), (name, lines[0])
        assert message in lines[0], (name, lines[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no run folder made
