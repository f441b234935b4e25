"""The figures of docs/detection.md's "training a detector": anchors, focal loss, proposals,
detections.

- :func:`anchors_figure`: a digit scene with RetinaNet's 9 anchors at one position of P3, P4
  and P5, beside the FPN Faster R-CNN's 3 anchors per position on P2-P6 (the CPU-sized models'
  anchor sizes).
- :func:`focal_loss_figure`: the focal loss against ``p_t`` for gamma 0, 0.5, 1, 2, 5 (gamma 0
  is cross-entropy), the paper's Figure 1, computed with
  :func:`cnnlab.detection.sigmoid_focal_loss`.
- :func:`proposals_figure`: a Faster R-CNN's RPN proposals before and after NMS.
- :func:`detections_figure`: a detector's final detections on scenes, with the ground truth.

Drawn with matplotlib's object-oriented API; ``save_figure`` writes a figure atomically.
``docs/img/detection_*.png`` are these figures (docs/snippets/detection/figure_detectors.py).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from cnnlab.core.files import atomic_write, check_output_file
from cnnlab.detection import (
    AnchorGenerator,
    FasterRCNN,
    ImageBatch,
    decode_boxes,
    sigmoid_focal_loss,
)
from cnnlab.detection.drawing import TRUTH_COLOUR, draw_boxes, show_image
from cnnlab.detection.rpn import flatten_levels
from cnnlab.models import create_model

__all__ = [
    "GAMMAS",
    "anchors_figure",
    "detections_figure",
    "focal_loss_curves",
    "focal_loss_figure",
    "proposals_figure",
    "rpn_proposals",
    "save_figure",
]

GAMMAS = (0.0, 0.5, 1.0, 2.0, 5.0)
LEVEL_COLOURS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2")


def save_figure(fig: Figure, out: str | os.PathLike[str], dpi: int = 100) -> Path:
    """Write ``fig`` to ``out`` (PNG) atomically; ``out`` is checked first."""
    path = check_output_file("out", out, {".png"})
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=dpi))
    return path


def _level_anchors(generator: AnchorGenerator, size: int, strides: Sequence[int]) -> list[Tensor]:
    maps = [torch.zeros(1, 1, size // s, size // s) for s in strides]
    batch = ImageBatch(torch.zeros(1, 1, size, size), [(size, size)])
    (anchors,) = generator(batch, maps)
    return list(
        anchors.split(
            [m.numel() * n for m, n in zip(maps, generator.num_anchors_per_location(), strict=True)]
        )
    )


def _anchors_at(anchors: Tensor, centre: tuple[int, int]) -> Tensor:
    mid = (anchors[:, :2] + anchors[:, 2:]) / 2
    return anchors[(mid == torch.tensor(centre, dtype=mid.dtype)).all(dim=1)]


def anchors_figure(image: Tensor, boxes: Tensor, centre: tuple[int, int] = (64, 64)) -> Figure:
    """RetinaNet's 9 anchors at one position of P4, and FPN Faster R-CNN's 3 per position on
    each of P2-P6, with the CPU-sized models' anchor sizes.

    Args:
        image: a (1, 128, 128) scene.
        boxes: its ground-truth boxes, drawn dashed.
        centre: the pixel whose anchors are drawn (a multiple of 64 lies on every level's grid).
    """
    size = image.shape[-1]
    with torch.device("meta"):  # only their anchor generators are used
        retina = create_model("retinanet_resnet18_fpn").anchor_generator
        rpn = create_model("fasterrcnn_resnet18_fpn").rpn.anchor_generator
    p4 = _anchors_at(_level_anchors(retina, size, (8, 16, 32, 64, 128))[1], centre)
    fig = Figure(figsize=(7.2, 3.9), layout="constrained")
    left, right = fig.subplots(1, 2)
    for ax, margin in ((left, 10), (right, 70)):
        show_image(ax, image)
        draw_boxes(ax, boxes, colour=TRUTH_COLOUR, linestyle="--", fontsize=0)
        ax.set_xlim(-margin - 0.5, size + margin - 0.5)
        ax.set_ylim(size + margin - 0.5, -margin - 0.5)
    sizes = retina.sizes[1]
    for k, anchor_size in enumerate(sizes):  # rows are ratio-major: ratio r, size k at r * 3 + k
        draw_boxes(left, p4[k :: len(sizes)], colour=LEVEL_COLOURS[k], linewidth=1.0, fontsize=0)
        left.plot(
            [], [], color=LEVEL_COLOURS[k], label=f"size {anchor_size:g} px, ratios 1:2 1:1 2:1"
        )
    grid = torch.arange(0, size, 16, dtype=torch.float32) - 0.5
    gx, gy = torch.meshgrid(grid, grid, indexing="xy")
    left.scatter(gx.flatten(), gy.flatten(), s=2, color="white", alpha=0.7)
    left.set_title(
        "RetinaNet: 9 anchors per position (one of P4,\nstride 16: its centres dotted)", fontsize=8
    )
    for k, (anchors, name) in enumerate(
        zip(
            _level_anchors(rpn, size, (4, 8, 16, 32, 64)),
            ("P2", "P3", "P4", "P5", "P6"),
            strict=True,
        )
    ):
        here = _anchors_at(anchors, centre)
        draw_boxes(right, here, colour=LEVEL_COLOURS[k], linewidth=1.0, fontsize=0)
        right.plot(
            [],
            [],
            color=LEVEL_COLOURS[k],
            label=f"{name}: {len(here)} anchors of {rpn.sizes[k][0]:g} px",
        )
    right.set_title(
        "FPN Faster R-CNN: 3 anchors per position\n(one size per level x 3 ratios)", fontsize=8
    )
    for ax in (left, right):
        ax.legend(fontsize=6, loc="lower left", framealpha=0.85)
    return fig


def focal_loss_curves(p_t: Tensor, gammas: Sequence[float] = GAMMAS) -> dict[float, Tensor]:
    """``FL(p_t) = -(1 - p_t)^gamma log(p_t)`` (no alpha) for each gamma.

    Computed as :func:`~cnnlab.detection.sigmoid_focal_loss` of a positive whose logit is
    ``log(p_t / (1 - p_t))``, so that ``sigmoid(logit) = p_t``.

    Shape:
        p_t: (P,) in (0, 1) -> {gamma: (P,)}
    """
    p = p_t.to(torch.float64)
    logits = torch.log(p) - torch.log1p(-p)
    ones = torch.ones_like(p)
    return {g: sigmoid_focal_loss(logits, ones, alpha=None, gamma=g) for g in gammas}


def focal_loss_figure(gammas: Sequence[float] = GAMMAS) -> Figure:
    """The paper's Figure 1: loss against the probability of the ground-truth class."""
    p_t = torch.linspace(0.001, 0.999, 500, dtype=torch.float64)
    fig = Figure(figsize=(5.2, 3.6), layout="constrained")
    ax = fig.subplots()
    for gamma, loss in focal_loss_curves(p_t, gammas).items():
        label = "cross-entropy (γ = 0)" if gamma == 0 else f"γ = {gamma:g}"
        ax.plot(p_t.numpy(), loss.numpy(), label=label, linewidth=1.4)
    ax.axvspan(0.6, 1.0, color="grey", alpha=0.12)
    ax.text(0.8, 3.2, "well-classified\nexamples", ha="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 5)
    ax.set_xlabel("probability of the ground-truth class $p_t$")
    ax.set_ylabel("loss")
    ax.set_title("FL$(p_t) = -(1 - p_t)^\\gamma \\log p_t$", fontsize=9)
    ax.legend(fontsize=8)
    return fig


@torch.no_grad()
def rpn_proposals(model: FasterRCNN, image: Tensor, nms: bool = True) -> tuple[Tensor, Tensor]:
    """One image's RPN proposals and objectness probabilities, best first, in the image's
    pixels; ``nms=False`` keeps every candidate (the per-level top-n, clipped) instead.

    Shape:
        image: (C, H, W) -> boxes (P, 4), scores (P,)
    """
    model.eval()
    batch, _ = model.transform([image])
    features = model.backbone(batch.tensors)
    maps = list(features.values())
    logits, deltas = model.rpn.head(maps)
    anchors = model.rpn.anchor_generator(batch, maps)
    objectness = flatten_levels(logits, 1).reshape(1, -1)
    proposals = decode_boxes(anchors[0], flatten_levels(deltas, 4).reshape(-1, 4))[None]
    counts = [x[0].numel() for x in logits]
    everything = {} if nms else {"nms_thresh": 1.0, "post_nms_top_n": sum(counts)}
    (boxes,), (scores,) = model.rpn.filter_proposals(
        proposals, objectness, batch.image_sizes, counts, **everything
    )
    order = scores.argsort(descending=True)
    restored = model.transform.postprocess(
        [{"boxes": boxes[order]}], batch.image_sizes, [tuple(image.shape[-2:])]
    )
    return restored[0]["boxes"], scores[order]


def proposals_figure(model: FasterRCNN, image: Tensor, truth: Tensor, shown: int = 300) -> Figure:
    """RPN proposals of one image before NMS and after it (the ``shown`` best of each)."""
    before, _ = rpn_proposals(model, image, nms=False)
    after, _ = rpn_proposals(model, image, nms=True)
    fig = Figure(figsize=(7.2, 3.9), layout="constrained")
    for ax, (title, boxes, alpha) in zip(
        fig.subplots(1, 2),
        [(f"before NMS: {len(before)} proposals", before, 0.25),
         (f"after NMS (IoU 0.7): {len(after)} proposals", after, 0.6)],
        strict=True,
    ):  # fmt: skip
        show_image(ax, image)
        draw_boxes(ax, boxes[:shown], linewidth=0.6, alpha=alpha, fontsize=0)
        draw_boxes(ax, truth, colour=TRUTH_COLOUR, linestyle="--", fontsize=0)
        ax.set_title(f"{title} (best {min(shown, len(boxes))} drawn)", fontsize=8)
    return fig


@torch.no_grad()
def detections_figure(
    model: torch.nn.Module,
    images: Sequence[Tensor],
    targets: Sequence[dict[str, Tensor]],
    class_names: Sequence[str] | None = None,
    score_threshold: float = 0.5,
    columns: int = 4,
) -> Figure:
    """Final detections (score >= ``score_threshold``) on each image, ground truth dashed."""
    model.eval()
    detections = model(list(images))
    rows = math.ceil(len(images) / columns)
    fig = Figure(figsize=(1.9 * columns, 1.95 * rows), layout="constrained")
    axes = np.atleast_2d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[len(images) :]:
        ax.set_axis_off()
    for ax, image, det, target in zip(axes, images, detections, targets, strict=False):
        show_image(ax, image)
        draw_boxes(ax, target["boxes"], colour=TRUTH_COLOUR, linestyle="--", fontsize=0)
        keep = det["scores"] >= score_threshold
        draw_boxes(ax, det["boxes"][keep], det["labels"][keep], det["scores"][keep], class_names)
    return fig
