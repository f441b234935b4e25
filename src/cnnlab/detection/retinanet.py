"""RetinaNet (Lin, Goyal, Girshick, He & Dollar, "Focal Loss for Dense Object Detection",
ICCV 2017): a one-stage detector, a ResNet-FPN and two small subnets trained with the focal loss.

The pyramid has levels P3-P7 (P6 and P7 by stride-2 convolutions, here from P5 as torchvision's
v1), each with 9 anchors per position (sizes ``2^0, 2^(1/3), 2^(2/3)`` times 32 ... 512 px,
ratios 1:2, 1:1, 2:1). Every anchor is classified (sigmoid per class) and regressed directly,
with no proposal stage; the focal loss keeps the ~100k easy background anchors from swamping
the few foreground ones (see :mod:`cnnlab.detection.retinanet_head`). Inference: per level,
scores > ``score_thresh``, the ``topk_candidates`` best (anchor, class) pairs decoded and
clipped; then NMS per class over all levels and the ``detections_per_img`` best.

Built from cnnlab's pieces (anchors, matcher, box coder, focal loss, NMS, FPN, ResNet);
``retinanet_resnet50_fpn`` has the state dict of torchvision's model of the same name and,
with its weights, the same detections (tested). torchvision pieces used as they are:
``ops.clip_boxes_to_image``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import ClassVar

import torch
from torch import Tensor, nn
from torchvision import ops

from cnnlab.core.validate import number, positive_int
from cnnlab.detection._checks import has_values
from cnnlab.detection.anchor_generator import AnchorGenerator, octave_sizes
from cnnlab.detection.box_ops import box_iou
from cnnlab.detection.coder import decode_boxes
from cnnlab.detection.detector import Detector, check_options, refuse_weights
from cnnlab.detection.fpn import resnet_fpn_backbone
from cnnlab.detection.matcher import Matcher
from cnnlab.detection.nms import batched_nms
from cnnlab.detection.retinanet_head import RetinaNetHead
from cnnlab.detection.transform import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    DetectionTransform,
    ImageBatch,
    default_normalisation,
)
from cnnlab.models import register_model

GROUPS = 32  # GroupNorm groups of the head_norm subnets (torchvision's retinanet_resnet50_fpn_v2)
PAPER = "Lin, Goyal, Girshick, He & Dollar, Focal Loss for Dense Object Detection, ICCV 2017"


class RetinaNetPostprocess(nn.Module):
    """From head outputs to detections: per level the ``topk_candidates`` best (anchor, class)
    pairs scoring above ``score_thresh``, decoded and clipped; then NMS per class and the
    ``detections_per_img`` best (torchvision's steps, in its order).

    Shape:
        cls_logits (N, A, K), bbox_regression (N, A, 4), anchors N x (A, 4) -> N dicts
    """

    def __init__(
        self, score_thresh: float, nms_thresh: float, detections_per_img: int, topk_candidates: int
    ) -> None:
        super().__init__()
        self.score_thresh = number("score_thresh", score_thresh, minimum=0, maximum=1)
        self.nms_thresh = number("nms_thresh", nms_thresh, minimum=0, maximum=1)
        self.detections_per_img = positive_int("detections_per_img", detections_per_img)
        self.topk_candidates = positive_int("topk_candidates", topk_candidates)

    def forward(
        self,
        outputs: dict[str, Tensor],
        anchors: list[Tensor],
        positions: list[int],
        image_sizes: list[tuple[int, int]],
    ) -> list[dict[str, Tensor]]:
        per_position = outputs["cls_logits"].shape[1] // sum(positions)
        split = [p * per_position for p in positions]
        logits = outputs["cls_logits"].split(split, dim=1)
        deltas = outputs["bbox_regression"].split(split, dim=1)
        return [
            self.detect_image(
                [x[i] for x in logits], [x[i] for x in deltas], list(anchors[i].split(split)), size
            )
            for i, size in enumerate(image_sizes)
        ]

    def detect_image(
        self,
        logits: list[Tensor],
        deltas: list[Tensor],
        anchors: list[Tensor],
        image_size: tuple[int, int],
    ) -> dict[str, Tensor]:
        """One image's detections from its per-level logits (A_l, K), offsets and anchors."""
        boxes_all, scores_all, labels_all = [], [], []
        for logits_l, deltas_l, anchors_l in zip(logits, deltas, anchors, strict=True):
            num_classes = logits_l.shape[-1]
            scores = torch.sigmoid(logits_l).flatten()
            if has_values(scores):
                keep = scores > self.score_thresh
                scores = scores[keep]
                candidates = torch.where(keep)[0]
            else:  # shapes only: every candidate passes the threshold
                candidates = torch.arange(scores.shape[0], device=scores.device)
            scores, idx = scores.topk(min(self.topk_candidates, candidates.shape[0]))
            candidates = candidates[idx]
            anchor_idx = torch.div(candidates, num_classes, rounding_mode="floor")
            boxes = decode_boxes(anchors_l[anchor_idx], deltas_l[anchor_idx])
            boxes_all.append(ops.clip_boxes_to_image(boxes, image_size))
            scores_all.append(scores)
            labels_all.append(candidates % num_classes)
        boxes, scores, labels = torch.cat(boxes_all), torch.cat(scores_all), torch.cat(labels_all)
        if has_values(boxes):
            keep = batched_nms(boxes, scores, labels, self.nms_thresh)[: self.detections_per_img]
        else:  # shapes only: NMS keeps everything, up to the cap
            keep = slice(0, self.detections_per_img)
        return {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]}


