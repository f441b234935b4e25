"""Faster R-CNN against torchvision's: the ResNet-50 twin (strict state dict, identical
detections) and the training losses of the CPU-sized model (same sampling draws)."""

from __future__ import annotations

import copy

import pytest
import torch
import torchvision
from torchvision.models.detection.anchor_utils import AnchorGenerator as TvAnchorGenerator
from torchvision.models.detection.faster_rcnn import FasterRCNN as TvFasterRCNN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor as TvFastRCNNPredictor
from torchvision.models.detection.faster_rcnn import TwoMLPHead as TvTwoMLPHead

from cnnlab.detection import fasterrcnn_resnet18_fpn, fasterrcnn_resnet50_fpn


def _images(seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(3, 60, 80, generator=g), torch.rand(3, 72, 56, generator=g)]


def test_resnet50_twin_of_torchvision() -> None:
    torch.manual_seed(0)
    options = dict(
        min_size=64, max_size=96, box_score_thresh=0.001, rpn_pre_nms_top_n_test=300,
        rpn_post_nms_top_n_test=200,
    )  # fmt: skip
    theirs = torchvision.models.detection.fasterrcnn_resnet50_fpn(
        weights=None, weights_backbone=None, **options
    ).eval()
    ours = fasterrcnn_resnet50_fpn(**options).eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict(), strict=True)
    images = _images()
    with torch.no_grad():
        got, want = ours(images), theirs(images)
    for a, b in zip(got, want, strict=True):
        assert len(b["boxes"]) == 100
        for key in ("boxes", "scores", "labels"):
            assert torch.equal(a[key], b[key]), key


OPTIONS = dict(
    min_size=64, max_size=96, rpn_pre_nms_top_n_train=300, rpn_post_nms_top_n_train=150,
    rpn_pre_nms_top_n_test=200, rpn_post_nms_top_n_test=100, box_batch_size_per_image=64,
)  # fmt: skip


def _small_pair() -> tuple[torch.nn.Module, torch.nn.Module]:
    """Our CPU-sized Faster R-CNN and torchvision's FasterRCNN class around a copy of its
    backbone, with the same anchors and box head."""
    torch.manual_seed(0)
    ours = fasterrcnn_resnet18_fpn(num_classes=5, **OPTIONS)
    theirs = TvFasterRCNN(
        copy.deepcopy(ours.backbone),
        rpn_anchor_generator=TvAnchorGenerator(
            ((16,), (32,), (64,), (128,), (256,)), ((0.5, 1.0, 2.0),) * 5
        ),
        box_head=TvTwoMLPHead(64 * 7 * 7, 256),
        box_predictor=TvFastRCNNPredictor(256, 5),  # torchvision assumes a 1024-wide head
        **OPTIONS,
    )
    theirs.load_state_dict(ours.state_dict(), strict=True)
    return ours, theirs


def test_training_losses_equal_torchvision() -> None:
    ours, theirs = _small_pair()
    images = _images(1)
    targets = [
        {"boxes": torch.tensor([[4.0, 6.0, 40.0, 50.0], [30.0, 10.0, 70.0, 35.0]]),
         "labels": torch.tensor([3, 1])},
        {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)},
    ]  # fmt: skip
    torch.manual_seed(1)  # transform, RPN and RoI sampling draw from the global generator
    got = ours.train()(images, targets)
    torch.manual_seed(1)
    want = theirs.train()(images, targets)
    assert list(got) == list(want)
    assert list(got) == ["loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg"]
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=1e-5, atol=1e-7)
    assert got["loss_box_reg"] > 0
    sum(got.values()).backward()
    assert all(torch.isfinite(p.grad).all() for p in ours.parameters() if p.grad is not None)
    assert ours.roi_heads.box_predictor.bbox_pred.weight.grad.abs().sum() > 0


def test_eval_detections_equal_torchvision_small() -> None:
    ours, theirs = _small_pair()
    ours.roi_heads.score_thresh = theirs.roi_heads.score_thresh = 0.0
    images = _images(3)
    with torch.no_grad():
        got, want = ours.eval()(images), theirs.eval()(images)
    for a, b in zip(got, want, strict=True):
        assert len(a["boxes"]) == 100
        assert all(torch.equal(a[k], b[k]) for k in ("boxes", "scores", "labels"))


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match=r"unexpected option\(s\) rpn_nms_tresh"):
        fasterrcnn_resnet18_fpn(rpn_nms_tresh=0.5)
    with pytest.raises(ValueError, match="weights_backbone must be None"):
        fasterrcnn_resnet50_fpn(weights_backbone="IMAGENET1K_V1")
    with pytest.raises(ValueError, match="box_detections_per_img must be a positive integer"):
        fasterrcnn_resnet18_fpn(box_detections_per_img=0)
