"""Classification scores: accuracy, top-5, per-class precision/recall/F1, the confusion matrix.

Every number is a function of the confusion matrix (and, for top-5, of one counter), so
:class:`ClassificationMeter` accumulates exactly those on the tensors' device, batch after batch,
and :func:`classification_scores` is the one-shot form of the same meter.

Conventions, those of scikit-learn (the tests compare with ``classification_report``,
``confusion_matrix`` and ``top_k_accuracy_score``):

- ``confusion_matrix[i][j]`` counts samples of true class ``i`` predicted as ``j`` (rows =
  targets, as ``sklearn.metrics.confusion_matrix``).
- precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2 TP / (2 TP + FP + FN). A ratio
  whose denominator is zero (precision of a class never predicted, recall of a class absent from
  the targets, F1 of a class in neither) is **0**: scikit-learn's default ``zero_division``
  (it also warns; we do not).
- The prediction is the arg-max of the scores (the first maximum on ties, as ``torch.argmax``);
  logits and probabilities give the same predictions and the same top-5.
- top-5 counts a sample as correct when fewer than 5 classes score *strictly* higher than the
  true class (ties go the true class's way; ``top_k_accuracy_score`` breaks ties by class index
  instead, which only matters for exactly equal scores). Reported when ``num_classes >= 5`` and
  scores, not bare predictions, were given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from cnnlab.core import validate
from cnnlab.metrics._checks import (
    as_tensor,
    check_class_names,
    check_finite,
    check_integer_labels,
)
from cnnlab.metrics.confusion import confusion_counts

__all__ = ["TOP_K", "ClassificationMeter", "classification_scores"]

TOP_K = 5
"""The ``k`` of the top-k accuracy reported as ``top5``."""


def _ratio(num: Tensor, den: Tensor) -> Tensor:
    """``num / den`` with 0 where ``den == 0`` (scikit-learn's default zero division)."""
    return torch.where(den > 0, num / den.clamp(min=1), torch.zeros_like(num))


class ClassificationMeter:
    """Accumulates a classifier's confusion matrix (and top-5 hits) over batches, on device.

    ``update`` never reads a value on the host (the counts stay on the tensors' device), so it
    can run every validation step; ``compute`` reads them once. In a ``DistributedDataParallel``
    run, sum ``meter.confusion`` and ``meter.top5_correct`` over processes with
    ``torch.distributed.all_reduce`` before ``compute``.

    Args:
        num_classes: the number of classes ``C``.
        class_names: ``C`` distinct names for ``per_class`` (default ``"0"``, ``"1"``, ...).

    Example:
        >>> meter = ClassificationMeter(3)
        >>> meter.update(torch.tensor([0, 2, 1]), torch.tensor([0, 1, 1]))
        >>> meter.compute()["accuracy"]
        0.6666666666666666
    """

    def __init__(self, num_classes: int, class_names: Sequence[str] | None = None) -> None:
        self.num_classes = validate.positive_int("num_classes", num_classes)
        self.class_names = check_class_names(class_names, self.num_classes)
        self.reset()

    def reset(self) -> None:
        """Forget every update."""
        self.confusion: Tensor | None = None
        self.top5_correct: Tensor | None = None
        self._with_scores: bool | None = None

    def update(self, outputs: Any, targets: Any) -> None:
        """Count one batch.

        Args:
            outputs: scores ``(N, C)`` (logits or probabilities, floating point), or predicted
                class indices ``(N,)`` (integers). Every update gives the same kind.
            targets: true class indices ``(N,)``.

        Shape:
            - outputs: ``(N, C)`` or ``(N,)``
            - targets: ``(N,)``
        """
        c = self.num_classes
        outputs, targets = as_tensor(outputs, "outputs"), as_tensor(targets, "targets")
        if targets.dim() != 1:
            raise ValueError(
                f"targets must be class indices of shape (N,), got {tuple(targets.shape)}"
            )
        with_scores = outputs.is_floating_point()
        if with_scores and (outputs.dim() != 2 or outputs.shape[1] != c):
            raise ValueError(
                f"outputs with scores must have shape (N, num_classes={c}), "
                f"got {tuple(outputs.shape)}"
            )
        if not with_scores and outputs.dim() != 1:
            raise ValueError(
                "outputs must be scores (N, num_classes) or predicted class indices (N,), "
                f"got shape {tuple(outputs.shape)} of dtype {outputs.dtype}"
            )
        if outputs.shape[0] != targets.shape[0]:
            raise ValueError(
                f"outputs and targets must have the same number of samples, "
                f"got {outputs.shape[0]} and {targets.shape[0]}"
            )
        if self._with_scores is not None and with_scores != self._with_scores:
            kinds = {True: "scores (N, C)", False: "class indices (N,)"}
            raise ValueError(
                f"every update must give the same kind of outputs: earlier updates gave "
                f"{kinds[self._with_scores]}, this one {kinds[with_scores]}"
            )
        if self.confusion is not None and outputs.device != self.confusion.device:
            raise ValueError(
                f"outputs must stay on one device across updates: the meter holds its counts "
                f"on {self.confusion.device}, got {outputs.device}"
            )
        check_integer_labels(targets, "targets", c)
        if with_scores:
            check_finite(outputs, "outputs")
            predictions = outputs.argmax(dim=1)
        else:
            predictions = check_integer_labels(outputs, "outputs", c)
        targets = targets.to(outputs.device)
        self._with_scores = with_scores
        counts = confusion_counts(predictions, targets, c)
        self.confusion = counts if self.confusion is None else self.confusion + counts
        if with_scores and c >= TOP_K:
            true_score = outputs.gather(1, targets[:, None].to(torch.int64))
            hits = ((outputs > true_score).sum(dim=1) < TOP_K).sum()
            self.top5_correct = hits if self.top5_correct is None else self.top5_correct + hits

    def compute(self) -> dict[str, Any]:
        """The scores so far, as plain Python numbers (JSON-ready).

        Returns:
            ``accuracy`` (fraction), ``top5`` (when there are >= 5 classes and scores were
            given), ``per_class`` (class name -> ``precision``, ``recall``, ``f1``,
            ``support``), ``confusion_matrix`` (list of rows, rows = targets).

        Raises:
            ValueError: nothing was counted yet.
        """
        if self.confusion is None or int(self.confusion.sum()) == 0:
            raise ValueError("no samples were counted: call update() with a non-empty batch first")
        cm = self.confusion.to(torch.float64)
        tp = cm.diagonal()
        support, predicted = cm.sum(dim=1), cm.sum(dim=0)
        total = cm.sum()
        precision = _ratio(tp, predicted).tolist()
        recall = _ratio(tp, support).tolist()
        f1 = _ratio(2 * tp, support + predicted).tolist()
        counts = self.confusion.tolist()
        scores: dict[str, Any] = {"accuracy": float(tp.sum() / total)}
        if self.top5_correct is not None:
            scores["top5"] = float(self.top5_correct.to(torch.float64) / total)
        scores["per_class"] = {
            name: {
                "precision": precision[i],
                "recall": recall[i],
                "f1": f1[i],
                "support": int(sum(counts[i])),
            }
            for i, name in enumerate(self.class_names)
        }
        scores["confusion_matrix"] = counts
        return scores


def classification_scores(
    outputs: Any,
    targets: Any,
    num_classes: int,
    class_names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Accuracy, top-5, per-class precision/recall/F1/support and the confusion matrix.

    The one-shot form of :class:`ClassificationMeter` (see the module docstring for the
    conventions, scikit-learn's).

    Args:
        outputs: scores ``(N, C)`` (logits or probabilities) or predicted class indices ``(N,)``.
        targets: true class indices ``(N,)``.
        num_classes: ``C``.
        class_names: ``C`` distinct names for ``per_class`` (default ``"0"``, ``"1"``, ...).

    Returns:
        A dict with ``accuracy``, ``top5`` (with scores and ``C >= 5``), ``per_class`` and
        ``confusion_matrix`` (rows = targets).

    Shape:
        - outputs: ``(N, C)`` or ``(N,)``
        - targets: ``(N,)``

    Example:
        >>> scores = classification_scores(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]), 2)
        >>> scores["confusion_matrix"], scores["per_class"]["0"]["recall"]
        ([[1, 1], [0, 1]], 0.5)
    """
    meter = ClassificationMeter(num_classes, class_names)
    meter.update(outputs, targets)
    return meter.compute()