def _delegate(name: str) -> property:
    def get(self: RetinaNet) -> object:
        return getattr(self.postprocess, name)

    def set_(self: RetinaNet, value: object) -> None:
        setattr(self.postprocess, name, value)

    return property(get, set_, doc=f"``postprocess.{name}``")


class RetinaNet(Detector):
    """A backbone with a pyramid, RetinaNet's head, anchors, focal loss and post-processing.

    Args:
        backbone: image -> ordered dict of pyramid maps (with ``out_channels``).
        num_classes: classes of the classification subnet (torchvision's numbering: 0 is the
            background and never predicted; 91 for COCO, 11 for the digit scenes).
        min_size, max_size, image_mean, image_std, size_divisible: the
            :class:`~cnnlab.detection.DetectionTransform` (``None``: ImageNet's statistics).
        anchor_generator: anchors per level (default: 9 per position on P3-P7, 32-512 px).
        head: a :class:`~cnnlab.detection.RetinaNetHead` (default: built for the backbone).
        proposal_matcher: the anchor matcher (default: IoU 0.5 / 0.4 with low-quality matches).
        score_thresh: detections must score above this (0.05).
        nms_thresh: IoU threshold of the per-class NMS (0.5).
        detections_per_img: detections kept per image (300).
        fg_iou_thresh: IoU from which an anchor is foreground (0.5).
        bg_iou_thresh: IoU below which an anchor is background (0.4).
        topk_candidates: best (anchor, class) pairs kept per level before NMS (1000).

    Shape:
        see :mod:`cnnlab.detection.detector`.
    """

    loss_names: ClassVar[tuple[str, ...]] = ("classification", "bbox_regression")

    def __init__(
        self,
        backbone: nn.Module,
        num_classes: int,
        min_size: int | Sequence[int] = 800,
        max_size: int = 1333,
        image_mean: Sequence[float] | None = None,
        image_std: Sequence[float] | None = None,
        anchor_generator: AnchorGenerator | None = None,
        head: nn.Module | None = None,
        proposal_matcher: Matcher | None = None,
        score_thresh: float = 0.05,
        nms_thresh: float = 0.5,
        detections_per_img: int = 300,
        fg_iou_thresh: float = 0.5,
        bg_iou_thresh: float = 0.4,
        topk_candidates: int = 1000,
        size_divisible: int = 32,
    ) -> None:
        transform = DetectionTransform(
            min_size,
            max_size,
            IMAGENET_MEAN if image_mean is None else image_mean,
            IMAGENET_STD if image_std is None else image_std,
            size_divisible,
        )
        super().__init__(backbone, transform)
        if anchor_generator is None:
            anchor_generator = AnchorGenerator(
                octave_sizes((32, 64, 128, 256, 512)), ((0.5, 1.0, 2.0),) * 5
            )
        self.anchor_generator = anchor_generator
        if head is None:
            num_anchors = anchor_generator.num_anchors_per_location()[0]
            head = RetinaNetHead(backbone.out_channels, num_anchors, num_classes)
        self.head = head
        self.proposal_matcher = proposal_matcher or Matcher(
            fg_iou_thresh, bg_iou_thresh, allow_low_quality_matches=True
        )
        self.postprocess = RetinaNetPostprocess(
            score_thresh, nms_thresh, detections_per_img, topk_candidates
        )

    # torchvision keeps these on the model: reading or setting them reaches the post-processing
    score_thresh = _delegate("score_thresh")
    nms_thresh = _delegate("nms_thresh")
    detections_per_img = _delegate("detections_per_img")
    topk_candidates = _delegate("topk_candidates")

    def match(self, anchors: list[Tensor], targets: list[dict[str, Tensor]]) -> list[Tensor]:
        """Index of each anchor's ground-truth box, or -1 (background) / -2 (ignored)."""
        matched = []
        for anchors_i, target in zip(anchors, targets, strict=True):
            if target["boxes"].numel() == 0:
                n = anchors_i.shape[0]
                matched.append(torch.full((n,), -1, dtype=torch.int64, device=anchors_i.device))
            else:
                matched.append(self.proposal_matcher(box_iou(target["boxes"], anchors_i)))
        return matched

    def detect(
        self,
        images: ImageBatch,
        features: dict[str, Tensor],
        targets: list[dict[str, Tensor]] | None,
    ) -> tuple[list[dict[str, Tensor]], dict[str, Tensor]]:
        maps = list(features.values())
        outputs = self.head(maps)
        anchors = self.anchor_generator(images, maps)
        if self.training:
            if targets is None:
                raise ValueError("RetinaNet needs targets in training mode")
            matched = self.match(anchors, targets)
            return [], self.head.compute_loss(targets, outputs, anchors, matched)
        positions = [m.shape[-2] * m.shape[-1] for m in maps]
        detections = self.postprocess(outputs, anchors, positions, images.image_sizes)
        return detections, {}


