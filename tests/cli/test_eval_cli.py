"""`cnnlab eval`, `predict` and `ensemble` end to end: the files and tables, and bad input."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from rich.console import Console
from sklearn.metrics import confusion_matrix

from cnnlab.cli.main import main
from cnnlab.train import TrainConfig, Trainer, save_checkpoint

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run"
    config = TrainConfig(epochs=1, batch_size=256, seed=0, device="cpu", out=str(out))
    Trainer(config, console=Console(file=io.StringIO())).fit()
    return out


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("images") / "digit.png"
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8) * 4).save(path)
    return path


def _one_error_line(capsys: pytest.CaptureFixture[str], command: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"cnnlab {command}: error: ")
    return err


def test_eval_writes_metrics_predictions_and_figure(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "eval"
    assert main(["eval", str(run), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) >= {"accuracy", "top5", "per_class", "confusion_matrix", "run"}
    assert metrics["run"]["checkpoint"] == "best.pt" and metrics["run"]["samples"] == 360
    assert f"accuracy {metrics['accuracy']:.4f} on 360 samples" in printed
    with open(out / "predictions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["index", "target", "prediction", "confidence"]
    targets = [int(r["target"]) for r in rows]
    preds = [int(r["prediction"]) for r in rows]
    assert [int(r["index"]) for r in rows] == list(range(360))
    assert all(0.1 <= float(r["confidence"]) <= 1 for r in rows)  # a max over 10 classes
    assert metrics["confusion_matrix"] == confusion_matrix(targets, preds).tolist()
    assert metrics["accuracy"] == np.mean(np.array(targets) == np.array(preds))
    for name, row in metrics["per_class"].items():
        assert row["support"] == targets.count(int(name))
    assert (out / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_default_folder_is_inside_the_run(run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    assert main(["eval", str(copy), "--checkpoint", "last"]) == 0
    assert (copy / "eval-last" / "metrics.json").is_file()


def test_predict_table_and_json(
    run: Path, image: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["predict", str(run), str(image), "--format", "json", "--top-k", "3"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[0]["image"] == str(image) and len(records[0]["top"]) == 3
    probs = [t["probability"] for t in records[0]["top"]]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-12
    out = tmp_path / "pred"
    assert main(["predict", str(run), str(image), "--top-k", "2", "--out", str(out)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["image", "rank", "class", "probability"]
    first = records[0]["top"][0]
    assert table[1].split() == [str(image), "1", first["class"], f"{first['probability']:.4f}"]
    assert len(table) == 3
    assert json.loads((out / "predictions.json").read_text())[0]["top"] == records[0]["top"][:2]


def test_ensemble_prints_members_and_ensemble(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(run, twin)
    out = tmp_path / "ens"
    assert main(["ensemble", str(run), str(twin), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    single = json.loads((out / "metrics.json").read_text())["accuracy"]
    with open(run / "metrics.csv", newline="") as f:
        val_acc = float(next(csv.DictReader(f))["val_acc"])
    assert single == pytest.approx(val_acc)  # two identical members: the member's accuracy
    assert lines[1].split() == ["member", "accuracy", "top5"]
    assert [line.split()[-2] for line in lines[2:5]] == [f"{val_acc:.4f}"] * 3
    assert lines[4].startswith("ensemble of 2")


def _with_classes(run: Path, tmp_path: Path, classes: list[str]) -> Path:
    other = tmp_path / "other"
    shutil.copytree(run, other)
    state = torch.load(other / "best.pt", weights_only=True)
    state["classes"] = classes
    state["preprocess"] = {"image_size": [8, 8], "mean": [0.3], "std": [0.4]}
    save_checkpoint(other / "best.pt", {k: v for k, v in state.items() if k != "format"})
    return other


def test_checkpoint_classes_and_preprocess_are_used(
    run: Path, image: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cnnlab.train.trained import load_trained

    letters = list("abcdefghij")
    trained = load_trained(_with_classes(run, tmp_path, letters))
    assert trained.classes == letters and trained.data is None  # nothing reloaded
    assert trained.preprocess.mean == (0.3,) and trained.preprocess.std == (0.4,)
    assert main(["predict", str(tmp_path / "other"), str(image), "--top-k", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[2] in letters


def test_bad_input_is_one_line_and_exit_2(
    run: Path, image: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    only_last = tmp_path / "only_last"
    only_last.mkdir()
    shutil.copy(run / "last.pt", only_last / "last.pt")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    other = _with_classes(run, tmp_path, list("abcdefghij"))
    cases = {
        "eval": [
            ([str(tmp_path / "missing")], "does not exist"),
            ([str(empty)], "has no checkpoint best.pt"),
            ([str(only_last)], "--checkpoint last"),
            ([str(run), "--checkpoint", "middle"], "--checkpoint must be one of"),
            ([str(run), "--dataset", "scenes"], "not classification"),
            ([str(run), "--out", str(image)], "--out"),
            ([str(other)], "was trained on ['a', 'b'"),  # its dataset no longer matches
        ],
        "predict": [
            ([str(tmp_path / "missing"), str(image)], "does not exist"),
            ([str(empty), str(image)], "has no checkpoint"),
            ([str(run), str(broken)], "cannot read image"),
            ([str(run), str(tmp_path / "nope.png")], "no such file"),
            ([str(run), str(image), "--top-k", "0"], "--top-k must be a positive integer"),
            ([str(run), str(image), "--device", "tpu"], "--device must be one of"),
        ],
        "ensemble": [
            ([str(run)], "at least 2"),
            ([str(run), str(tmp_path / "missing")], "does not exist"),
            ([str(run), str(other)], "share their classes"),
            ([str(run), str(run), "--dataset", "digits:x"], "takes no path"),
        ],
    }
    for command, calls in cases.items():
        for args, expected in calls:
            assert main([command, *args]) == 2, (command, args)
            assert expected in _one_error_line(capsys, command), (command, args)
