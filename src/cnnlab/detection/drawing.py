"""Boxes on a matplotlib ``Axes``: ground truth, detections with class and score, anchors.

Shared by the training task's ``predictions.png``, ``cnnlab predict`` and the detection
figures of the docs. Drawing only: the caller owns the ``Figure`` (object-oriented API, no
pyplot state). matplotlib is imported by the caller; this module only calls the axes it gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

DETECTION_COLOUR = "#e4572e"
TRUTH_COLOUR = "#76b041"


def show_image(ax: Any, image: Tensor) -> None:
    """Draw a (C, H, W) image (1 or 3 channels), scaled to its own range, without ticks."""
    x = image.detach().to("cpu", torch.float32)
    lo, hi = x.min(), x.max()
    x = (x - lo) / (hi - lo) if hi > lo else torch.zeros_like(x)
    if x.shape[0] == 1:
        ax.imshow(x[0].numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(x[:3].permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_boxes(
    ax: Any,
    boxes: Tensor,
    labels: Tensor | None = None,
    scores: Tensor | None = None,
    class_names: Sequence[str] | None = None,
    colour: str = DETECTION_COLOUR,
    linestyle: str = "-",
    linewidth: float = 1.2,
    alpha: float = 1.0,
    fontsize: float = 6,
) -> None:
    """Rectangles for ``(x1, y1, x2, y2)`` boxes in pixels, captioned ``name score``.

    Args:
        ax: a matplotlib ``Axes`` showing the image (pixel ``(0, 0)`` at the top left).
        boxes: the boxes.
        labels: class index per box (captions), or ``None``.
        scores: score per box (captions), or ``None``.
        class_names: names by class index (default: the index).
        colour, linestyle, linewidth, alpha: the rectangles' look.
        fontsize: caption size (0: no captions).

    Shape:
        boxes: (K, 4), labels: (K,), scores: (K,)
    """
    from matplotlib.patches import Rectangle

    boxes = boxes.detach().to("cpu", torch.float64)
    for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
        # imshow puts pixel centres at integers: pixel k spans [k - 0.5, k + 0.5]
        ax.add_patch(
            Rectangle(
                (x1 - 0.5, y1 - 0.5),
                x2 - x1,
                y2 - y1,
                fill=False,
                edgecolor=colour,
                linewidth=linewidth,
                linestyle=linestyle,
                alpha=alpha,
            )
        )
        parts = []
        if labels is not None:
            k = int(labels[i])
            parts.append(
                class_names[k] if class_names is not None and k < len(class_names) else str(k)
            )
        if scores is not None:
            parts.append(f"{float(scores[i]):.2f}")
        if parts and fontsize:
            ax.text(
                x1 - 0.5,
                y1 - 1.0,
                " ".join(parts),
                color="white",
                fontsize=fontsize,
                va="bottom",
                bbox={"facecolor": colour, "edgecolor": "none", "pad": 0.6, "alpha": 0.85},
            )