RETINANET_OPTIONS = (
    "min_size", "max_size", "image_mean", "image_std", "anchor_generator", "head",
    "proposal_matcher", "score_thresh", "nms_thresh", "detections_per_img", "fg_iou_thresh",
    "bg_iou_thresh", "topk_candidates", "size_divisible",
)  # fmt: skip


def retinanet_resnet_fpn(
    backbone: str,
    *,
    num_classes: int = 91,
    in_chans: int = 3,
    trainable_backbone_layers: int | None = None,
    fpn_channels: int = 256,
    anchor_sizes: Sequence[int] = (32, 64, 128, 256, 512),
    head_norm: bool = False,
    **kwargs: object,
) -> RetinaNet:
    """RetinaNet on any registry ResNet: stages 2-4 -> FPN P3-P5, P6/P7 from P5.

    Args:
        backbone: a registry ResNet (``resnet18``, ``resnet50``, ``resnext50_32x4d``, ...).
        num_classes: classes including the unused background 0.
        in_chans: image channels.
        trainable_backbone_layers: backbone stages trained, from the top (0-5; default all).
        fpn_channels: channels of the pyramid and of both subnets (256 in the paper).
        anchor_sizes: base anchor size of P3 ... P7; each level gets 3 octave scales.
        head_norm: GroupNorm (32 groups) after each conv of both subnets, as torchvision's
            ``retinanet_resnet50_fpn_v2`` head; False: the paper's head without norm.
        **kwargs: the options of :class:`RetinaNet` (torchvision's names).
    """
    check_options("retinanet", kwargs, RETINANET_OPTIONS)
    num_classes = positive_int("num_classes", num_classes)
    body = resnet_fpn_backbone(
        backbone,
        returned_layers=(2, 3, 4),
        extra_blocks="p6p7",
        trainable_layers=5 if trainable_backbone_layers is None else trainable_backbone_layers,
        out_channels=fpn_channels,
        in_chans=in_chans,
    )
    sizes = tuple(positive_int("anchor_sizes", s) for s in anchor_sizes)
    if len(sizes) != 5:
        raise ValueError(f"anchor_sizes needs one base size per level P3-P7 (5), got {sizes}")
    kwargs.setdefault(
        "anchor_generator", AnchorGenerator(octave_sizes(sizes), ((0.5, 1.0, 2.0),) * 5)
    )
    if not isinstance(head_norm, bool):
        raise ValueError(f"head_norm must be true or false, got {head_norm!r}")
    if head_norm:
        if fpn_channels % GROUPS:
            raise ValueError(
                f"head_norm needs fpn_channels divisible by {GROUPS} (GroupNorm's groups), "
                f"got {fpn_channels}"
            )
        if "head" in kwargs:
            raise ValueError("give either head or head_norm=True, not both")
        num_anchors = kwargs["anchor_generator"].num_anchors_per_location()[0]  # type: ignore[attr-defined]
        kwargs["head"] = RetinaNetHead(
            fpn_channels, num_anchors, num_classes, norm_layer=partial(nn.GroupNorm, GROUPS)
        )
    mean, std = default_normalisation(in_chans)
    kwargs.setdefault("image_mean", mean)
    kwargs.setdefault("image_std", std)
    return RetinaNet(body, num_classes, **kwargs)  # type: ignore[arg-type]


