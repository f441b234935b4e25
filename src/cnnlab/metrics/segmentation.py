"""Segmentation scores: pixel accuracy and (mean) intersection over union.

Both come from one ``C x C`` confusion matrix over the pixels of the whole evaluation set
(dataset-level IoU, as torchmetrics and the PASCAL VOC / Cityscapes evaluations compute it, not
a mean of per-image IoUs). :class:`SegmentationMeter` accumulates that matrix on the tensors'
device batch after batch; :func:`segmentation_scores` is its one-shot form.

Conventions (the tests compare with torchmetrics and with scikit-learn's ``confusion_matrix``):

- ``pixel_accuracy`` = correct pixels / counted pixels; pixels whose *target* is
  ``ignore_index`` are not counted (torchmetrics' ``MulticlassAccuracy(average="micro",
  ignore_index=...)``).
- ``iou[c]`` = TP / (TP + FP + FN) of class ``c``. It is NaN when the class appears neither in the
  targets nor in the predictions (0 / 0: nothing to score), and for ``ignore_index`` when that
  is a class index.
- ``mean_iou`` averages ``iou`` over the classes present in the target or the prediction (the
  non-NaN entries). A class absent from both says nothing about the model: counting it as 0
  would punish the model for a class the data never showed, counting it as 1 would reward it
  for it. This is exactly torchmetrics' ``MulticlassJaccardIndex(average="macro")``, which gives
  such classes (and ``ignore_index``) weight 0; its ``average="none"`` reports 0 where we report
  NaN. A class present only in the predictions has IoU 0 and does count: it is a real error.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from cnnlab.core import validate
from cnnlab.metrics._checks import as_tensor, check_finite, check_integer_labels
from cnnlab.metrics.confusion import confusion_counts

__all__ = ["SegmentationMeter", "segmentation_scores"]


class SegmentationMeter:
    """Accumulates the pixel confusion matrix of a segmentation model over batches, on device.

    ``update`` never reads a value on the host (see :mod:`cnnlab.metrics.confusion`); in a
    ``DistributedDataParallel`` run, sum ``meter.confusion`` over processes with
    ``torch.distributed.all_reduce`` before ``compute``.

    Args:
        num_classes: the number of classes ``C`` (background included).
        ignore_index: target value whose pixels are not counted (e.g. 255 for borders), or None.
    """

    def __init__(self, num_classes: int, ignore_index: int | None = None) -> None:
        self.num_classes = validate.positive_int("num_classes", num_classes)
        if ignore_index is not None and (
            not isinstance(ignore_index, int) or isinstance(ignore_index, bool)
        ):
            raise validate.InvalidArgument(
                "ignore_index", f"ignore_index must be an integer or None, got {ignore_index!r}"
            )
        self.ignore_index = ignore_index
        self.reset()

    def reset(self) -> None:
        """Forget every update."""
        self.confusion: Tensor | None = None

    def update(self, pred: Any, target: Any) -> None:
        """Count the pixels of one batch.

        Args:
            pred: predicted class per pixel ``(N, H, W)`` (integers), or scores ``(N, C, H, W)``
                (logits or probabilities, floating point; the arg-max over ``C`` is taken).
            target: true class per pixel ``(N, H, W)``, ``ignore_index`` where unlabelled.

        Shape:
            - pred: ``(N, H, W)`` or ``(N, C, H, W)`` (any number of spatial dimensions)
            - target: ``(N, H, W)``
        """
        c = self.num_classes
        pred, target = as_tensor(pred, "pred"), as_tensor(target, "target")
        if pred.is_floating_point():
            expected = (target.shape[0], c, *target.shape[1:]) if target.dim() else None
            if pred.shape != expected:
                raise ValueError(
                    f"pred with scores must have shape (N, num_classes={c}, ...) matching "
                    f"target {tuple(target.shape)}, got {tuple(pred.shape)}"
                )
            check_finite(pred, "pred")
            pred = pred.argmax(dim=1)
        elif pred.shape != target.shape:
            raise ValueError(
                f"pred and target must have the same shape, "
                f"got {tuple(pred.shape)} and {tuple(target.shape)}"
            )
        else:
            check_integer_labels(pred, "pred", c)
        check_integer_labels(target, "target", c, self.ignore_index)
        if self.confusion is not None and pred.device != self.confusion.device:
            raise ValueError(
                f"pred must stay on one device across updates: the meter holds its counts on "
                f"{self.confusion.device}, got {pred.device}"
            )
        target = target.to(pred.device)
        valid = None if self.ignore_index is None else target != self.ignore_index
        counts = confusion_counts(pred, target, c, valid)
        self.confusion = counts if self.confusion is None else self.confusion + counts

    def compute(self) -> dict[str, Any]:
        """The scores so far, as plain Python numbers.

        Returns:
            ``pixel_accuracy``, ``mean_iou`` and ``iou`` (a list of ``C`` floats, NaN for
            classes in neither target nor prediction and for ``ignore_index``). ``mean_iou`` is
            NaN only if every class is.

        Raises:
            ValueError: no pixel was counted yet.
        """
        if self.confusion is None or int(self.confusion.sum()) == 0:
            raise ValueError("no pixels were counted: call update() with labelled pixels first")
        cm = self.confusion.to(torch.float64)
        tp = cm.diagonal()
        union = cm.sum(dim=0) + cm.sum(dim=1) - tp
        iou = torch.where(union > 0, tp / union.clamp(min=1), math.nan)
        if self.ignore_index is not None and 0 <= self.ignore_index < self.num_classes:
            iou[self.ignore_index] = math.nan
        present = ~iou.isnan()
        mean_iou = float(iou[present].mean()) if bool(present.any()) else math.nan
        return {
            "pixel_accuracy": float(tp.sum() / cm.sum()),
            "mean_iou": mean_iou,
            "iou": iou.tolist(),
        }


def segmentation_scores(
    pred: Any, target: Any, num_classes: int, ignore_index: int | None = None
) -> dict[str, Any]:
    """Pixel accuracy, mean IoU and per-class IoU of one batch (or one whole evaluation set).

    The one-shot form of :class:`SegmentationMeter`; see the module docstring for the
    conventions (those of torchmetrics' ``MulticlassJaccardIndex(average="macro")`` and
    ``MulticlassAccuracy(average="micro")``).

    Args:
        pred: predicted class per pixel ``(N, H, W)`` or scores ``(N, C, H, W)``.
        target: true class per pixel ``(N, H, W)``.
        num_classes: ``C``.
        ignore_index: target value whose pixels are not counted, or None.

    Returns:
        ``{"pixel_accuracy": float, "mean_iou": float, "iou": [float] * C}``.

    Shape:
        - pred: ``(N, H, W)`` or ``(N, C, H, W)``
        - target: ``(N, H, W)``

    Example:
        >>> s = segmentation_scores(torch.tensor([[0, 1, 1]]), torch.tensor([[0, 1, 0]]), 3)
        >>> s["iou"]  # class 2 appears nowhere
        [0.5, 0.5, nan]
    """
    meter = SegmentationMeter(num_classes, ignore_index)
    meter.update(pred, target)
    return meter.compute()
