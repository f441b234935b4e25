"""COCO mean average precision of a detector, in torch, equal to pycocotools' ``COCOeval``.

What is computed (COCO's ``bbox`` evaluation with the area range "all"):

1. Per image and class, the detections are matched greedily to the ground truth at each IoU
   threshold (0.50, 0.55, ..., 0.95 by default): see :mod:`cnnlab.metrics.coco_matching`. At
   most ``max_detections`` (100) detections per image *and class* are kept, as pycocotools does
   (torchvision's detectors already return at most 100 per image).
2. Per class and threshold, all images' detections are sorted by score (ties: image order,
   then input order) and the precision-recall curve is built: precision
   ``TP / (TP + FP + eps)`` with pycocotools' ``eps = 2.2e-16``, recall ``TP / G``.
3. The precision is made monotone (each point takes the best precision at any higher recall)
   and read at 101 recall points 0, 0.01, ..., 1 (the first detection reaching each recall;
   0 past the highest recall reached). Their mean is the AP of that class at that threshold.
4. ``map`` averages over thresholds and over the classes that have ground truth; ``map_50``
   and ``map_75`` are the same at IoU 0.5 and 0.75 alone.

Conventions taken from pycocotools, so that the numbers agree with it:

- pycocotools reads boxes as ``[x, y, width, height]``; its IoU has **no** ``+ 1`` on widths
  (the ``+ 1`` belongs to the old PASCAL VOC code), matching torchvision's ``x2 - x1``.
  A detection matches at threshold ``t`` when ``IoU >= t`` (``t`` capped at ``1 - 1e-10``);
  the thresholds are ``numpy.linspace(0.5, 0.95, 10)`` exactly (so ``0.8999999999999999``).
- A class with ground truth but no detections has AP 0. A class with detections but no ground
  truth in any image has no AP: pycocotools marks it -1 and leaves it out of the mean; so does
  ``per_class`` here. With no ground truth at all, ``map`` is -1.
- Area range "all" is ``[0, 1e10]``: a box larger than 1e10 pixels is ignored, as pycocotools.
  Crowd annotations (``iscrowd``) are not supported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from cnnlab.core import validate
from cnnlab.metrics.coco_matching import Matches, match_detections
from cnnlab.metrics.detection_inputs import flatten_detections

__all__ = [
    "COCO_AREA_ALL",
    "COCO_IOU_THRESHOLDS",
    "COCO_RECALL_POINTS",
    "DetectionMeter",
    "mean_average_precision",
]

COCO_IOU_THRESHOLDS = tuple(np.linspace(0.5, 0.95, 10).tolist())
"""0.50, 0.55, ..., 0.95 as pycocotools makes them (``numpy.linspace``, bit for bit)."""
COCO_RECALL_POINTS = tuple(np.linspace(0.0, 1.0, 101).tolist())
"""The 101 recall points at which precision is read."""
COCO_AREA_ALL = (0.0, 1e5**2)
"""pycocotools' area range "all"."""

_EPS = float(np.spacing(1))  # pycocotools' guard in TP / (TP + FP + eps)
_NO_VALUE = -1.0


def _thresholds(iou_thresholds: Sequence[float] | None) -> list[float]:
    if iou_thresholds is None:
        return list(COCO_IOU_THRESHOLDS)
    if isinstance(iou_thresholds, (str, bytes)) or not isinstance(iou_thresholds, Sequence):
        raise validate.InvalidArgument(
            "iou_thresholds",
            f"iou_thresholds must be a sequence of numbers in [0, 1], got {iou_thresholds!r}",
        )
    values = [
        validate.number(f"iou_thresholds[{i}]", t, minimum=0, maximum=1)
        for i, t in enumerate(iou_thresholds)
    ]
    if not values or len(set(values)) != len(values):
        raise validate.InvalidArgument(
            "iou_thresholds",
            f"iou_thresholds must be distinct numbers in [0, 1], at least one, "
            f"got {iou_thresholds!r}",
        )
    return values


