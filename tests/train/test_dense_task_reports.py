"""The eval/predict hooks of the segmentation and multi-label tasks against scikit-learn/NumPy."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, f1_score, jaccard_score

from cnnlab.data.segfolder import read_mask
from cnnlab.train.tasks import get_task


def _segmentation(num_classes: int = 4):
    return get_task("segmentation")(SimpleNamespace(num_classes=num_classes, ignore_index=255))


def test_segmentation_report_has_per_class_iou_as_sklearn() -> None:
    torch.manual_seed(0)
    scores = torch.randn(3, 4, 6, 5)
    scores[:, 3] = -10  # class 3 is never predicted...
    target = torch.randint(0, 3, (3, 6, 5))  # ...nor present: its IoU is undefined
    target[0, 0] = 255
    report = _segmentation().report(scores, target, ["bg", "a", "b", "c"])
    pred, truth = scores.argmax(1).numpy().ravel(), target.numpy().ravel()
    keep = truth != 255
    ref = jaccard_score(truth[keep], pred[keep], labels=[0, 1, 2], average=None)
    iou = report.metrics["iou"]
    assert [iou[n] for n in ("bg", "a", "b")] == pytest.approx(ref.tolist(), abs=1e-12)
    assert iou["c"] is None
    assert report.metrics["mean_iou"] == pytest.approx(ref.mean(), abs=1e-12)
    assert report.metrics["pixel_accuracy"] == pytest.approx((pred == truth)[keep].mean())
    assert any("mean IoU" in line for line in report.table)


def test_segmentation_predict_writes_index_masks(tmp_path: Path) -> None:
    torch.manual_seed(1)
    scores = torch.randn(2, 4, 7, 9)
    task = _segmentation()
    names = ["a.jpg", "b.png"]
    files = task.prediction_files(scores, names, ["bg", "x", "y", "z"])
    assert sorted(files) == ["a.png", "b.png"]
    for i, (name, write) in enumerate(sorted(files.items())):
        write(tmp_path / name)
        assert np.array_equal(read_mask(tmp_path / name), scores[i].argmax(0).numpy())
    results = task.predict(scores, ["bg", "x", "y", "z"], top_k=4)
    for result, s in zip(results, scores, strict=True):
        counts = np.bincount(s.argmax(0).numpy().ravel(), minlength=4) / 63
        got = {c["index"]: c["fraction"] for c in result["classes"]}
        assert got == {i: pytest.approx(f) for i, f in enumerate(counts) if f > 0}
        assert math.isclose(sum(got.values()), 1.0)


def test_multilabel_report_and_predict_use_the_saved_thresholds() -> None:
    rng = np.random.default_rng(0)
    logits = torch.tensor(rng.normal(size=(40, 3)))
    targets = torch.tensor(rng.integers(0, 2, size=(40, 3)))
    task = get_task("multilabel")(SimpleNamespace(num_classes=3))
    thresholds = torch.tensor([0.3, 0.5, 0.7], dtype=torch.float64)
    task.load_state_dict({"thresholds": thresholds})
    assert torch.equal(task.state_dict()["thresholds"], thresholds)
    report = task.report(logits, targets, ["cat", "dog", "owl"])
    probs = torch.sigmoid(logits).numpy()
    chosen = probs >= thresholds.numpy()
    y = targets.numpy()
    m = report.metrics
    assert m["f1_macro"] == pytest.approx(f1_score(y, chosen, average="macro"), abs=1e-12)
    assert m["f1_micro"] == pytest.approx(f1_score(y, chosen, average="micro"), abs=1e-12)
    assert m["map"] == pytest.approx(average_precision_score(y, probs, average="macro"))
    assert m["per_class"]["owl"]["threshold"] == 0.7
    results = task.predict(logits, ["cat", "dog", "owl"], top_k=2)
    for result, row in zip(results, chosen, strict=True):
        assert result["labels"] == [n for n, c in zip(["cat", "dog", "owl"], row, strict=True) if c]
        assert len(result["top"]) == 2
    with pytest.raises(ValueError, match="thresholds are for 2 classes, the data has 3"):
        task.load_state_dict({"thresholds": torch.zeros(2)})
