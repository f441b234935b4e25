"""Faster R-CNN (Ren, He, Girshick & Sun, "Faster R-CNN: Towards Real-Time Object Detection with
Region Proposal Networks", NeurIPS 2015) with a feature pyramid (Lin et al., CVPR 2017).

Two stages on one backbone: the Region Proposal Network (:mod:`cnnlab.detection.rpn`) scores
and regresses anchors into ~1000 proposals per image; the RoI heads
(:mod:`cnnlab.detection.roi_heads`) pool each proposal from its pyramid level with RoI Align
(7 x 7), classify it over ``num_classes`` (background 0 included) with a softmax and refine its
box per class. With an FPN the anchors have **one size per level** (32, 64, 128, 256, 512 px on
P2-P6) and 3 ratios: 3 anchors per position, where the paper's single-map RPN has 3 sizes x 3
ratios = 9.

Built from cnnlab's pieces (anchors, matcher, sampler, box coder, RoI Align, NMS, FPN, ResNet);
``fasterrcnn_resnet50_fpn`` has the state dict of torchvision's model of the same name and, with
its weights, the same detections (tested). torchvision pieces used as they are:
``ops.clip_boxes_to_image``, ``ops.remove_small_boxes``, ``ops.box_area``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from torch import Tensor, nn

from cnnlab.core.validate import positive_int
from cnnlab.detection.anchor_generator import AnchorGenerator
from cnnlab.detection.box_head import FastRCNNPredictor, TwoMLPHead
from cnnlab.detection.detector import Detector, check_options, refuse_weights
from cnnlab.detection.fpn import resnet_fpn_backbone
from cnnlab.detection.roi_heads import RoIHeads
from cnnlab.detection.roi_pooler import MultiScaleRoIAlign
from cnnlab.detection.rpn import RegionProposalNetwork, RPNSigmoidHead
from cnnlab.detection.transform import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    DetectionTransform,
    ImageBatch,
    default_normalisation,
)
from cnnlab.models import register_model

PAPER = (
    "Ren, He, Girshick & Sun, Faster R-CNN, NeurIPS 2015; with FPN: Lin, Dollar, Girshick, He, "
    "Hariharan & Belongie, Feature Pyramid Networks for Object Detection, CVPR 2017"
)


class FasterRCNN(Detector):
    """A backbone with a pyramid, the RPN and the RoI heads.

    Args:
        backbone: image -> ordered dict of pyramid maps (with ``out_channels``).
        num_classes: classes including the background 0 (91 for COCO, 11 for the digit
            scenes); ``None`` only with a ``box_predictor``.
        min_size, max_size, image_mean, image_std, size_divisible: the
            :class:`~cnnlab.detection.DetectionTransform` (``None``: ImageNet's statistics).
        rpn_anchor_generator: anchors (default: 32-512 px on P2-P6, 3 ratios).
        rpn_head: default :class:`~cnnlab.detection.RPNSigmoidHead`.
        rpn_pre_nms_top_n_train, rpn_pre_nms_top_n_test: anchors kept per level before NMS.
        rpn_post_nms_top_n_train, rpn_post_nms_top_n_test: proposals kept per image.
        rpn_nms_thresh: IoU threshold of the proposals' NMS (0.7).
        rpn_fg_iou_thresh, rpn_bg_iou_thresh: anchor matching (0.7, 0.3).
        rpn_batch_size_per_image, rpn_positive_fraction: anchor sampling (256, 0.5).
        rpn_score_thresh: proposals need at least this objectness probability (0).
        box_roi_pool: default :class:`~cnnlab.detection.MultiScaleRoIAlign` on P2-P5, 7 x 7.
        box_head: default :class:`~cnnlab.detection.TwoMLPHead` of width 1024.
        box_predictor: default :class:`~cnnlab.detection.FastRCNNPredictor`.
        box_score_thresh: detections must score above this (0.05).
        box_nms_thresh: IoU threshold of the per-class NMS (0.5).
        box_detections_per_img: detections kept per image (100).
        box_fg_iou_thresh, box_bg_iou_thresh: proposal matching (0.5, 0.5).
        box_batch_size_per_image, box_positive_fraction: proposal sampling (512, 0.25).
        bbox_reg_weights: the second stage's box-coder weights (default (10, 10, 5, 5)).

    Shape:
        see :mod:`cnnlab.detection.detector`.
    """

    loss_names: ClassVar[tuple[str, ...]] = (
        "loss_classifier",
        "loss_box_reg",
        "loss_objectness",
        "loss_rpn_box_reg",
    )

    def __init__(
        self,
        backbone: nn.Module,
        num_classes: int | None = None,
        min_size: int | Sequence[int] = 800,
        max_size: int = 1333,
        image_mean: Sequence[float] | None = None,
        image_std: Sequence[float] | None = None,
        rpn_anchor_generator: AnchorGenerator | None = None,
        rpn_head: nn.Module | None = None,
        rpn_pre_nms_top_n_train: int = 2000,
        rpn_pre_nms_top_n_test: int = 1000,
        rpn_post_nms_top_n_train: int = 2000,
        rpn_post_nms_top_n_test: int = 1000,
        rpn_nms_thresh: float = 0.7,
        rpn_fg_iou_thresh: float = 0.7,
        rpn_bg_iou_thresh: float = 0.3,
        rpn_batch_size_per_image: int = 256,
        rpn_positive_fraction: float = 0.5,
        rpn_score_thresh: float = 0.0,
        box_roi_pool: MultiScaleRoIAlign | None = None,
        box_head: nn.Module | None = None,
        box_predictor: nn.Module | None = None,
        box_score_thresh: float = 0.05,
        box_nms_thresh: float = 0.5,
        box_detections_per_img: int = 100,
        box_fg_iou_thresh: float = 0.5,
        box_bg_iou_thresh: float = 0.5,
        box_batch_size_per_image: int = 512,
        box_positive_fraction: float = 0.25,
        bbox_reg_weights: Sequence[float] | None = None,
        size_divisible: int = 32,
    ) -> None:
        if (num_classes is None) == (box_predictor is None):
            raise ValueError(
                "give num_classes (classes including the background) or a box_predictor, "
                f"not both or neither; got num_classes={num_classes!r}"
            )
        transform = DetectionTransform(
            min_size,
            max_size,
            IMAGENET_MEAN if image_mean is None else image_mean,
            IMAGENET_STD if image_std is None else image_std,
            size_divisible,
        )
        super().__init__(backbone, transform)
        channels = backbone.out_channels
        if rpn_anchor_generator is None:
            rpn_anchor_generator = AnchorGenerator(
                ((32,), (64,), (128,), (256,), (512,)), ((0.5, 1.0, 2.0),) * 5
            )
        if rpn_head is None:
            rpn_head = RPNSigmoidHead(channels, rpn_anchor_generator.num_anchors_per_location()[0])
        self.rpn = RegionProposalNetwork(
            rpn_anchor_generator,
            rpn_head,
            rpn_fg_iou_thresh,
            rpn_bg_iou_thresh,
            rpn_batch_size_per_image,
            rpn_positive_fraction,
            {"training": rpn_pre_nms_top_n_train, "testing": rpn_pre_nms_top_n_test},
            {"training": rpn_post_nms_top_n_train, "testing": rpn_post_nms_top_n_test},
            rpn_nms_thresh,
            rpn_score_thresh,
        )
        if box_roi_pool is None:
            box_roi_pool = MultiScaleRoIAlign(["0", "1", "2", "3"], output_size=7, sampling_ratio=2)
        if box_head is None:
            h, w = box_roi_pool.output_size
            box_head = TwoMLPHead(channels * h * w, 1024)
        if box_predictor is None:
            box_predictor = FastRCNNPredictor(
                _width(box_head), positive_int("num_classes", num_classes)
            )
        self.roi_heads = RoIHeads(
            box_roi_pool,
            box_head,
            box_predictor,
            box_fg_iou_thresh,
            box_bg_iou_thresh,
            box_batch_size_per_image,
            box_positive_fraction,
            bbox_reg_weights,
            box_score_thresh,
            box_nms_thresh,
            box_detections_per_img,
        )

    def detect(
        self,
        images: ImageBatch,
        features: dict[str, Tensor],
        targets: list[dict[str, Tensor]] | None,
    ) -> tuple[list[dict[str, Tensor]], dict[str, Tensor]]:
        proposals, rpn_losses = self.rpn(images, features, targets)
        detections, head_losses = self.roi_heads(features, proposals, images.image_sizes, targets)
        return detections, {**head_losses, **rpn_losses}


def _width(box_head: nn.Module) -> int:
    """Output width of a box head (its last linear layer's)."""
    linear = [m for m in box_head.modules() if isinstance(m, nn.Linear)]
    if not linear:
        raise ValueError("box_head needs a final nn.Linear (or pass box_predictor)")
    return linear[-1].out_features


FASTER_RCNN_OPTIONS = (
    "min_size", "max_size", "image_mean", "image_std", "rpn_anchor_generator", "rpn_head",
    "rpn_pre_nms_top_n_train", "rpn_pre_nms_top_n_test", "rpn_post_nms_top_n_train",
    "rpn_post_nms_top_n_test", "rpn_nms_thresh", "rpn_fg_iou_thresh", "rpn_bg_iou_thresh",
    "rpn_batch_size_per_image", "rpn_positive_fraction", "rpn_score_thresh", "box_roi_pool",
    "box_head", "box_predictor", "box_score_thresh", "box_nms_thresh", "box_detections_per_img",
    "box_fg_iou_thresh", "box_bg_iou_thresh", "box_batch_size_per_image", "box_positive_fraction",
    "bbox_reg_weights", "size_divisible",
)  # fmt: skip


def fasterrcnn_resnet_fpn(
    backbone: str,
    *,
    num_classes: int = 91,
    in_chans: int = 3,
    trainable_backbone_layers: int | None = None,
    fpn_channels: int = 256,
    anchor_sizes: Sequence[int] = (32, 64, 128, 256, 512),
    representation_size: int = 1024,
    **kwargs: object,
) -> FasterRCNN:
    """Faster R-CNN on any registry ResNet: stages 1-4 -> FPN P2-P5, P6 by subsampling.

    Args:
        backbone: a registry ResNet (``resnet18``, ``resnet50``, ``resnext50_32x4d``, ...).
        num_classes: classes including the background 0.
        in_chans: image channels.
        trainable_backbone_layers: backbone stages trained, from the top (0-5; default all).
        fpn_channels: channels of the pyramid (256).
        anchor_sizes: the anchor size of P2 ... P6 (one per level, 3 ratios each).
        representation_size: width of the box head's two fc layers (1024).
        **kwargs: the options of :class:`FasterRCNN` (torchvision's names).
    """
    check_options("fasterrcnn", kwargs, FASTER_RCNN_OPTIONS)
    body = resnet_fpn_backbone(
        backbone,
        trainable_layers=5 if trainable_backbone_layers is None else trainable_backbone_layers,
        out_channels=fpn_channels,
        in_chans=in_chans,
    )
    sizes = tuple(positive_int("anchor_sizes", s) for s in anchor_sizes)
    if len(sizes) != 5:
        raise ValueError(f"anchor_sizes needs one size per level P2-P6 (5), got {sizes}")
    kwargs.setdefault(
        "rpn_anchor_generator", AnchorGenerator(tuple((s,) for s in sizes), ((0.5, 1.0, 2.0),) * 5)
    )
    if "box_head" not in kwargs:
        pool = kwargs.get("box_roi_pool")
        h, w = pool.output_size if isinstance(pool, MultiScaleRoIAlign) else (7, 7)
        width = positive_int("representation_size", representation_size)
        kwargs["box_head"] = TwoMLPHead(fpn_channels * h * w, width)
    mean, std = default_normalisation(in_chans)
    kwargs.setdefault("image_mean", mean)
    kwargs.setdefault("image_std", std)
    return FasterRCNN(body, positive_int("num_classes", num_classes), **kwargs)  # type: ignore[arg-type]


@register_model(
    family="faster_rcnn", task="detection", default_input_size=(3, 800, 800), paper=PAPER
)
def fasterrcnn_resnet50_fpn(
    *,
    weights: None = None,
    progress: bool = True,
    num_classes: int | None = None,
    weights_backbone: None = None,
    trainable_backbone_layers: int | None = None,
    in_chans: int = 3,
    **kwargs: object,
) -> FasterRCNN:
    """torchvision's ``fasterrcnn_resnet50_fpn``: ResNet-50-FPN, P2-P6, 3 anchors per position,
    91 classes, images resized to 800-1333 px. Same keyword arguments and state dict; batch norm
    trains (nothing is pretrained here)."""
    refuse_weights(weights, weights_backbone)
    return fasterrcnn_resnet_fpn(
        "resnet50",
        num_classes=91 if num_classes is None else num_classes,
        in_chans=in_chans,
        trainable_backbone_layers=trainable_backbone_layers,
        **kwargs,
    )


@register_model(
    family="faster_rcnn", task="detection", default_input_size=(3, 128, 128), paper=PAPER
)
def fasterrcnn_resnet18_fpn(
    *,
    num_classes: int = 91,
    in_chans: int = 3,
    trainable_backbone_layers: int | None = None,
    fpn_channels: int = 64,
    anchor_sizes: Sequence[int] = (16, 32, 64, 128, 256),
    representation_size: int = 256,
    min_size: int | Sequence[int] = 128,
    max_size: int = 128,
    rpn_pre_nms_top_n_train: int = 1000,
    rpn_pre_nms_top_n_test: int = 500,
    rpn_post_nms_top_n_train: int = 500,
    rpn_post_nms_top_n_test: int = 300,
    box_batch_size_per_image: int = 128,
    **kwargs: object,
) -> FasterRCNN:
    """A CPU-sized Faster R-CNN for 128-px images (the digit scenes): ResNet-18, a 64-channel
    pyramid, anchors of 16-256 px on P2-P6, a 256-wide box head, fewer proposals and sampled
    RoIs than the 800-px recipe; trained from scratch."""
    return fasterrcnn_resnet_fpn(
        "resnet18",
        num_classes=num_classes,
        in_chans=in_chans,
        trainable_backbone_layers=trainable_backbone_layers,
        fpn_channels=fpn_channels,
        anchor_sizes=anchor_sizes,
        representation_size=representation_size,
        min_size=min_size,
        max_size=max_size,
        rpn_pre_nms_top_n_train=rpn_pre_nms_top_n_train,
        rpn_pre_nms_top_n_test=rpn_pre_nms_top_n_test,
        rpn_post_nms_top_n_train=rpn_post_nms_top_n_train,
        rpn_post_nms_top_n_test=rpn_post_nms_top_n_test,
        box_batch_size_per_image=box_batch_size_per_image,
        **kwargs,
    )