def _average_precisions(
    matches: Matches, num_gt: list[int], num_thresholds: int, recall_points: Tensor
) -> Tensor:
    """``(K, T)`` AP per class and threshold (-1 for classes without ground truth): the mean of
    the monotone precision read at the recall points."""
    # by class, then decreasing score; ties keep the (image, rank) order of the matches
    order = torch.argsort(-matches.det_score, stable=True)
    order = order[torch.argsort(matches.det_class[order], stable=True)]
    counted = ~matches.ignored[:, order]
    hits = matches.matched[:, order] & counted
    zero = torch.zeros(num_thresholds, 1, dtype=torch.float64, device=hits.device)
    tp_all = torch.cat([zero, hits.to(torch.float64).cumsum(dim=1)], dim=1)
    fp_all = torch.cat([zero, (counted & ~hits).to(torch.float64).cumsum(dim=1)], dim=1)
    ends = torch.bincount(matches.det_class, minlength=len(num_gt)).cumsum(0).tolist()
    ap = torch.full((len(num_gt), num_thresholds), _NO_VALUE, dtype=torch.float64)
    start = 0
    for k, (end, gt_count) in enumerate(zip(ends, num_gt, strict=True)):
        n, first = end - start, start
        start = end
        if gt_count == 0:
            continue
        if n == 0:
            ap[k] = 0.0
            continue
        # counts within the class (exact: whole numbers in float64)
        tp = tp_all[:, first + 1 : end + 1] - tp_all[:, first : first + 1]
        fp = fp_all[:, first + 1 : end + 1] - fp_all[:, first : first + 1]
        recall = tp / gt_count
        precision = tp / (fp + tp + _EPS)
        precision = precision.flip(1).cummax(dim=1).values.flip(1)  # monotone envelope
        points = recall_points.expand(num_thresholds, -1).contiguous()
        at = torch.searchsorted(recall, points, side="left")
        read = precision.gather(1, at.clamp(max=n - 1))
        ap[k] = torch.where(at < n, read, 0.0).mean(dim=1).cpu()
    return ap


def mean_average_precision(
    predictions: Sequence[dict[str, Tensor]],
    targets: Sequence[dict[str, Tensor]],
    *,
    iou_thresholds: Sequence[float] | None = None,
    max_detections: int = 100,
) -> dict[str, Any]:
    """COCO mAP of detections, as pycocotools' ``COCOeval`` (``bbox``, area "all") computes it.

    Args:
        predictions: one dict per image, as torchvision's detectors return in eval mode:
            ``boxes`` ``(D, 4)`` ``x1, y1, x2, y2``, ``scores`` ``(D,)``, ``labels`` ``(D,)``.
        targets: one dict per image: ``boxes`` ``(G, 4)``, ``labels`` ``(G,)``. An image may
            have no boxes (``(0, 4)``), and no predictions.
        iou_thresholds: the IoU thresholds ``map`` averages over (default COCO's 0.50:0.05:0.95).
            ``map_50`` and ``map_75`` are always at IoU 0.5 and 0.75.
        max_detections: detections kept per image and class, the highest scores (COCO: 100).

    Returns:
        ``map``, ``map_50``, ``map_75`` (floats in [0, 1], or -1 without any ground truth) and
        ``per_class`` (label -> AP averaged over ``iou_thresholds``, for every label that
        occurs in the targets or the predictions; -1 for a label without ground truth).

    Shape:
        - boxes: ``(D, 4)`` / ``(G, 4)``; scores, labels: ``(D,)`` / ``(G,)``

    Example:
        >>> target = {"boxes": torch.tensor([[0.0, 0, 10, 10]]), "labels": torch.tensor([1])}
        >>> pred = {"boxes": torch.tensor([[0.0, 0, 10, 20]]), "scores": torch.tensor([0.9]),
        ...         "labels": torch.tensor([1])}
        >>> result = mean_average_precision([pred], [target])  # IoU = 100 / 200 = 0.5
        >>> [round(result[k], 12) for k in ("map_50", "map_75", "map")]  # 1 - 2e-16: eps
        [1.0, 0.0, 0.1]
    """
    thresholds = _thresholds(iou_thresholds)
    max_detections = validate.positive_int("max_detections", max_detections)
    dets, gts = flatten_detections(predictions, targets)
    device = dets.boxes.device
    evaluated = thresholds + [t for t in (0.5, 0.75) if t not in thresholds]
    capped = torch.tensor([min(t, 1 - 1e-10) for t in evaluated], dtype=torch.float64)
    matches = match_detections(
        dets,
        gts,
        capped.to(device),
        max_detections=max_detections,
        area_range=COCO_AREA_ALL,
    )
    labels = torch.unique(torch.cat([dets.labels, gts.labels])).tolist()
    num_gt = torch.bincount(matches.gt_class[~matches.gt_ignored], minlength=len(labels)).tolist()
    recall_points = torch.tensor(COCO_RECALL_POINTS, dtype=torch.float64, device=device)
    ap = _average_precisions(matches, num_gt, len(evaluated), recall_points)
    valid = ap[:, 0] > _NO_VALUE

    def mean_over_classes(columns: list[int]) -> float:
        if not bool(valid.any()):
            return _NO_VALUE
        return float(ap[valid][:, columns].mean())

    main = list(range(len(thresholds)))
    per_class = torch.where(valid, ap[:, main].mean(dim=1), _NO_VALUE).tolist()
    return {
        "map": mean_over_classes(main),
        "map_50": mean_over_classes([evaluated.index(0.5)]),
        "map_75": mean_over_classes([evaluated.index(0.75)]),
        "per_class": dict(zip(labels, per_class, strict=True)),
    }


