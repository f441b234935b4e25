"""The RPN and the pyramid RoI Align against torchvision's RegionProposalNetwork and
MultiScaleRoIAlign (same head weights, same features)."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator as TvAnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.rpn import RegionProposalNetwork as TvRPN
from torchvision.models.detection.rpn import RPNHead as TvRPNHead
from torchvision.ops import MultiScaleRoIAlign as TvMultiScaleRoIAlign

from cnnlab.detection import (
    AnchorGenerator,
    MultiScaleRoIAlign,
    RegionProposalNetwork,
    RPNSigmoidHead,
    fpn_levels,
)

SIZES, RATIOS = ((16,), (32,), (64,)), ((0.5, 1.0, 2.0),) * 3
SETTINGS = dict(
    fg_iou_thresh=0.7,
    bg_iou_thresh=0.3,
    batch_size_per_image=64,
    positive_fraction=0.5,
    pre_nms_top_n={"training": 300, "testing": 200},
    post_nms_top_n={"training": 150, "testing": 100},
    nms_thresh=0.7,
)


def _pair() -> tuple[RegionProposalNetwork, TvRPN]:
    torch.manual_seed(0)
    theirs = TvRPN(TvAnchorGenerator(SIZES, RATIOS), TvRPNHead(8, 3), **SETTINGS)
    ours = RegionProposalNetwork(AnchorGenerator(SIZES, RATIOS), RPNSigmoidHead(8, 3), **SETTINGS)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict(), strict=True)
    with torch.no_grad():  # larger weights than the init's, so that proposals move off the anchors
        for p in ours.head.parameters():
            p.normal_(0, 0.3)
    theirs.load_state_dict(ours.state_dict())
    return ours, theirs


def _inputs() -> tuple[ImageList, OrderedDict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    images = ImageList(torch.zeros(2, 3, 96, 128), [(96, 120), (80, 128)])
    features = OrderedDict(
        (str(i), torch.randn(2, 8, 96 // s, 128 // s, generator=g))
        for i, s in enumerate((4, 8, 16))
    )
    return images, features


def test_proposals_equal_torchvision_in_eval_mode() -> None:
    ours, theirs = _pair()
    images, features = _inputs()
    with torch.no_grad():
        got, losses = ours.eval()(images, features)
        want, _ = theirs.eval()(images, features)
    assert losses == {}
    assert [len(b) for b in got] == [len(b) for b in want] and len(got[0]) > 50
    for a, b in zip(got, want, strict=True):
        assert torch.equal(a, b)


def test_losses_equal_torchvision_in_training_mode() -> None:
    ours, theirs = _pair()
    images, features = _inputs()
    targets = [
        {"boxes": torch.tensor([[10.0, 10.0, 40.0, 50.0], [60.0, 20.0, 110.0, 90.0]])},
        {"boxes": torch.zeros(0, 4)},  # an image without objects: every anchor is background
    ]
    torch.manual_seed(5)  # the anchor sampling draws
    got_boxes, got = ours.train()(images, features, targets)
    torch.manual_seed(5)
    want_boxes, want = theirs.train()(images, features, targets)
    assert list(got) == list(want) == ["loss_objectness", "loss_rpn_box_reg"]
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=1e-6, atol=1e-7)
    assert all(torch.equal(a, b) for a, b in zip(got_boxes, want_boxes, strict=True))
    got["loss_objectness"].backward()
    assert ours.head.cls_logits.weight.grad.abs().sum() > 0


def test_fpn_level_rule_by_hand() -> None:
    # FPN eq. 1: k = floor(4 + log2(sqrt(wh) / 224)), clamped to [2, 5]
    boxes = torch.tensor(
        [
            [0, 0, 224, 224],
            [0, 0, 112, 112],
            [0, 0, 448, 448],
            [0, 0, 223, 223],
            [0, 0, 10, 10],
            [0, 0, 2000, 2000.0],
        ]
    )
    assert (fpn_levels(boxes, 2, 5) + 2).tolist() == [4, 3, 5, 3, 2, 5]


def test_multiscale_roi_align_equals_torchvision() -> None:
    g = torch.Generator().manual_seed(2)
    features = OrderedDict(
        (str(i), torch.randn(2, 4, 256 // s, 320 // s, generator=g))
        for i, s in enumerate((4, 8, 16, 32))
    )
    features["pool"] = torch.randn(2, 4, 4, 5, generator=g)  # not pooled from
    xy = torch.rand(2, 30, 2, generator=g) * 200
    wh = 4 + torch.rand(2, 30, 2, generator=g) ** 2 * 600  # every level gets boxes
    boxes = [torch.cat([xy[i], xy[i] + wh[i]], dim=1) for i in range(2)]
    sizes = [(256, 300), (240, 320)]
    ours = MultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2)(features, boxes, sizes)
    theirs = TvMultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2)(features, boxes, sizes)
    assert torch.equal(ours, theirs)
    levels = fpn_levels(torch.cat(boxes), 2, 5)
    assert set(levels.tolist()) == {0, 1, 2, 3}


def test_bad_top_n() -> None:
    with pytest.raises(ValueError, match="pre_nms_top_n must map 'training' and 'testing'"):
        RegionProposalNetwork(
            AnchorGenerator(SIZES, RATIOS),
            RPNSigmoidHead(8, 3),
            **{**SETTINGS, "pre_nms_top_n": {"testing": 5}},
        )
