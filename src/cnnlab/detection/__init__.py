"""Detection pieces from the notes: box regression (R-CNN), IoU, NMS, RoI Pool/Align, anchors,
the RPN head and RetinaNet's focal loss.

Boxes are ``(x1, y1, x2, y2)`` float tensors with widths ``x2 - x1``, as ``torchvision.ops``.
"""

from cnnlab.detection.anchors import make_anchors
from cnnlab.detection.box_ops import (
    BOX_FORMATS,
    box_area,
    box_convert,
    box_iou,
    generalized_box_iou,
)
from cnnlab.detection.coder import BBOX_XFORM_CLIP, decode_boxes, encode_boxes
from cnnlab.detection.focal_loss import sigmoid_focal_loss
from cnnlab.detection.fpn import FeaturePyramidNetwork, resnet_fpn_backbone
from cnnlab.detection.nms import batched_nms, nms
from cnnlab.detection.regressor import BoxRegressor
from cnnlab.detection.roi import roi_align, roi_pool
from cnnlab.detection.rpn_head import RPNHead

__all__ = [
    "BBOX_XFORM_CLIP",
    "BOX_FORMATS",
    "BoxRegressor",
    "FeaturePyramidNetwork",
    "RPNHead",
    "batched_nms",
    "box_area",
    "box_convert",
    "box_iou",
    "decode_boxes",
    "encode_boxes",
    "generalized_box_iou",
    "make_anchors",
    "nms",
    "resnet_fpn_backbone",
    "roi_align",
    "roi_pool",
    "sigmoid_focal_loss",
]