class DetectionMeter:
    """Collects a detector's predictions and targets over a validation pass, for
    :func:`mean_average_precision` at the end.

    mAP ranks all detections of a class across images, so the meter keeps every image's
    (detached) tensors; ``update`` only stores them (no host synchronisation).

    Args:
        iou_thresholds: as :func:`mean_average_precision`.
        max_detections: as :func:`mean_average_precision`.
    """

    def __init__(
        self, *, iou_thresholds: Sequence[float] | None = None, max_detections: int = 100
    ) -> None:
        self.iou_thresholds = None if iou_thresholds is None else _thresholds(iou_thresholds)
        self.max_detections = validate.positive_int("max_detections", max_detections)
        self.reset()

    def reset(self) -> None:
        """Forget every update."""
        self.predictions: list[dict[str, Tensor]] = []
        self.targets: list[dict[str, Tensor]] = []

    def update(
        self, predictions: Sequence[dict[str, Tensor]], targets: Sequence[dict[str, Tensor]]
    ) -> None:
        """Store one batch: a prediction dict and a target dict per image."""
        if len(predictions) != len(targets):
            raise ValueError(
                "predictions and targets must have one entry per image each, "
                f"got {len(predictions)} and {len(targets)}"
            )
        keys = {"boxes", "scores", "labels"}
        for i, (pred, target) in enumerate(zip(predictions, targets, strict=True)):
            if not isinstance(pred, Mapping) or not isinstance(target, Mapping):
                raise ValueError(
                    f"predictions[{i}] and targets[{i}] must be dicts of tensors, "
                    f"got {type(pred).__name__} and {type(target).__name__}"
                )
            self.predictions.append({k: _detached(v) for k, v in pred.items() if k in keys})
            self.targets.append({k: _detached(v) for k, v in target.items() if k in keys})

    def compute(self) -> dict[str, Any]:
        """:func:`mean_average_precision` of everything stored."""
        return mean_average_precision(
            self.predictions,
            self.targets,
            iou_thresholds=self.iou_thresholds,
            max_detections=self.max_detections,
        )


def _detached(value: Any) -> Any:
    return value.detach() if isinstance(value, Tensor) else value