@register_model(family="retinanet", task="detection", default_input_size=(3, 800, 800), paper=PAPER)
def retinanet_resnet50_fpn(
    *,
    weights: None = None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone: None = None,
    trainable_backbone_layers: int | None = None,
    in_chans: int = 3,
    **kwargs: object,
) -> RetinaNet:
    """torchvision's ``retinanet_resnet50_fpn``: ResNet-50-FPN, P3-P7, 9 anchors, 91 classes,
    images resized to 800-1333 px. Same keyword arguments and state dict; batch norm trains
    (nothing is pretrained here)."""
    refuse_weights(weights, weights_backbone)
    return retinanet_resnet_fpn(
        "resnet50",
        num_classes=91 if num_classes is None else num_classes,
        in_chans=in_chans,
        trainable_backbone_layers=trainable_backbone_layers,
        **kwargs,
    )


@register_model(family="retinanet", task="detection", default_input_size=(3, 128, 128), paper=PAPER)
def retinanet_resnet18_fpn(
    *,
    num_classes: int = 91,
    in_chans: int = 3,
    trainable_backbone_layers: int | None = None,
    fpn_channels: int = 64,
    anchor_sizes: Sequence[int] = (24, 48, 96, 192, 384),
    head_norm: bool = True,
    min_size: int | Sequence[int] = 128,
    max_size: int = 128,
    **kwargs: object,
) -> RetinaNet:
    """A CPU-sized RetinaNet for 128-px images (the digit scenes): ResNet-18, a 64-channel
    pyramid and subnets, GroupNorm in the subnets (torchvision's v2 head), anchors of 24-609 px
    (base 24 ... 384 on P3-P7), no resizing of 128-px images; trained from scratch.

    The anchors are sized for the scenes' digits (boxes 4-55 px wide, 17-55 px tall): base 24
    on P3 gives 98% of their boxes an anchor at IoU >= 0.5 and ~16 foreground anchors each,
    where base 16 gives 7 (docs/detection.md, "What training reaches on the CPU")."""
    return retinanet_resnet_fpn(
        "resnet18",
        num_classes=num_classes,
        in_chans=in_chans,
        trainable_backbone_layers=trainable_backbone_layers,
        fpn_channels=fpn_channels,
        anchor_sizes=anchor_sizes,
        head_norm=head_norm,
        min_size=min_size,
        max_size=max_size,
        **kwargs,
    )
