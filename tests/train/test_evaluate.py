"""Evaluating, predicting and ensembling trained runs, against by-hand references.

The references never go through the code under test: the digits split and statistics come from
scikit-learn and NumPy, the model is rebuilt from the checkpoint file read with ``torch.load``,
the scores come from scikit-learn, the image transform is torchvision's v2 written out.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from rich.console import Console
from sklearn.datasets import load_digits
from sklearn.metrics import classification_report, confusion_matrix, top_k_accuracy_score
from sklearn.model_selection import train_test_split
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from cnnlab.models import create_model
from cnnlab.train import TrainConfig, Trainer
from cnnlab.train.ensembling import ensemble
from cnnlab.train.evaluation import evaluate
from cnnlab.train.prediction import predict_images
from cnnlab.train.trained import load_trained

torch.set_num_threads(2)


def _train(out: Path, **kw: object) -> Path:
    config = TrainConfig(
        **{"epochs": 1, "batch_size": 256, "seed": 0, "device": "cpu", "out": str(out), **kw}
    )
    Trainer(config, console=Console(file=io.StringIO())).fit()
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    return {
        "plain": _train(root / "plain", epochs=2),
        "ema": _train(root / "ema", seed=1, ema=0.9),
    }


@pytest.fixture(scope="module")
def digits() -> dict[str, np.ndarray]:
    """The digits validation split and training statistics, by hand (scikit-learn, NumPy)."""
    d = load_digits()
    images, labels = d.images[:, None] / 16.0, d.target
    train_idx, val_idx = train_test_split(
        np.arange(len(labels)), test_size=0.2, random_state=0, stratify=labels
    )
    train_idx, val_idx = np.sort(train_idx), np.sort(val_idx)
    mean, std = images[train_idx].mean(), images[train_idx].std()
    x_val = ((images[val_idx] - mean) / std).astype(np.float32)
    return {"x_val": x_val, "y_val": labels[val_idx], "mean": mean, "std": std}


def _model(run: Path, checkpoint: str = "best", key: str = "model") -> torch.nn.Module:
    state = torch.load(run / f"{checkpoint}.pt", weights_only=True)
    model = create_model("digits_cnn")
    model.load_state_dict(state[key])
    return model.eval()


def _logits(model: torch.nn.Module, x: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.from_numpy(x)).double()


def _val_acc(run: Path, epoch: int) -> float:
    with open(run / "metrics.csv", newline="") as f:
        rows = {int(r["epoch"]): float(r["val_acc"]) for r in csv.DictReader(f)}
    return rows[epoch]


@pytest.mark.parametrize("checkpoint", ["best", "last"])
def test_eval_equals_scikit_learn_and_the_trainers_val_acc(
    runs: dict[str, Path], digits: dict[str, np.ndarray], checkpoint: str
) -> None:
    run = runs["plain"]
    result = evaluate(load_trained(run, checkpoint))
    metrics = result.report.metrics
    y = digits["y_val"]
    logits = _logits(_model(run, checkpoint), digits["x_val"])
    pred = logits.argmax(1).numpy()
    assert result.targets.numpy().tolist() == y.tolist()
    assert result.outputs.argmax(1).numpy().tolist() == pred.tolist()
    epoch = torch.load(run / f"{checkpoint}.pt", weights_only=True)["epoch"]
    assert metrics["accuracy"] == _val_acc(run, epoch)
    assert metrics["accuracy"] == pytest.approx(float((pred == y).mean()), abs=1e-15)
    top5 = top_k_accuracy_score(y, logits.numpy(), k=5, labels=range(10))
    assert metrics["top5"] == pytest.approx(top5, abs=1e-15)
    report = classification_report(y, pred, output_dict=True, zero_division=0, labels=range(10))
    for c in range(10):
        ours, theirs = metrics["per_class"][str(c)], report[str(c)]
        for key in ("precision", "recall", "f1"):
            assert ours[key] == pytest.approx(theirs[f"{key}-score" if key == "f1" else key])
        assert ours["support"] == theirs["support"]
    assert metrics["confusion_matrix"] == confusion_matrix(y, pred, labels=range(10)).tolist()


def test_eval_uses_the_moving_average_saved_in_best_pt(
    runs: dict[str, Path], digits: dict[str, np.ndarray]
) -> None:
    run = runs["ema"]
    result = evaluate(load_trained(run))
    averaged = _logits(_model(run, key="model"), digits["x_val"])
    raw = _logits(_model(run, key="train_model"), digits["x_val"])
    assert not torch.allclose(averaged, raw, atol=1e-3)  # the two weight sets differ
    torch.testing.assert_close(result.outputs.double(), averaged, rtol=1e-5, atol=1e-5)
    assert result.report.metrics["accuracy"] == _val_acc(run, 1)


def test_eval_on_another_dataset_uses_the_runs_preprocessing(
    runs: dict[str, Path], digits: dict[str, np.ndarray]
) -> None:
    # A digits (8x8) run on mnist5k's validation digits: resized to 8x8 and standardised with
    # the digits' training statistics, not mnist5k's own.
    from cnnlab.data.arrays import load_raw

    raw = load_raw("mnist5k")
    x = torch.from_numpy(raw.images[raw.val_idx])
    x = TF.resize(x, [8, 8], antialias=True)
    x = ((x - digits["mean"]) / digits["std"]).to(torch.float32).numpy()
    reference = _logits(_model(runs["plain"]), x)
    result = evaluate(load_trained(runs["plain"]), "mnist5k")
    assert result.targets.numpy().tolist() == raw.labels[raw.val_idx].tolist()
    torch.testing.assert_close(result.outputs.double(), reference, rtol=1e-4, atol=1e-4)
    agree = (result.outputs.argmax(1) == reference.argmax(1)).double().mean().item()
    assert agree >= 0.998


def test_predict_equals_the_validation_transform_by_hand(
    runs: dict[str, Path], digits: dict[str, np.ndarray], tmp_path: Path
) -> None:
    d = load_digits()
    grey = tmp_path / "grey.png"
    Image.fromarray(np.round(d.images[3] / 16 * 255).astype(np.uint8)).save(grey)
    rgb = tmp_path / "rgb.jpg"  # another size and 3 channels: resized and made grey
    big = Image.fromarray(np.round(d.images[7] / 16 * 255).astype(np.uint8)).resize((20, 20))
    big.convert("RGB").save(rgb, quality=95)
    transform = v2.Compose(
        [
            v2.Grayscale(num_output_channels=1),
            v2.ToImage(),
            v2.Resize((8, 8)),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize([float(digits["mean"])], [float(digits["std"])]),
        ]
    )
    x = torch.stack([transform(Image.open(p).convert("RGB")) for p in (grey, rgb)])
    probs = torch.softmax(_logits(_model(runs["plain"]), x.numpy()), dim=1)
    prediction = predict_images(load_trained(runs["plain"]), [grey, rgb], top_k=3)
    for row, result in zip(probs, prediction.results, strict=True):
        values, indices = row.topk(3)
        assert [t["index"] for t in result["top"]] == indices.tolist()
        assert [t["class"] for t in result["top"]] == [str(i) for i in indices.tolist()]
        got = [t["probability"] for t in result["top"]]
        np.testing.assert_allclose(got, values.numpy(), rtol=1e-5, atol=1e-7)
    everything = predict_images(load_trained(runs["plain"]), [grey], top_k=50).results[0]
    assert len(everything["top"]) == 10  # at most every class


def test_ensemble_averages_softmax_probabilities(
    runs: dict[str, Path], digits: dict[str, np.ndarray]
) -> None:
    members = [load_trained(runs["plain"]), load_trained(runs["ema"])]
    result = ensemble(members)
    probs = [torch.softmax(_logits(_model(r), digits["x_val"]), 1) for r in runs.values()]
    mean = (probs[0] + probs[1]) / 2
    torch.testing.assert_close(result.probabilities, mean, rtol=1e-5, atol=1e-6)
    y = torch.from_numpy(digits["y_val"])
    by_hand = (mean.argmax(1) == y).double().mean().item()
    assert result.report.metrics["accuracy"] == pytest.approx(by_hand, abs=1e-15)
    for member, run in zip(result.members, runs.values(), strict=True):
        assert member.report.metrics["accuracy"] == _val_acc(run, member.run.epoch)
