"""RetinaNet against torchvision's: the ResNet-50 twin (strict state dict, identical detections),
the training losses of the CPU-sized model, and the focal loss of the paper by hand."""

from __future__ import annotations

import copy
from functools import partial

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models.detection._utils import Matcher as TvMatcher
from torchvision.models.detection.anchor_utils import AnchorGenerator as TvAnchorGenerator
from torchvision.models.detection.retinanet import RetinaNet as TvRetinaNet
from torchvision.models.detection.retinanet import RetinaNetHead as TvRetinaNetHead
from torchvision.ops import box_iou, sigmoid_focal_loss

from cnnlab.detection import octave_sizes, retinanet_resnet18_fpn, retinanet_resnet50_fpn


def _images(seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(3, 60, 80, generator=g), torch.rand(3, 72, 56, generator=g)]


def _targets() -> list[dict[str, torch.Tensor]]:
    return [
        {"boxes": torch.tensor([[4.0, 6.0, 40.0, 50.0], [30.0, 10.0, 70.0, 35.0]]),
         "labels": torch.tensor([3, 7])},
        {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)},
    ]  # fmt: skip


def test_resnet50_twin_of_torchvision() -> None:
    torch.manual_seed(0)
    options = dict(min_size=64, max_size=96, score_thresh=0.005, detections_per_img=50)
    theirs = torchvision.models.detection.retinanet_resnet50_fpn(
        weights=None, weights_backbone=None, **options
    ).eval()
    ours = retinanet_resnet50_fpn(**options).eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict(), strict=True)
    images = _images()
    with torch.no_grad():
        got, want = ours(images), theirs(images)
    for a, b in zip(got, want, strict=True):
        assert len(b["boxes"]) == 50  # enough detections to compare
        for key in ("boxes", "scores", "labels"):
            assert torch.equal(a[key], b[key]), key


@pytest.fixture(scope="module")
def small_retinanet() -> torch.nn.Module:
    torch.manual_seed(0)
    return retinanet_resnet18_fpn(num_classes=11, min_size=32, max_size=32)


def _small_pair(num_classes: int = 11) -> tuple[torch.nn.Module, torch.nn.Module]:
    """Our CPU-sized RetinaNet and torchvision's RetinaNet class around a copy of its backbone."""
    torch.manual_seed(0)
    ours = retinanet_resnet18_fpn(num_classes=num_classes, min_size=64, max_size=96)
    sizes = octave_sizes((24, 48, 96, 192, 384))  # the CPU variant's anchors and v2 head
    theirs = TvRetinaNet(
        copy.deepcopy(ours.backbone),
        num_classes,
        min_size=64,
        max_size=96,
        anchor_generator=TvAnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * 5),
        head=TvRetinaNetHead(64, 9, num_classes, norm_layer=partial(nn.GroupNorm, 32)),
    )
    theirs.load_state_dict(ours.state_dict(), strict=True)
    return ours, theirs


