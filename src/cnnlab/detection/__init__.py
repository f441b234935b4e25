"""Detection pieces from the notes: box regression (R-CNN), IoU, NMS, RoI Pool/Align, anchors,
the RPN head, RetinaNet's focal loss, FPN, and the detectors assembled from them (RetinaNet,
Faster R-CNN; registered in the model registry with ``task="detection"``).

Boxes are ``(x1, y1, x2, y2)`` float tensors with widths ``x2 - x1``, as ``torchvision.ops``.
"""

from cnnlab.detection.anchor_generator import AnchorGenerator, octave_sizes
from cnnlab.detection.anchors import make_anchors
from cnnlab.detection.box_head import FastRCNNPredictor, TwoMLPHead
from cnnlab.detection.box_ops import (
    BOX_FORMATS,
    box_area,
    box_convert,
    box_iou,
    generalized_box_iou,
)
from cnnlab.detection.coder import BBOX_XFORM_CLIP, decode_boxes, encode_boxes
from cnnlab.detection.detector import Detector
from cnnlab.detection.faster_rcnn import (
    FasterRCNN,
    fasterrcnn_resnet18_fpn,
    fasterrcnn_resnet50_fpn,
    fasterrcnn_resnet_fpn,
)
from cnnlab.detection.focal_loss import sigmoid_focal_loss
from cnnlab.detection.fpn import FeaturePyramidNetwork, resnet_fpn_backbone
from cnnlab.detection.matcher import Matcher
from cnnlab.detection.nms import batched_nms, nms
from cnnlab.detection.regressor import BoxRegressor
from cnnlab.detection.retinanet import (
    RetinaNet,
    retinanet_resnet18_fpn,
    retinanet_resnet50_fpn,
    retinanet_resnet_fpn,
)
from cnnlab.detection.retinanet_head import RetinaNetHead
from cnnlab.detection.roi import roi_align, roi_pool
from cnnlab.detection.roi_heads import RoIHeads
from cnnlab.detection.roi_pooler import MultiScaleRoIAlign, fpn_levels
from cnnlab.detection.rpn import RegionProposalNetwork, RPNSigmoidHead
from cnnlab.detection.rpn_head import RPNHead
from cnnlab.detection.sampler import BalancedSampler
from cnnlab.detection.transform import DetectionTransform, ImageBatch

__all__ = [
    "BBOX_XFORM_CLIP",
    "BOX_FORMATS",
    "AnchorGenerator",
    "BalancedSampler",
    "BoxRegressor",
    "DetectionTransform",
    "Detector",
    "FastRCNNPredictor",
    "FasterRCNN",
    "FeaturePyramidNetwork",
    "ImageBatch",
    "Matcher",
    "MultiScaleRoIAlign",
    "RPNHead",
    "RPNSigmoidHead",
    "RegionProposalNetwork",
    "RetinaNet",
    "RetinaNetHead",
    "RoIHeads",
    "TwoMLPHead",
    "batched_nms",
    "box_area",
    "box_convert",
    "box_iou",
    "decode_boxes",
    "encode_boxes",
    "fasterrcnn_resnet18_fpn",
    "fasterrcnn_resnet50_fpn",
    "fasterrcnn_resnet_fpn",
    "fpn_levels",
    "generalized_box_iou",
    "make_anchors",
    "nms",
    "octave_sizes",
    "resnet_fpn_backbone",
    "retinanet_resnet18_fpn",
    "retinanet_resnet50_fpn",
    "retinanet_resnet_fpn",
    "roi_align",
    "roi_pool",
    "sigmoid_focal_loss",
]
