"""Multi-label scores against scikit-learn, and best_thresholds against a brute-force search."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, hamming_loss

from cnnlab.core.validate import InvalidArgument
from cnnlab.metrics import MultilabelMeter, best_thresholds, multilabel_scores


def _case(
    seed: int, n: int, c: int, *, empty: tuple[int, ...] = (), ties: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sigmoid scores that lean towards the labels; classes in ``empty`` have no positive;
    with ``ties`` scores are rounded to 0.1 (many equal scores)."""
    g = torch.Generator().manual_seed(seed)
    targets = (torch.rand(n, c, generator=g) < 0.3).long()
    targets[:, list(empty)] = 0
    scores = torch.sigmoid(torch.randn(n, c, generator=g, dtype=torch.float64) + 1.5 * targets)
    if ties:
        scores = (scores * 10).round() / 10
    return scores, targets


def _sklearn(scores: np.ndarray, targets: np.ndarray, thresholds: np.ndarray) -> dict:
    predicted = (scores >= thresholds).astype(int)
    with warnings.catch_warnings():  # classes without positives: sklearn warns, and gives 0
        warnings.simplefilter("ignore")
        return {
            "map": average_precision_score(targets, scores, average="macro"),
            "ap": average_precision_score(targets, scores, average=None),
            "f1_micro": f1_score(targets, predicted, average="micro"),
            "f1_macro": f1_score(targets, predicted, average="macro"),
            "f1": f1_score(targets, predicted, average=None),
            "hamming_loss": hamming_loss(targets, predicted),
            "subset_accuracy": accuracy_score(targets, predicted),
        }


CASES = {
    "n200-c5": (0, 200, 5, (), False),
    "n300-c10-ties": (1, 300, 10, (), True),
    "n150-c8-no-positives": (2, 150, 8, (3, 6), False),
    "n100-c6-ties-no-positives": (3, 100, 6, (0,), True),
    "n1-c4": (4, 1, 4, (), False),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
@pytest.mark.parametrize("threshold", [0.5, "per-class"], ids=["t0.5", "per-class"])
def test_matches_sklearn(case: str, threshold: object) -> None:
    seed, n, c, empty, ties = CASES[case]
    scores, targets = _case(seed, n, c, empty=empty, ties=ties)
    if threshold == "per-class":
        threshold = torch.linspace(0.3, 0.7, c, dtype=torch.float64)
        thresholds = threshold.numpy()
    else:
        thresholds = np.full(c, threshold)
    ours = multilabel_scores(scores, targets, thresholds=threshold)
    reference = _sklearn(scores.numpy(), targets.numpy(), thresholds)
    for key, value in reference.items():
        assert np.allclose(ours[key], value, rtol=0, atol=1e-12), key
    for k in empty:  # a class without positives: AP 0 and F1 0, inside the macro means
        assert ours["ap"][k] == 0.0 and ours["f1"][k] == 0.0


def test_inputs_as_bool_float_and_numpy() -> None:
    scores, targets = _case(5, 80, 4)
    expected = multilabel_scores(scores, targets)
    assert multilabel_scores(scores, targets, thresholds=np.float32(0.5)) == expected
    assert multilabel_scores(scores, targets, thresholds=[0.5] * 4) == expected
    assert multilabel_scores(scores, targets.bool()) == expected
    assert multilabel_scores(scores, targets.double()) == expected
    assert multilabel_scores(scores.numpy(), targets.numpy()) == expected


def _f1(scores: np.ndarray, targets: np.ndarray, t: float) -> float:
    """F1 of ``score >= t`` by counting (0 where nothing is predicted nor present)."""
    predicted, actual = scores >= t, targets == 1
    tp, fp, fn = (
        (predicted & actual).sum(),
        (predicted & ~actual).sum(),
        (~predicted & actual).sum(),
    )
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_best_thresholds_equal_a_brute_force_search(ties: bool) -> None:
    scores, targets = _case(6, 120, 7, empty=(4,), ties=ties)
    chosen = best_thresholds(scores, targets)
    s, y = scores.numpy(), targets.numpy()
    for k in range(7):
        candidates = [*np.unique(s[:, k]).tolist(), np.inf]  # inf: predict nothing
        f1s = {t: _f1(s[:, k], y[:, k], t) for t in candidates}
        best = max(f1s.values())
        if k == 4:  # no positives: every threshold scores 0, the default is kept
            assert best == 0.0 and float(chosen[k]) == 0.5
            continue
        f1_chosen = f1_score(y[:, k], (s[:, k] >= float(chosen[k])).astype(int))
        assert f1_chosen == pytest.approx(best, abs=1e-12), k
        assert float(chosen[k]) == max(t for t, f in f1s.items() if f == pytest.approx(best)), k
    tuned = multilabel_scores(scores, targets, thresholds=chosen)
    assert tuned["f1_macro"] >= multilabel_scores(scores, targets)["f1_macro"]


def test_meter_over_batches_equals_one_shot() -> None:
    scores, targets = _case(7, 256, 6, empty=(2,))
    meter = MultilabelMeter()
    for start in range(0, 256, 50):
        meter.update(scores[start : start + 50], targets[start : start + 50])
    assert meter.compute(0.4) == multilabel_scores(scores, targets, 0.4)
    assert torch.equal(meter.best_thresholds(), best_thresholds(scores, targets))


BAD = {
    "targets-not-binary": (
        lambda: multilabel_scores(torch.rand(3, 2), torch.full((3, 2), 2)),
        r"targets must hold 0/1 indicators, got 2 at \(0, 0\)",
    ),
    "shapes": (
        lambda: multilabel_scores(torch.rand(3, 2), torch.zeros(3, 3)),
        r"same shape, got \(3, 2\) and \(3, 3\)",
    ),
    "one-dimensional": (
        lambda: multilabel_scores(torch.rand(3), torch.zeros(3)),
        r"shape \(N, num_classes\) with N >= 1, got \(3,\)",
    ),
    "nan-scores": (
        lambda: multilabel_scores(torch.full((2, 2), float("nan")), torch.zeros(2, 2)),
        "scores must be finite",
    ),
    "empty-meter": (lambda: MultilabelMeter().compute(), "no samples were stored"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_inputs_say_what_is_wrong(case: str) -> None:
    call, message = BAD[case]
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "thresholds", [float("inf"), [0.5, 0.5, 0.5], "0.5"], ids=["inf", "wrong-count", "string"]
)
def test_bad_thresholds_name_the_argument(thresholds: object) -> None:
    with pytest.raises(InvalidArgument) as error:
        multilabel_scores(torch.rand(4, 2), torch.zeros(4, 2), thresholds=thresholds)
    assert error.value.argument == "thresholds"
