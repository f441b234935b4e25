"""The figures of docs/detection.md's "training a detector": what they compute and draw."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision.ops as tv

from cnnlab.data.scenes import make_scenes
from cnnlab.demos.detectors import (
    GAMMAS,
    anchors_figure,
    detections_figure,
    focal_loss_curves,
    focal_loss_figure,
    proposals_figure,
    rpn_proposals,
    save_figure,
)
from cnnlab.models import create_model

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def scenes():
    return make_scenes(2, image_size=64, split="val", seed=3)


@pytest.fixture(scope="module")
def frcnn():
    torch.manual_seed(0)
    return create_model(
        "fasterrcnn_resnet18_fpn", num_classes=11, in_chans=1, min_size=64, max_size=64
    ).eval()


def test_focal_loss_curves_are_the_closed_form() -> None:
    p = torch.linspace(0.01, 0.99, 50, dtype=torch.float64)
    curves = focal_loss_curves(p)
    assert sorted(curves) == sorted(GAMMAS)
    for gamma, loss in curves.items():
        torch.testing.assert_close(loss, -((1 - p) ** gamma) * torch.log(p), msg=f"gamma {gamma}")


def test_anchors_figure_draws_9_and_3_per_level() -> None:
    scene = make_scenes(1, image_size=128, split="val")
    fig = anchors_figure(scene.images[0], scene.boxes[0])
    left, right = fig.axes
    truth = len(scene.boxes[0])
    assert len(left.patches) == 9 + truth
    assert len(right.patches) == 5 * 3 + truth


def test_proposals_after_nms_are_the_rpn_forward_ones(frcnn, scenes) -> None:
    image = scenes.images[0]
    before, scores_before = rpn_proposals(frcnn, image, nms=False)
    after, scores_after = rpn_proposals(frcnn, image, nms=True)
    with torch.no_grad():
        batch, _ = frcnn.transform([image])
        features = frcnn.backbone(batch.tensors)
        (reference,), _ = frcnn.rpn(batch, features)
    assert len(after) == len(reference) < len(before)
    assert (scores_after[:-1] >= scores_after[1:]).all()
    assert (scores_before[:-1] >= scores_before[1:]).all()
    # same set of boxes as the RPN's own forward (in the image's pixels: min_size = image size)
    torch.testing.assert_close(
        after[torch.argsort(after[:, 0] * 1e4 + after[:, 1])],
        reference[torch.argsort(reference[:, 0] * 1e4 + reference[:, 1])],
    )
    # every survivor is a candidate; survivors overlap at most 0.7 within their level
    assert (tv.box_iou(after, before).max(dim=1).values > 1 - 1e-6).all()


def test_figures_are_written(frcnn, scenes, tmp_path: Path) -> None:
    targets = [{"boxes": b, "labels": l} for b, l in zip(scenes.boxes, scenes.labels, strict=True)]
    figures = {
        "focal": focal_loss_figure(),
        "proposals": proposals_figure(frcnn, scenes.images[0], scenes.boxes[0], shown=20),
        "detections": detections_figure(
            frcnn, list(scenes.images), targets, score_threshold=0.0, columns=3
        ),
    }
    assert len(figures["focal"].axes[0].lines) == len(GAMMAS)
    assert len(figures["detections"].axes) == 3
    for name, fig in figures.items():
        path = save_figure(fig, tmp_path / f"{name}.png")
        assert path.read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="out"):
        save_figure(figures["focal"], tmp_path / "focal.jpg")
