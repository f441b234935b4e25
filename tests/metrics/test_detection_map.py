"""mean_average_precision against pycocotools' COCOeval on the same detections.

The reference builds the COCO ground truth in memory (no file): boxes become ``[x, y, w, h]``,
``area`` is ``w * h``, images get ids 1..N in order and annotations ids from 1 (pycocotools reads
a match to annotation id 0 as no match). Boxes are float32, as detectors give them, so that
pycocotools' ``x + w`` is exactly ``x2`` and both sides compare the same IoUs with the thresholds.
"""

from __future__ import annotations

import contextlib
import io
import math
import re

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from cnnlab.core.validate import InvalidArgument
from cnnlab.metrics import COCO_IOU_THRESHOLDS, DetectionMeter, mean_average_precision

Image = dict[str, torch.Tensor]


def _coco_reference(
    predictions: list[Image],
    targets: list[Image],
    iou_thresholds: list[float] | None = None,
    max_detections: int = 100,
) -> dict[str, object]:
    """map, map_50, map_75 and per-class AP read from COCOeval's precision array."""
    annotations, detections, labels = [], [], set()
    for i, t in enumerate(targets):
        for box, label in zip(t["boxes"].tolist(), t["labels"].tolist(), strict=True):
            x1, y1, x2, y2 = box
            w, h = x2 - x1, y2 - y1
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i + 1,
                    "category_id": label,
                    "bbox": [x1, y1, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
            labels.add(label)
    for i, p in enumerate(predictions):
        for box, score, label in zip(
            p["boxes"].tolist(), p["scores"].tolist(), p["labels"].tolist(), strict=True
        ):
            x1, y1, x2, y2 = box
            detections.append(
                {"image_id": i + 1, "category_id": label, "bbox": [x1, y1, x2 - x1, y2 - y1]}
                | {"score": score}
            )
            labels.add(label)
    assert detections, "pycocotools cannot load an empty result list"
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {
            "images": [{"id": i + 1} for i in range(len(targets))],
            "annotations": annotations,
            "categories": [{"id": c} for c in sorted(labels)],
        }
        gt.createIndex()
        evaluator = COCOeval(gt, gt.loadRes(detections), "bbox")
        if iou_thresholds is not None:
            evaluator.params.iouThrs = np.array(iou_thresholds)
        evaluator.params.maxDets = [max_detections]  # COCOeval sorts this list
        evaluator.evaluate()
        evaluator.accumulate()
    precision = evaluator.eval["precision"][:, :, :, 0, -1]  # T x R x K, area "all"

    def mean(values: np.ndarray) -> float:
        values = values[values > -1]
        return float(values.mean()) if values.size else -1.0

    thresholds = evaluator.params.iouThrs
    result: dict[str, object] = {
        "map": mean(precision),
        "per_class": {c: mean(precision[:, :, k]) for k, c in enumerate(sorted(labels))},
    }
    for key, iou in (("map_50", 0.5), ("map_75", 0.75)):
        if (thresholds == iou).any():
            result[key] = mean(precision[thresholds == iou])
    return result


def _assert_close(ours: dict[str, object], reference: dict[str, object]) -> None:
    for key, value in reference.items():
        if key == "per_class":
            assert ours["per_class"].keys() == value.keys()
            for label, ap in value.items():
                assert ours["per_class"][label] == pytest.approx(ap, abs=1e-12), label
        else:
            assert ours[key] == pytest.approx(value, abs=1e-12), key


def _random_case(seed: int, num_images: int = 24) -> tuple[list[Image], list[Image]]:
    """Ground truth of 4 classes, detections jittered from it (some with a wrong label),
    random false positives, a class (9) that only the detector sees, images without boxes or
    without detections, and scores rounded to 0.05 so that ties occur across images."""
    g = torch.Generator().manual_seed(seed)

    def boxes(n: int) -> torch.Tensor:
        xy = torch.rand(n, 2, generator=g) * 100
        return torch.cat([xy, xy + 4 + torch.rand(n, 2, generator=g) * 40], dim=1)

    predictions, targets = [], []
    for i in range(num_images):
        n_gt = 0 if i % 7 == 3 else int(torch.randint(1, 8, (1,), generator=g))
        gt_boxes = boxes(n_gt)
        gt_labels = torch.randint(1, 5, (n_gt,), generator=g)
        targets.append({"boxes": gt_boxes, "labels": gt_labels})
        if i % 5 == 4:
            predictions.append(
                {"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": torch.zeros(0)}
            )
            predictions[-1]["labels"] = predictions[-1]["labels"].long()
            continue
        copies = gt_boxes.repeat(2, 1)
        jitter = (torch.rand(copies.shape, generator=g) - 0.5) * 12
        near = copies + jitter
        near[:, 2:] = torch.maximum(near[:, 2:], near[:, :2] + 1)
        near_labels = gt_labels.repeat(2)
        wrong = torch.rand(len(near_labels), generator=g) < 0.15
        near_labels = torch.where(
            wrong, torch.randint(1, 5, near_labels.shape, generator=g), near_labels
        )
        n_fp = int(torch.randint(0, 5, (1,), generator=g))
        fp_labels = torch.randint(1, 6, (n_fp,), generator=g)
        fp_labels[fp_labels == 5] = 9
        det_boxes = torch.cat([near, boxes(n_fp)])
        scores = (torch.rand(len(det_boxes), generator=g) * 20).round() / 20
        predictions.append(
            {"boxes": det_boxes, "scores": scores, "labels": torch.cat([near_labels, fp_labels])}
        )
    return predictions, targets


@pytest.mark.parametrize("seed", range(6), ids=[f"seed{s}" for s in range(6)])
def test_random_cases_match_pycocotools(seed: int) -> None:
    predictions, targets = _random_case(seed)
    ours = mean_average_precision(predictions, targets)
    reference = _coco_reference(predictions, targets)
    _assert_close(ours, reference)
    assert ours["per_class"][9] == -1.0  # detections only: no AP, out of the mean
    assert 0 < ours["map"] < ours["map_50"] <= 1


def test_custom_thresholds_and_detection_cap_match_pycocotools() -> None:
    predictions, targets = _random_case(11)
    thresholds = [0.3, 0.5, 0.62]
    ours = mean_average_precision(predictions, targets, iou_thresholds=thresholds, max_detections=3)
    reference = _coco_reference(predictions, targets, thresholds, max_detections=3)
    _assert_close(ours, reference)
    # map_75 is still IoU 0.75 though it is not one of the thresholds
    at_75 = _coco_reference(predictions, targets, [0.75], max_detections=3)["map"]
    assert ours["map_75"] == pytest.approx(at_75, abs=1e-12)


def _image(boxes: list[list[float]], labels: list[int], scores: list[float] | None = None) -> Image:
    entry = {
        "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        "labels": torch.tensor(labels, dtype=torch.int64),
    }
    if scores is not None:
        entry["scores"] = torch.tensor(scores, dtype=torch.float32)
    return entry


HAND_MADE = {
    # IoU exactly 0.5 (100 / 200) and exactly 0.75 (150 / 200): matched at those thresholds
    "iou-on-thresholds": (
        [_image([[0, 0, 10, 20], [0, 0, 20, 15]], [1, 2], [0.9, 0.8])],
        [_image([[0, 0, 10, 10], [0, 0, 20, 20]], [1, 2])],
    ),
    # two detections want one box: the higher score takes it, the other is a false positive
    "competition": (
        [_image([[0, 0, 10, 10], [1, 1, 10, 10]], [1, 1], [0.6, 0.7])],
        [_image([[0, 0, 10, 10]], [1])],
    ),
    # one detection overlaps two boxes equally: pycocotools takes the later box
    "tie-between-boxes": (
        [_image([[5, 0, 15, 10], [0, 0, 10, 10]], [1, 1], [0.9, 0.5])],
        [_image([[0, 0, 10, 10], [10, 0, 20, 10]], [1, 1])],
    ),
    # an image without boxes (its detections are false positives), an image without
    # detections (its boxes are misses), and a class only predicted (AP -1, out of the mean)
    "empty-images": (
        [
            _image([[0, 0, 10, 10], [50, 50, 60, 60]], [1, 3], [0.9, 0.8]),
            _image([[0, 0, 10, 10]], [1], [0.95]),
            _image([], [], []),
        ],
        [_image([[0, 0, 10, 10]], [1]), _image([], []), _image([[0, 0, 5, 5]], [1])],
    ),
    # a box larger than 1e10 pixels is outside the area range "all": ignored, as is its match
    "huge-box-ignored": (
        [_image([[0, 0, 2e5, 2e5], [0, 0, 10, 10], [20, 20, 30, 30]], [1, 1, 1], [0.9, 0.8, 0.7])],
        [_image([[0, 0, 2e5, 2e5], [0, 0, 10, 10]], [1, 1])],
    ),
    # equal scores in different images: ranked by image order, then input order
    "score-ties": (
        [
            _image([[0, 0, 10, 10], [30, 30, 40, 40]], [1, 1], [0.5, 0.5]),
            _image([[0, 0, 10, 10], [30, 30, 40, 40]], [1, 1], [0.5, 0.5]),
        ],
        [_image([[30, 30, 40, 40]], [1]), _image([[0, 0, 10, 10], [0, 30, 9, 40]], [1, 1])],
    ),
    # zero-area boxes: IoU 0 (not 0 / 0)
    "degenerate-boxes": (
        [_image([[5, 5, 5, 5], [0, 0, 10, 10]], [1, 1], [0.9, 0.8])],
        [_image([[5, 5, 5, 5], [0, 0, 10, 10]], [1, 1])],
    ),
    # labels need not be contiguous, nor start at 1
    "sparse-labels": (
        [_image([[0, 0, 10, 10], [0, 0, 10, 10]], [0, 77], [0.9, 0.8])],
        [_image([[0, 0, 10, 10], [1, 1, 11, 11]], [77, 0])],
    ),
}


@pytest.mark.parametrize("case", list(HAND_MADE), ids=list(HAND_MADE))
def test_hand_made_cases_match_pycocotools(case: str) -> None:
    predictions, targets = HAND_MADE[case]
    _assert_close(
        mean_average_precision(predictions, targets), _coco_reference(predictions, targets)
    )


def test_crowded_images_in_small_batches_match_pycocotools(monkeypatch: pytest.MonkeyPatch) -> None:
    """Groups of 1 to 40 boxes (every power-of-two bucket) and batches forced to split."""
    from cnnlab.metrics import coco_matching

    g = torch.Generator().manual_seed(12)
    predictions, targets = [], []
    for n in (1, 2, 3, 5, 9, 17, 40, 6, 1, 12):
        xy = torch.rand(n, 2, generator=g) * 150
        boxes = torch.cat([xy, xy + 5 + torch.rand(n, 2, generator=g) * 30], dim=1)
        labels = torch.randint(1, 3, (n,), generator=g)
        near = boxes.repeat(3, 1) + (torch.rand(3 * n, 4, generator=g) - 0.5) * 8
        near[:, 2:] = torch.maximum(near[:, 2:], near[:, :2] + 1)
        targets.append({"boxes": boxes, "labels": labels})
        predictions.append(
            {"boxes": near, "scores": torch.rand(3 * n, generator=g), "labels": labels.repeat(3)}
        )
    reference = _coco_reference(predictions, targets)
    _assert_close(mean_average_precision(predictions, targets), reference)
    monkeypatch.setattr(coco_matching, "CHUNK_ELEMENTS", 50)
    _assert_close(mean_average_precision(predictions, targets), reference)


def test_more_than_100_detections_per_image_and_class() -> None:
    """Only the 100 highest-scoring detections of an image and class count (pycocotools)."""
    g = torch.Generator().manual_seed(3)
    xy = torch.rand(150, 2, generator=g) * 200
    boxes = torch.cat([xy, xy + 10], dim=1)
    targets = [{"boxes": boxes[:60], "labels": torch.ones(60, dtype=torch.int64)}]
    # the matching detections score lowest: most fall past the cap
    scores = torch.cat([torch.rand(60, generator=g) * 0.5, 0.5 + torch.rand(90, generator=g) / 2])
    det_boxes = torch.cat([boxes[:60], boxes[60:] + 300])
    predictions = [{"boxes": det_boxes, "scores": scores, "labels": torch.ones(150).long()}]
    ours = mean_average_precision(predictions, targets)
    _assert_close(ours, _coco_reference(predictions, targets))
    assert 0 < ours["map"] < 10 / 60  # only 10 of the 60 true matches survive the cap


def test_no_predictions_at_all() -> None:
    """pycocotools cannot load an empty result list; by its rules every class with ground
    truth has AP 0, and a class without any has none."""
    targets = [_image([[0, 0, 10, 10]], [1]), _image([[0, 0, 10, 10]], [2])]
    predictions = [_image([], [], []), _image([], [], [])]
    result = mean_average_precision(predictions, targets)
    assert result == {"map": 0.0, "map_50": 0.0, "map_75": 0.0, "per_class": {1: 0.0, 2: 0.0}}
    empty = mean_average_precision([_image([], [], [])], [_image([], [])])
    assert empty == {"map": -1.0, "map_50": -1.0, "map_75": -1.0, "per_class": {}}
    assert mean_average_precision([], []) == empty


def test_perfect_detections_score_one_up_to_pycocotools_eps() -> None:
    """Precision is TP / (TP + FP + 2.2e-16) in pycocotools, so a perfect detector gets
    1 - ~1e-16, not exactly 1."""
    _, targets = _random_case(5)
    perfect = [
        {"boxes": t["boxes"], "labels": t["labels"], "scores": torch.ones(len(t["labels"]))}
        for t in targets
    ]
    result = mean_average_precision(perfect, targets)
    assert result["map"] == pytest.approx(1.0, abs=1e-15)
    assert result["map_50"] == pytest.approx(1.0, abs=1e-15)


def test_meter_over_batches_equals_one_shot() -> None:
    predictions, targets = _random_case(7)
    meter = DetectionMeter()
    for start in range(0, len(targets), 5):
        meter.update(predictions[start : start + 5], targets[start : start + 5])
    assert meter.compute() == mean_average_precision(predictions, targets)


def test_default_thresholds_are_pycocotools() -> None:
    reference = COCOeval(iouType="bbox").params.iouThrs.tolist()
    assert list(COCO_IOU_THRESHOLDS) == reference


BAD_INPUTS = {
    "not-a-list": (lambda p, t: (p[0], t), "predictions must be a list"),
    "lengths": (lambda p, t: (p, t[:-1]), "one entry per image"),
    "missing-scores": (
        lambda p, t: ([{"boxes": p[0]["boxes"], "labels": p[0]["labels"]}], t[:1]),
        re.escape("predictions[0] lacks ['scores']"),
    ),
    "boxes-shape": (
        lambda p, t: ([p[0] | {"boxes": p[0]["boxes"][:, :3]}], t[:1]),
        r"predictions\[0\]\['boxes'\] must be a floating-point tensor of shape \(N, 4\)",
    ),
    "float-labels": (
        lambda p, t: (p[:1], [t[0] | {"labels": t[0]["labels"].float()}]),
        r"targets\[0\]\['labels'\] must be integers",
    ),
    "scores-length": (
        lambda p, t: ([p[0] | {"scores": p[0]["scores"][:1]}], t[:1]),
        "must have shape",
    ),
    "x2-before-x1": (
        lambda p, t: (p[:2], [t[0], t[1] | {"boxes": t[1]["boxes"].flip(1)}]),
        r"targets\[1\]\['boxes'\]\[0\] must be finite \(x1, y1, x2, y2\) with x2 >= x1",
    ),
    "nan-score": (
        lambda p, t: ([p[0] | {"scores": p[0]["scores"] * math.nan}], t[:1]),
        r"predictions\[0\]\['scores'\]\[0\] must be finite",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_inputs_say_what_is_wrong(case: str) -> None:
    predictions, targets = _random_case(1, num_images=3)
    make, message = BAD_INPUTS[case]
    with pytest.raises(ValueError, match=message):
        mean_average_precision(*make(predictions, targets))


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"iou_thresholds": [0.5, 1.5]}, "iou_thresholds[1]"),
        ({"iou_thresholds": []}, "iou_thresholds"),
        ({"iou_thresholds": [0.5, 0.5]}, "iou_thresholds"),
        ({"max_detections": 0}, "max_detections"),
    ],
    ids=["threshold-above-1", "no-thresholds", "repeated", "zero-detections"],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, object], argument: str) -> None:
    predictions, targets = _random_case(1, num_images=2)
    with pytest.raises(InvalidArgument) as error:
        mean_average_precision(predictions, targets, **kwargs)
    assert error.value.argument == argument


def test_meter_refuses_what_is_not_a_dict() -> None:
    meter = DetectionMeter()
    with pytest.raises(ValueError, match=r"predictions\[0\] and targets\[0\] must be dicts"):
        meter.update([torch.zeros(1, 4)], [{"boxes": torch.zeros(1, 4)}])
    with pytest.raises(InvalidArgument) as error:
        DetectionMeter(iou_thresholds=[2.0])
    assert error.value.argument == "iou_thresholds[0]"
