"""The worked example of ``cnnlab boxes-demo``: what box regression and NMS do to proposals.

On ``china.jpg`` (a photo shipped with scikit-learn) three objects get hand-drawn ground-truth
boxes. Proposals are jittered copies of them (random R-CNN offsets ``t``). Each proposal's feature
``phi(P)`` is honest, computed from pixels only: RoI Align (7 x 7) of the image's RGB and
gradient-magnitude channels over the proposal enlarged 1.6x for context, standardised. A
:class:`BoxRegressor` (``lambda = 1000``, as R-CNN) is fitted on 200 proposals per object and
applied to 40 others per object; a second ridge predicts each regressed box's IoU with its object
from the same feature and serves as the NMS score. Training and test proposals come from the same
three objects of one image, so this shows the mechanics, not how a detector generalises.

The figure is drawn on a ``matplotlib.figure.Figure`` (no pyplot state, the global backend is left
alone) and written atomically: an interrupted run never leaves half a PNG behind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from cnnlab.core.files import atomic_write, check_output_file
from cnnlab.core.validate import non_negative_int, number, positive_int
from cnnlab.detection import BoxRegressor, box_iou, decode_boxes, nms, roi_align

if TYPE_CHECKING:
    from matplotlib.axes import Axes

IMAGE = "china.jpg"
GROUND_TRUTH = {  # (x1, y1, x2, y2) in pixels of the 427 x 640 image, drawn by hand
    "pagoda": (62.0, 28.0, 352.0, 395.0),
    "island": (425.0, 222.0, 502.0, 242.0),
    "tree": (545.0, 135.0, 640.0, 427.0),
}
MAX_PROPOSALS_PER_BOX = 1000
"""Most proposals drawn per object, for training or testing (the features of 3 x 1000 fit in
a few MB)."""


@dataclass(frozen=True)
class BoxesDemo:
    """Everything the figure shows (boxes are float64 ``(x1, y1, x2, y2)`` tensors)."""

    image: np.ndarray  # (H, W, 3) uint8
    gt_boxes: Tensor  # (G, 4)
    proposals: Tensor  # (N, 4) test proposals
    owners: Tensor  # (N,) index of each proposal's ground-truth box
    regressed: Tensor  # (N, 4) the BoxRegressor's output for the proposals
    scores: Tensor  # (N,) predicted IoU of each regressed box, the NMS score
    keep: Tensor  # (K,) indices of the NMS survivors among the regressed boxes
    iou_threshold: float
    alpha: float = 1000.0  # the ridge penalty lambda

    @property
    def iou_before(self) -> float:
        """Mean IoU of the proposals with their ground truth."""
        return _mean_iou(self.proposals, self.gt_boxes[self.owners])

    @property
    def iou_after(self) -> float:
        """Mean IoU of the regressed boxes with their ground truth."""
        return _mean_iou(self.regressed, self.gt_boxes[self.owners])

    def summary(self) -> str:
        return (
            f"{len(self.proposals)} test proposals around {len(self.gt_boxes)} objects: mean IoU "
            f"with ground truth {self.iou_before:.3f} -> {self.iou_after:.3f} after box "
            f"regression; NMS (IoU > {self.iou_threshold:g} suppressed) keeps {len(self.keep)}"
        )


def _mean_iou(boxes: Tensor, gt: Tensor) -> float:
    return float(box_iou(boxes, gt).diagonal().mean())


def load_scene() -> tuple[np.ndarray, Tensor]:
    """The image (H, W, 3) uint8 and its ground-truth boxes (G, 4), float64."""
    from sklearn.datasets import load_sample_image

    image = load_sample_image(IMAGE)
    return image, torch.tensor(list(GROUND_TRUTH.values()), dtype=torch.float64)


def image_feature_map(image: np.ndarray) -> Tensor:
    """RGB in [0, 1] and the gradient magnitude of the grey image, as (1, 4, H, W) float64."""
    rgb = image.astype(np.float64) / 255.0
    gy, gx = np.gradient(rgb.mean(axis=2))
    channels = np.concatenate([rgb.transpose(2, 0, 1), 4.0 * np.hypot(gx, gy)[None]])
    return torch.from_numpy(channels)[None]


def jitter_boxes(
    gt: Tensor, per_box: int, sigma: float, seed: int, image_size: tuple[int, int]
) -> tuple[Tensor, Tensor]:
    """``per_box`` proposals per box: offsets ``t ~ N(0, sigma^2)`` decoded, clipped to the image.

    Returns:
        proposals (G * per_box, 4) and the index of the box each came from.
    """
    g = torch.Generator().manual_seed(seed)
    owners = torch.arange(len(gt)).repeat_interleave(per_box)
    deltas = torch.randn(len(owners), 4, generator=g, dtype=torch.float64) * sigma
    boxes = decode_boxes(gt[owners], deltas)
    height, width = image_size
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0, width)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0, height)
    boxes[:, 2:] = torch.maximum(boxes[:, 2:], boxes[:, :2] + 1.0)  # at least 1 pixel
    return boxes, owners


def proposal_features(
    feature_map: Tensor, boxes: Tensor, context: float = 1.6, output_size: int = 7
) -> np.ndarray:
    """phi(P): RoI Align of the proposal enlarged by ``context``, flattened, (N, C * 7 * 7)."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) * (context / 2)
    windows = torch.cat([centre - half, centre + half], dim=1)
    rois = torch.cat([torch.zeros(len(boxes), 1, dtype=boxes.dtype), windows], dim=1)
    pooled = roi_align(feature_map, rois, output_size, 1.0, sampling_ratio=2, aligned=True)
    return pooled.flatten(1).numpy()


