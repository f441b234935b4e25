"""Speed of ``cnnlab.metrics.mean_average_precision`` against pycocotools and torchmetrics.

One synthetic validation set (by default 2,000 images, 20 classes, ~7 boxes and up to 100
detections per image as torchvision's detectors return them with a low score threshold) is
scored by ours, by pycocotools' ``COCOeval`` (ground truth and results built in memory, the
work a user's evaluation does: index, ``loadRes``, ``evaluate``, ``accumulate``) and by
torchmetrics' ``MeanAveragePrecision`` (its pycocotools backend, offline), in the same run.
Prints each time, the ratio (reference / ours: how many times faster ours is) and the largest
difference between the mAPs, which must be ~1e-16.

    python benchmarks/detection_map.py [--images 2000] [--classes 20] [--detections 100]

pycocotools is single-threaded; torch uses ``torch.get_num_threads()`` threads (printed). On a
machine whose cores are busy with other work, ``OMP_NUM_THREADS=1`` gives torch's fairer time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
from collections.abc import Callable

import torch

from cnnlab.metrics import mean_average_precision

Image = dict[str, torch.Tensor]


def make_dataset(
    images: int, classes: int, detections: int, seed: int = 0
) -> tuple[list[Image], list[Image]]:
    """Ground truth and detections: jittered copies of the boxes (right or wrong class) plus
    clutter, at most ``detections`` per image, float32 as a detector gives them."""
    g = torch.Generator().manual_seed(seed)
    predictions, targets = [], []
    for _ in range(images):
        n = int(torch.randint(1, 14, (1,), generator=g))
        xy = torch.rand(n, 2, generator=g) * 500
        boxes = torch.cat([xy, xy + 10 + torch.rand(n, 2, generator=g) * 150], dim=1)
        labels = torch.randint(1, classes + 1, (n,), generator=g)
        targets.append({"boxes": boxes, "labels": labels})
        copies = int(torch.randint(detections // 2, detections + 1, (1,), generator=g))
        owner = torch.randint(0, n, (copies,), generator=g)
        near = boxes[owner] + (torch.rand(copies, 4, generator=g) - 0.5) * 30
        near[:, 2:] = torch.maximum(near[:, 2:], near[:, :2] + 1)
        right = torch.rand(copies, generator=g) < 0.5
        det_labels = torch.where(
            right, labels[owner], torch.randint(1, classes + 1, (copies,), generator=g)
        )
        scores = torch.rand(copies, generator=g)
        predictions.append({"boxes": near, "scores": scores, "labels": det_labels})
    return predictions, targets


def pycocotools_map(predictions: list[Image], targets: list[Image]) -> float:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    annotations, results, labels = [], [], set()
    for i, (p, t) in enumerate(zip(predictions, targets, strict=True)):
        for (x1, y1, x2, y2), c in zip(t["boxes"].tolist(), t["labels"].tolist(), strict=True):
            w, h = x2 - x1, y2 - y1
            annotations.append(
                {"id": len(annotations) + 1, "image_id": i + 1, "category_id": c}
                | {"bbox": [x1, y1, w, h], "area": w * h, "iscrowd": 0}
            )
            labels.add(c)
        for (x1, y1, x2, y2), s, c in zip(
            p["boxes"].tolist(), p["scores"].tolist(), p["labels"].tolist(), strict=True
        ):
            results.append(
                {"image_id": i + 1, "category_id": c, "bbox": [x1, y1, x2 - x1, y2 - y1]}
                | {"score": s}
            )
            labels.add(c)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {
            "images": [{"id": i + 1} for i in range(len(targets))],
            "annotations": annotations,
            "categories": [{"id": c} for c in sorted(labels)],
        }
        gt.createIndex()
        evaluator = COCOeval(gt, gt.loadRes(results), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return float(evaluator.stats[0])


def torchmetrics_map(predictions: list[Image], targets: list[Image]) -> float:
    from torchmetrics.detection import MeanAveragePrecision

    metric = MeanAveragePrecision(iou_type="bbox")
    metric.update(predictions, targets)
    with contextlib.redirect_stdout(io.StringIO()):
        return float(metric.compute()["map"])


def timed(fn: Callable[[], float], repeats: int) -> tuple[float, float]:
    """Best time of ``repeats`` runs, and the value."""
    best, value = float("inf"), float("nan")
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--detections", type=int, default=100)
    args = parser.parse_args()
    predictions, targets = make_dataset(args.images, args.classes, args.detections)
    n_det = sum(len(p["scores"]) for p in predictions)
    n_gt = sum(len(t["labels"]) for t in targets)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.images} images, "
        f"{args.classes} classes, {n_gt} boxes, {n_det} detections"
    )
    t_ours, ours = timed(lambda: mean_average_precision(predictions, targets)["map"], 3)
    print(f"{'cnnlab.metrics':<28} {t_ours:8.3f} s   map {ours:.6f}")
    references = {
        "pycocotools COCOeval": pycocotools_map,
        "torchmetrics (pycocotools)": torchmetrics_map,
    }
    for name, fn in references.items():
        try:
            t_ref, value = timed(lambda fn=fn: fn(predictions, targets), 1)
        except Exception as error:  # a reference that cannot run here is reported, not fatal
            print(f"{name:<28} unavailable: {type(error).__name__}: {error}")
            continue
        print(
            f"{name:<28} {t_ref:8.3f} s   map {value:.6f}   ratio {t_ref / t_ours:6.1f}x "
            f"(ours faster)   |map difference| {abs(value - ours):.1e}"
        )


if __name__ == "__main__":
    main()
