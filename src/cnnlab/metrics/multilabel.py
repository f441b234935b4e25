"""Multi-label scores: mAP, micro/macro F1, Hamming loss, subset accuracy, best thresholds.

A multi-label model scores every class independently (a sigmoid per class, not a softmax over
them), so each class is its own binary problem. Conventions, those of scikit-learn (the tests
compare with ``average_precision_score``, ``f1_score``, ``hamming_loss`` and ``accuracy_score``):

- ``map``: the mean over classes of the average precision (step-wise area under the
  precision-recall curve, no interpolation). It ranks, so it needs no threshold.
- A predicted label is ``score >= threshold`` (one threshold, or one per class).
- ``f1_micro`` pools TP, FP, FN over all classes; ``f1_macro`` averages per-class F1
  (``f1``), each 2 TP / (2 TP + FP + FN), with 0 where that denominator is 0.
- ``hamming_loss``: the fraction of wrong (sample, class) decisions; ``subset_accuracy``: the
  fraction of samples whose whole label set is right.
- **A class with no positive sample** has AP 0 and F1 0 and both count in the macro means, as in
  scikit-learn (which warns). torchmetrics' ``MultilabelAveragePrecision`` instead leaves such a
  class out of its mean; make the validation set contain every class to avoid the question.
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
from torch import Tensor

from cnnlab.core import validate
from cnnlab.metrics._checks import as_tensor, check_binary, check_finite, check_same_shape
from cnnlab.metrics.average_precision import average_precision, best_f1_thresholds

__all__ = ["MultilabelMeter", "best_thresholds", "multilabel_scores"]


def _inputs(scores: Any, targets: Any) -> tuple[Tensor, Tensor]:
    scores, targets = as_tensor(scores, "scores"), as_tensor(targets, "targets")
    if scores.dim() != 2 or scores.shape[0] == 0:
        raise ValueError(
            f"scores must have shape (N, num_classes) with N >= 1, got {tuple(scores.shape)}"
        )
    check_same_shape(scores, "scores", targets, "targets")
    check_finite(scores, "scores")
    return scores, check_binary(targets, "targets").to(scores.device)


def _thresholds(thresholds: Any, num_classes: int, scores: Tensor) -> Tensor:
    """One threshold or one per class, as a ``(C,)`` tensor beside the scores."""
    if isinstance(thresholds, numbers.Real) and not isinstance(thresholds, bool):
        value = validate.number("thresholds", thresholds)
        return torch.full((num_classes,), value, dtype=scores.dtype, device=scores.device)
    try:
        values = torch.as_tensor(thresholds, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as error:
        raise validate.InvalidArgument(
            "thresholds",
            f"thresholds must be a number or {num_classes} numbers, got {thresholds!r}",
        ) from error
    if values.shape != (num_classes,) or not bool(torch.isfinite(values.cpu()).all()):
        raise validate.InvalidArgument(
            "thresholds",
            f"thresholds must be a finite number or {num_classes} finite numbers (one per "
            f"class), got shape {tuple(values.shape)}: {thresholds!r}",
        )
    return values.to(device=scores.device, dtype=scores.dtype)


def _f1(tp: Tensor, fp: Tensor, fn: Tensor) -> Tensor:
    den = 2 * tp + fp + fn
    return torch.where(den > 0, 2 * tp / den.clamp(min=1), 0.0)


def multilabel_scores(scores: Any, targets: Any, thresholds: Any = 0.5) -> dict[str, Any]:
    """mAP, micro and macro F1, Hamming loss and subset accuracy of multi-label predictions.

    Args:
        scores: ``(N, C)`` per-class scores, usually sigmoid probabilities (the thresholds are
            in the scores' units: 0.5 suits probabilities, 0 suits logits).
        targets: ``(N, C)`` 0/1 labels (bool, integer or float).
        thresholds: one number, or ``C`` numbers (one per class, e.g. from
            :func:`best_thresholds`); a label is predicted when ``score >= threshold``.

    Returns:
        ``map``, ``f1_micro``, ``f1_macro``, ``hamming_loss``, ``subset_accuracy`` (floats), and
        per class ``ap`` and ``f1`` (lists of ``C`` floats). See the module docstring for the
        conventions (scikit-learn's), including classes without positives.

    Shape:
        - scores, targets: ``(N, C)``

    Example:
        >>> scores = torch.tensor([[0.9, 0.6], [0.2, 0.4]])
        >>> s = multilabel_scores(scores, torch.tensor([[1, 1], [0, 1]]))
        >>> s["map"], s["hamming_loss"]
        (1.0, 0.25)
    """
    scores, labels = _inputs(scores, targets)
    num_classes = scores.shape[1]
    predicted = scores >= _thresholds(thresholds, num_classes, scores)
    tp = (predicted & labels).sum(dim=0).to(torch.float64)
    fp = (predicted & ~labels).sum(dim=0).to(torch.float64)
    fn = (~predicted & labels).sum(dim=0).to(torch.float64)
    ap = average_precision(scores, labels)
    f1 = _f1(tp, fp, fn)
    return {
        "map": float(ap.mean()),
        "f1_micro": float(_f1(tp.sum(), fp.sum(), fn.sum())),
        "f1_macro": float(f1.mean()),
        "hamming_loss": float((predicted != labels).to(torch.float64).mean()),
        "subset_accuracy": float((predicted == labels).all(dim=1).to(torch.float64).mean()),
        "ap": ap.tolist(),
        "f1": f1.tolist(),
    }


def best_thresholds(scores: Any, targets: Any, *, default: float = 0.5) -> Tensor:
    """Per class, the threshold that maximises that class's F1 on these (validation) data.

    Every distinct score of the class is a candidate (predict ``score >= t``); among equally
    good thresholds the highest is kept. A class with no positive sample cannot be tuned (its F1
    is 0 whatever the threshold) and keeps ``default``. Use the result as ``thresholds`` of
    :func:`multilabel_scores` and at prediction time.

    Args:
        scores: ``(N, C)`` per-class scores.
        targets: ``(N, C)`` 0/1 labels.
        default: threshold for classes without positives.

    Returns:
        ``(C,)`` tensor of thresholds, on the scores' device.

    Shape:
        - scores, targets: ``(N, C)``
    """
    default = validate.number("default", default)
    scores, labels = _inputs(scores, targets)
    return best_f1_thresholds(scores, labels, default)


class MultilabelMeter:
    """Collects the scores and labels of a multi-label validation pass, on their device.

    Average precision ranks all samples at once, so unlike the confusion-matrix meters this one
    keeps every batch (``N x C`` numbers: small for validation sets); ``update`` only stores
    (no host synchronisation) and ``compute`` scores the concatenation.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every update."""
        self._scores: list[Tensor] = []
        self._targets: list[Tensor] = []

    def update(self, scores: Any, targets: Any) -> None:
        """Store one batch: ``scores`` and 0/1 ``targets``, both ``(N, C)``."""
        scores, targets = as_tensor(scores, "scores"), as_tensor(targets, "targets")
        check_same_shape(scores, "scores", targets, "targets")
        if self._scores and scores.shape[1:] != self._scores[0].shape[1:]:
            raise ValueError(
                f"scores must keep the same number of classes across updates: "
                f"first {tuple(self._scores[0].shape)}, now {tuple(scores.shape)}"
            )
        self._scores.append(scores)
        self._targets.append(targets.to(scores.device))

    def _stacked(self) -> tuple[Tensor, Tensor]:
        if not self._scores:
            raise ValueError("no samples were stored: call update() first")
        return torch.cat(self._scores), torch.cat(self._targets)

    @property
    def count(self) -> int:
        """The number of samples stored (read from shapes: no device synchronisation)."""
        return sum(int(s.shape[0]) for s in self._scores)

    def stacked(self) -> tuple[Tensor, Tensor]:
        """Everything stored: ``(scores, targets)``, each ``(N, C)``.

        Raises:
            ValueError: nothing was stored.
        """
        return self._stacked()

    def compute(self, thresholds: Any = 0.5) -> dict[str, Any]:
        """:func:`multilabel_scores` of everything stored."""
        return multilabel_scores(*self._stacked(), thresholds)

    def best_thresholds(self, *, default: float = 0.5) -> Tensor:
        """:func:`best_thresholds` of everything stored."""
        return best_thresholds(*self._stacked(), default=default)