def run_boxes_demo(
    seed: int = 0,
    proposals: int = 40,
    jitter: float = 0.15,
    iou_threshold: float = 0.3,
    train_proposals: int = 200,
    alpha: float = 1000.0,
) -> BoxesDemo:
    """Jitter, regress and suppress; see the module docstring for the recipe.

    The arguments are checked before anything is loaded; they are named as the flags of
    ``cnnlab boxes-demo``, so an error names the flag there.

    Args:
        seed: seed of the jitter (the test proposals use ``seed + 1``).
        proposals: test proposals per object, regressed and suppressed (1 to 1000).
        jitter: standard deviation of the random offsets ``t`` of the proposals, in (0, 1].
        iou_threshold: NMS drops a box whose IoU with a better kept box exceeds this.
        train_proposals: proposals per object that train the regressor (1 to 1000).
        alpha: the ridge penalty lambda of both regressions.
    """
    from sklearn.linear_model import Ridge

    seed = non_negative_int("seed", seed)
    proposals = positive_int("proposals", proposals, maximum=MAX_PROPOSALS_PER_BOX)
    jitter = number("jitter", jitter, minimum=0, exclusive_minimum=True, maximum=1)
    iou_threshold = number("iou_threshold", iou_threshold, minimum=0, maximum=1)
    train_proposals = positive_int(
        "train_proposals", train_proposals, maximum=MAX_PROPOSALS_PER_BOX
    )
    regressor = BoxRegressor(alpha=alpha)

    image, gt = load_scene()
    size = image.shape[:2]
    feature_map = image_feature_map(image)
    train, train_owner = jitter_boxes(gt, train_proposals, jitter, seed, size)
    test, test_owner = jitter_boxes(gt, proposals, jitter, seed + 1, size)
    phi_train = proposal_features(feature_map, train)
    mean, std = phi_train.mean(0), phi_train.std(0) + 1e-8
    phi_train, phi_test = (
        (phi_train - mean) / std,
        (proposal_features(feature_map, test) - mean) / std,
    )
    regressor.fit(phi_train, train, gt[train_owner])
    quality = box_iou(regressor.predict(phi_train, train), gt[train_owner]).diagonal()
    scorer = Ridge(alpha=regressor.alpha).fit(phi_train, quality.numpy())
    regressed = regressor.predict(phi_test, test)
    scores = torch.from_numpy(scorer.predict(phi_test))
    keep = nms(regressed, scores, iou_threshold)
    return BoxesDemo(
        image, gt, test, test_owner, regressed, scores, keep, iou_threshold, regressor.alpha
    )


def figure_formats() -> frozenset[str]:
    """The file endings matplotlib can write (``.png``, ``.pdf``, ``.svg``, ...)."""
    from matplotlib.backend_bases import FigureCanvasBase

    return frozenset(f".{ext}" for ext in FigureCanvasBase.get_supported_filetypes())


def _draw(ax: Axes, boxes: Tensor, colour: str, width: float, alpha: float = 1.0) -> None:
    from matplotlib.patches import Rectangle

    for x1, y1, x2, y2 in boxes.tolist():
        ax.add_patch(
            Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec=colour, lw=width, alpha=alpha)
        )


def plot_boxes_demo(demo: BoxesDemo, path: str | os.PathLike[str]) -> Path:
    """Three panels: proposals, regressed boxes, NMS survivors, each over the ground truth.

    Args:
        demo: the result of :func:`run_boxes_demo`.
        path: the figure to write; its ending picks the format (``.png``, ``.pdf``, ``.svg``,
            ... as matplotlib supports). ``~`` is expanded; the path is checked before drawing.

    Returns:
        The path written.
    """
    from matplotlib.figure import Figure

    out = check_output_file("path", path, figure_formats())
    fig = Figure(figsize=(18, 4.8), layout="constrained")
    panels = [
        (
            demo.proposals,
            "tab:red",
            0.8,
            0.5,
            f"proposals (jittered), mean IoU {demo.iou_before:.2f}",
        ),
        (
            demo.regressed,
            "tab:blue",
            0.8,
            0.5,
            f"after box regression, mean IoU {demo.iou_after:.2f}",
        ),
        (
            demo.regressed[demo.keep],
            "yellow",
            2.5,
            1.0,
            f"NMS survivors: {len(demo.keep)} of {len(demo.regressed)} "
            f"(IoU > {demo.iou_threshold:g} dropped)",
        ),
    ]
    for ax, (boxes, colour, width, alpha, title) in zip(fig.subplots(1, 3), panels, strict=True):
        ax.imshow(demo.image)
        _draw(ax, boxes, colour, width, alpha)
        _draw(ax, demo.gt_boxes, "lime", 2.0)
        ax.set_title(title, fontsize=11)
        ax.axis("off")
    fig.suptitle(
        f"R-CNN box regression (ridge, lambda = {demo.alpha:g}, on RoI-Align features of each "
        "proposal) "
        "and NMS; ground truth in green",
        fontsize=12,
    )
    fmt = out.suffix[1:].lower()
    atomic_write(out, lambda f: fig.savefig(f, format=fmt, dpi=90))
    return out
