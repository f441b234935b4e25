"""Classification scores against scikit-learn on the same predictions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import classification_report, confusion_matrix, top_k_accuracy_score

from cnnlab.core.validate import InvalidArgument
from cnnlab.metrics import ClassificationMeter, classification_scores


def _case(seed: int, n: int, c: int, skew: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits whose arg-max agrees with the target about half the time; with ``skew`` the last
    classes are never the target, and class 1 is pushed down so that it is rarely predicted."""
    g = torch.Generator().manual_seed(seed)
    classes = max(1, int(c * (1 - skew)))
    targets = torch.randint(0, classes, (n,), generator=g)
    logits = torch.randn(n, c, generator=g, dtype=torch.float64)
    logits[torch.arange(n), targets] += 1.5
    if skew:
        logits[:, 1] -= 10.0
    return logits, targets


def _assert_matches_sklearn(
    scores: dict, logits: torch.Tensor, targets: torch.Tensor, names: list[str]
) -> None:
    c = logits.shape[1]
    y_true, y_pred = targets.numpy(), logits.argmax(1).numpy()
    labels = list(range(c))
    report = classification_report(
        y_true, y_pred, labels=labels, target_names=names, output_dict=True, zero_division=0
    )
    assert scores["accuracy"] == pytest.approx(float(np.mean(y_true == y_pred)), abs=1e-15)
    for name in names:
        ours, ref = scores["per_class"][name], report[name]
        assert ours["precision"] == pytest.approx(ref["precision"], abs=1e-12), name
        assert ours["recall"] == pytest.approx(ref["recall"], abs=1e-12), name
        assert ours["f1"] == pytest.approx(ref["f1-score"], abs=1e-12), name
        assert ours["support"] == ref["support"], name
    assert scores["confusion_matrix"] == confusion_matrix(y_true, y_pred, labels=labels).tolist()
    if c >= 5:
        top5 = top_k_accuracy_score(y_true, logits.numpy(), k=5, labels=labels)
        assert scores["top5"] == pytest.approx(top5, abs=1e-15)
    else:
        assert "top5" not in scores


CASES = [(0, 200, 3, 0.0), (1, 500, 10, 0.0), (2, 300, 10, 0.3), (3, 64, 7, 0.5), (4, 1, 6, 0.0)]


@pytest.mark.parametrize(
    ("seed", "n", "c", "skew"), CASES, ids=[f"n{n}-c{c}-skew{s}" for _, n, c, s in CASES]
)
def test_matches_sklearn(seed: int, n: int, c: int, skew: float) -> None:
    logits, targets = _case(seed, n, c, skew)
    names = [f"class {i}" for i in range(c)]
    scores = classification_scores(logits, targets, c, class_names=names)
    _assert_matches_sklearn(scores, logits, targets, names)


def test_classes_never_predicted_and_never_present_score_zero() -> None:
    """sklearn's zero_division default: 0 for 0 / 0 (class 1 is never predicted, the last
    classes never occur)."""
    logits, targets = _case(5, 400, 8, skew=0.5)
    scores = classification_scores(logits, targets, 8)
    predicted = set(logits.argmax(1).tolist())
    assert 1 not in predicted and {6, 7}.isdisjoint(targets.tolist())
    assert scores["per_class"]["1"]["precision"] == 0.0
    assert scores["per_class"]["7"]["recall"] == 0.0
    _assert_matches_sklearn(scores, logits, targets, [str(i) for i in range(8)])


def test_probabilities_and_predictions_give_the_same_scores() -> None:
    logits, targets = _case(6, 300, 10)
    from_logits = classification_scores(logits, targets, 10)
    from_probs = classification_scores(logits.softmax(1).float(), targets, 10)
    from_labels = classification_scores(logits.argmax(1), targets, 10)
    assert from_probs == from_logits
    assert from_labels == {k: v for k, v in from_logits.items() if k != "top5"}


