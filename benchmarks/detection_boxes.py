"""Speed of cnnlab's box code against torchvision, measured in the same run.

Prints, per operation, our time, the reference's time and the ratio (ours / reference). The
NumPy tier (scratch.nms, scratch.roi_pool) is a teaching version with a Python loop; the PyTorch
tier checks its inputs and calls torchvision (box ops, NMS, RoI ops, focal loss), so its ratio is
the cost of the checks (values are checked on the CPU only); the box coder is written out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
import torchvision.ops as tv
from torchvision.models.detection._utils import BoxCoder

from cnnlab import detection, scratch


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def row(name: str, ours: Callable[[], object], ref: Callable[[], object], ref_name: str) -> None:
    """Best of 9 runs each, ours and the reference interleaved (the machine is shared)."""
    ours(), ref()
    pairs = [(timed(ours), timed(ref)) for _ in range(9)]
    t_ours, t_ref = min(p[0] for p in pairs), min(p[1] for p in pairs)
    print(
        f"{name:<34} ours {t_ours * 1e3:9.3f} ms   {ref_name:<26} {t_ref * 1e3:9.3f} ms"
        f"   ratio {t_ours / t_ref:7.2f}"
    )


def main() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    xy = rng.uniform(0, 500, (n, 2))
    boxes_np = np.concatenate([xy, xy + rng.uniform(5, 80, (n, 2))], axis=1)
    scores_np = rng.uniform(size=n)
    boxes, scores = torch.from_numpy(boxes_np), torch.from_numpy(scores_np)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {n} boxes, float64")

    row(
        "nms (torch tier), t=0.5",
        lambda: detection.nms(boxes, scores, 0.5),
        lambda: tv.nms(boxes, scores, 0.5),
        "torchvision.ops.nms",
    )
    idxs = torch.from_numpy(rng.integers(0, 20, n))
    row(
        "batched_nms 20 classes, t=0.5",
        lambda: detection.batched_nms(boxes, scores, idxs, 0.5),
        lambda: tv.batched_nms(boxes, scores, idxs, 0.5),
        "torchvision.ops.batched_nms",
    )
    row(
        "nms 50 boxes (per-call overhead)",
        lambda: detection.nms(boxes[:50], scores[:50], 0.5),
        lambda: tv.nms(boxes[:50], scores[:50], 0.5),
        "torchvision.ops.nms",
    )
    row(
        "scratch.nms (NumPy), t=0.5",
        lambda: scratch.nms(boxes_np, scores_np, 0.5),
        lambda: tv.nms(boxes, scores, 0.5),
        "torchvision.ops.nms",
    )
    other = boxes[:1000]
    row(
        "box_iou 3000 x 1000",
        lambda: detection.box_iou(boxes, other),
        lambda: tv.box_iou(boxes, other),
        "torchvision.ops.box_iou",
    )
    row(
        "generalized_box_iou 3000 x 1000",
        lambda: detection.generalized_box_iou(boxes, other),
        lambda: tv.generalized_box_iou(boxes, other),
        "torchvision generalized",
    )
    row(
        "box_convert xyxy -> cxcywh",
        lambda: detection.box_convert(boxes, "xyxy", "cxcywh"),
        lambda: tv.box_convert(boxes, "xyxy", "cxcywh"),
        "torchvision.ops.box_convert",
    )
    gt = boxes + 3.0
    coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
    weights = (10.0, 10.0, 5.0, 5.0)
    row(
        "encode_boxes",
        lambda: detection.encode_boxes(boxes, gt, weights),
        lambda: coder.encode_single(gt, boxes),
        "BoxCoder.encode_single",
    )
    deltas = torch.from_numpy(rng.standard_normal((n, 4)))
    row(
        "decode_boxes",
        lambda: detection.decode_boxes(boxes, deltas, weights),
        lambda: coder.decode_single(deltas, boxes),
        "BoxCoder.decode_single",
    )

    features_np = rng.standard_normal((2, 64, 38, 50))
    k = 256
    xy = rng.uniform(0, 700, (k, 2))
    rois_np = np.concatenate(
        [rng.integers(0, 2, (k, 1)), xy, xy + rng.uniform(16, 200, (k, 2))], axis=1
    )
    features, rois = torch.from_numpy(features_np), torch.from_numpy(rois_np)
    row(
        "roi_pool 256 rois 7x7 (torch tier)",
        lambda: detection.roi_pool(features, rois, 7, 1 / 16),
        lambda: tv.roi_pool(features, rois, 7, 1 / 16),
        "torchvision.ops.roi_pool",
    )
    row(
        "scratch.roi_pool (NumPy)",
        lambda: scratch.roi_pool(features_np, rois_np, 7, 1 / 16),
        lambda: tv.roi_pool(features, rois, 7, 1 / 16),
        "torchvision.ops.roi_pool",
    )
    logits = torch.from_numpy(rng.standard_normal((4096, 80)))
    labels = (torch.rand(4096, 80, dtype=torch.float64) > 0.99).double()
    row(
        "sigmoid_focal_loss 4096 x 80",
        lambda: detection.sigmoid_focal_loss(logits, labels),
        lambda: tv.sigmoid_focal_loss(logits, labels),
        "torchvision focal loss",
    )


if __name__ == "__main__":
    main()