def test_training_losses_equal_torchvision() -> None:
    ours, theirs = _small_pair()
    images, targets = _images(1), _targets()
    torch.manual_seed(1)
    got = ours.train()(images, targets)
    torch.manual_seed(1)
    want = theirs.train()(images, targets)
    assert list(got) == list(want) == ["classification", "bbox_regression"]
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=1e-5, atol=1e-6)
    sum(got.values()).backward()
    grads = [p.grad for p in ours.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_classification_loss_is_the_papers_focal_loss() -> None:
    # sum of torchvision's sigmoid_focal_loss over every anchor that is not ignored (IoU with
    # its best box in [0.4, 0.5)), divided by the number of foreground anchors; mean over images
    ours, _ = _small_pair()
    images, targets = _images(2), _targets()
    ours.train()
    losses = ours(images, targets)
    # the same forward, by hand: features, head outputs, anchors on the resized batch
    batch, resized = ours.transform(images, targets)
    maps = list(ours.backbone(batch.tensors).values())
    logits = ours.head(maps)["cls_logits"]
    anchors = ours.anchor_generator(batch, maps)
    per_image = []
    for logit, anchor, target in zip(logits, anchors, resized, strict=True):
        if len(target["boxes"]):
            matched = TvMatcher(0.5, 0.4, True)(box_iou(target["boxes"], anchor))
        else:
            matched = torch.full((len(anchor),), -1)
        fg = matched >= 0
        onehot = torch.zeros_like(logit)
        onehot[fg, target["labels"][matched[fg]]] = 1
        keep = matched != -2
        fl = sigmoid_focal_loss(logit[keep], onehot[keep], alpha=0.25, gamma=2, reduction="sum")
        per_image.append(fl / max(1, int(fg.sum())))
    assert int((TvMatcher(0.5, 0.4, True)(box_iou(resized[0]["boxes"], anchors[0])) >= 0).sum()) > 2
    torch.testing.assert_close(losses["classification"], sum(per_image) / 2, rtol=1e-5, atol=0)


def test_eval_detections_equal_torchvision_small() -> None:
    ours, theirs = _small_pair()
    ours.score_thresh = theirs.score_thresh = 0.0  # the attribute reaches the post-processing
    assert ours.postprocess.score_thresh == 0.0
    images = _images(3)
    with torch.no_grad():
        got, want = ours.eval()(images), theirs.eval()(images)
    for a, b in zip(got, want, strict=True):
        assert len(a["boxes"]) == 300
        assert all(torch.equal(a[k], b[k]) for k in ("boxes", "scores", "labels"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m([torch.rand(3, 32, 32)]), "needs targets"),
        (lambda m: m([torch.rand(1, 32, 32)], _targets()[:1]), "1 channels; this detector takes 3"),
        (lambda m: m(torch.rand(3, 32, 32), None), r"got a tensor of shape \(3, 32, 32\)"),
        (lambda m: m([torch.rand(3, 32, 32)], _targets()), "list of 1 dicts"),
        (
            lambda m: m(
                [torch.rand(3, 32, 32)],
                [{"boxes": torch.tensor([[5.0, 5.0, 5.0, 9.0]]), "labels": torch.tensor([1])}],
            ),
            r"targets\[0\]\['boxes'\]\[0\] = \[5.0, 5.0, 5.0, 9.0\] has width 0",
        ),
        (
            lambda m: m(
                [torch.rand(3, 32, 32)],
                [{"boxes": torch.tensor([[1.0, 1, 5, 9]]), "labels": torch.tensor([1.0])}],
            ),
            "must be an int64 tensor",
        ),
    ],
    ids=["no-targets", "channels", "3d-tensor", "count", "degenerate-box", "float-labels"],
)
def test_bad_inputs_are_value_errors(small_retinanet, call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(small_retinanet.train())


def test_options_are_checked() -> None:
    with pytest.raises(
        ValueError, match=r"unexpected option\(s\) score_tresh \(did you mean score_thresh"
    ):
        retinanet_resnet18_fpn(score_tresh=0.1)
    with pytest.raises(ValueError, match="weights must be None: cnnlab downloads nothing"):
        retinanet_resnet50_fpn(weights="DEFAULT")
    with pytest.raises(ValueError, match="nms_thresh must be a finite number in"):
        retinanet_resnet18_fpn(nms_thresh=1.5)


def test_head_norm_is_torchvisions_v2_head() -> None:
    # torchvision's retinanet_resnet50_fpn_v2 head: GroupNorm(32) after each tower conv, no bias
    from cnnlab.detection.retinanet_head import RetinaNetHead

    torch.manual_seed(0)
    theirs = TvRetinaNetHead(64, 9, 11, norm_layer=partial(nn.GroupNorm, 32)).eval()
    ours = RetinaNetHead(64, 9, 11, norm_layer=partial(nn.GroupNorm, 32)).eval()
    for module in theirs.modules():  # norm weights off their init, so that GroupNorm matters
        if isinstance(module, nn.GroupNorm):
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.5, 0.5)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    features = [torch.randn(2, 64, 8, 8), torch.randn(2, 64, 4, 4)]
    with torch.no_grad():
        got, want = ours(features), theirs(features)
    for key in ("cls_logits", "bbox_regression"):
        torch.testing.assert_close(got[key], want[key], rtol=1e-5, atol=1e-6)

    model = retinanet_resnet18_fpn(num_classes=11, in_chans=1, head_norm=True)
    assert set(model.state_dict()) >= {f"head.{k}" for k in theirs.state_dict()}
    with pytest.raises(ValueError, match="head_norm needs fpn_channels divisible by 32"):
        retinanet_resnet18_fpn(fpn_channels=48, head_norm=True)
    with pytest.raises(ValueError, match="head_norm must be true or false"):
        retinanet_resnet18_fpn(head_norm="yes")