def test_top5_ties_count_for_the_target() -> None:
    """Fewer than 5 classes strictly above the target's score: a hit (checked by a loop)."""
    scores = torch.tensor(
        [[1.0, 1, 1, 1, 1, 1, 0], [2.0, 2, 2, 2, 2, 1, 1], [0.0, 0, 0, 0, 0, 0, 0]]
    )
    targets = torch.tensor([5, 6, 3])
    rows = zip(scores.tolist(), targets.tolist(), strict=True)
    hits = [sum(v > row[t] for v in row) < 5 for row, t in rows]
    assert hits == [True, False, True]
    assert classification_scores(scores, targets, 7)["top5"] == pytest.approx(2 / 3)


def test_meter_over_batches_equals_one_shot_and_sklearn() -> None:
    logits, targets = _case(7, 1000, 12, skew=0.2)
    meter = ClassificationMeter(12)
    for start in range(0, 1000, 128):
        meter.update(logits[start : start + 128], targets[start : start + 128])
    assert meter.compute() == classification_scores(logits, targets, 12)
    _assert_matches_sklearn(meter.compute(), logits, targets, [str(i) for i in range(12)])
    meter.reset()
    with pytest.raises(ValueError, match="no samples"):
        meter.compute()


def test_meter_keeps_counts_on_the_device_as_int64() -> None:
    logits, targets = _case(8, 50, 6)
    meter = ClassificationMeter(6)
    meter.update(logits, targets)
    assert meter.confusion.dtype == torch.int64 and meter.confusion.device == logits.device
    assert meter.top5_correct.dim() == 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_meter_update_does_not_synchronise_on_cuda() -> None:
    logits, targets = _case(9, 512, 10)
    logits, targets = logits.cuda(), targets.cuda()
    meter = ClassificationMeter(10)
    meter.update(logits, targets)  # the first update allocates
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(3):
            meter.update(logits, targets)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert meter.compute()["per_class"]["0"]["support"] == 4 * int((targets == 0).sum())


BAD = {
    "target-out-of-range": (
        lambda: classification_scores(torch.zeros(3, 4), torch.tensor([0, 4, 1]), 4),
        r"targets must hold integers in \[0, 4\), got 4 at index \(1,\)",
    ),
    "float-targets": (
        lambda: classification_scores(torch.zeros(3, 4), torch.zeros(3), 4),
        "targets must hold integer class indices",
    ),
    "wrong-width": (
        lambda: classification_scores(torch.zeros(3, 5), torch.zeros(3).long(), 4),
        r"shape \(N, num_classes=4\), got \(3, 5\)",
    ),
    "lengths": (
        lambda: classification_scores(torch.zeros(3, 4), torch.zeros(2).long(), 4),
        "same number of samples, got 3 and 2",
    ),
    "nan-logits": (
        lambda: classification_scores(torch.full((2, 4), float("nan")), torch.zeros(2).long(), 4),
        "outputs must be finite",
    ),
    "list": (
        lambda: classification_scores([0, 1], torch.zeros(2).long(), 4),
        "outputs must be a torch.Tensor or a NumPy array, got list",
    ),
    "mixed-kinds": (
        lambda: _mixed_updates(),
        "every update must give the same kind of outputs",
    ),
    "empty": (
        lambda: classification_scores(torch.zeros(0, 4), torch.zeros(0).long(), 4),
        "no samples were counted",
    ),
}


def _mixed_updates() -> None:
    meter = ClassificationMeter(4)
    meter.update(torch.zeros(2, 4), torch.zeros(2).long())
    meter.update(torch.zeros(2).long(), torch.zeros(2).long())


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_inputs_say_what_is_wrong(case: str) -> None:
    call, message = BAD[case]
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"num_classes": 0}, "num_classes"),
        ({"num_classes": 3, "class_names": ["a", "b"]}, "class_names"),
        ({"num_classes": 2, "class_names": ["a", "a"]}, "class_names"),
        ({"num_classes": 2, "class_names": "ab"}, "class_names"),
    ],
    ids=["zero-classes", "too-few-names", "repeated-name", "string"],
)
def test_bad_arguments_name_the_argument(kwargs: dict, argument: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        ClassificationMeter(**kwargs)
    assert error.value.argument == argument
