"""The second stage of Faster R-CNN: classify each proposal and refine its box, per class.

Training (Fast R-CNN sec. 2.3): the ground-truth boxes join the proposals; each proposal is
matched to a ground-truth box (IoU >= 0.5: that box's class; below: background; no
low-quality matches), 512 proposals per image are sampled with at most a quarter positive, and
the loss is cross-entropy over the classes plus smooth-L1 (beta 1/9) on the offsets *of the
true class* of the positives (the notes' eq. 6-9 with weights (10, 10, 5, 5)), divided by the
number sampled.

Evaluation: softmax scores; each proposal gives one box per class (eq. 1-4), clipped to the
image; background columns are dropped, then scores <= ``score_thresh`` and boxes narrower than
0.01 px; NMS per class at ``nms_thresh``; the ``detections_per_img`` best remain. Same steps,
in the same order, as torchvision's ``RoIHeads`` (tested through the whole detector).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision import ops

from cnnlab.core.validate import number, positive_int
from cnnlab.detection._checks import check_weights, has_values
from cnnlab.detection.box_ops import box_iou
from cnnlab.detection.coder import decode_boxes, encode_boxes
from cnnlab.detection.matcher import Matcher
from cnnlab.detection.nms import batched_nms
from cnnlab.detection.sampler import BalancedSampler


class RoIHeads(nn.Module):
    """RoI pooling, box head and predictor, with Fast R-CNN's loss and post-processing.

    Args:
        box_roi_pool: pools each proposal (:class:`~cnnlab.detection.MultiScaleRoIAlign`).
        box_head: features of each pooled proposal (:class:`~cnnlab.detection.TwoMLPHead`).
        box_predictor: class logits and per-class offsets
            (:class:`~cnnlab.detection.FastRCNNPredictor`).
        fg_iou_thresh: IoU from which a proposal takes its ground truth's class (0.5).
        bg_iou_thresh: IoU below which it is background (0.5).
        batch_size_per_image: proposals sampled per image in training (512).
        positive_fraction: largest share of positives among them (0.25).
        bbox_reg_weights: the box coder's ``(wx, wy, ww, wh)`` (``None``: (10, 10, 5, 5)).
        score_thresh: detections must score above this (0.05).
        nms_thresh: IoU threshold of the per-class NMS (0.5).
        detections_per_img: detections kept per image (100).

    Shape:
        features {name: (N, C, H_l, W_l)}, proposals N x (P_i, 4) -> N dicts with ``boxes``
        (D_i, 4), ``labels`` (D_i,), ``scores`` (D_i,)
    """

    def __init__(
        self,
        box_roi_pool: nn.Module,
        box_head: nn.Module,
        box_predictor: nn.Module,
        fg_iou_thresh: float,
        bg_iou_thresh: float,
        batch_size_per_image: int,
        positive_fraction: float,
        bbox_reg_weights: Sequence[float] | None,
        score_thresh: float,
        nms_thresh: float,
        detections_per_img: int,
    ) -> None:
        super().__init__()
        self.box_roi_pool = box_roi_pool
        self.box_head = box_head
        self.box_predictor = box_predictor
        self.proposal_matcher = Matcher(
            fg_iou_thresh, bg_iou_thresh, allow_low_quality_matches=False
        )
        self.fg_bg_sampler = BalancedSampler(batch_size_per_image, positive_fraction)
        self.weights = check_weights(
            (10.0, 10.0, 5.0, 5.0) if bbox_reg_weights is None else bbox_reg_weights
        )
        self.score_thresh = number("box_score_thresh", score_thresh, minimum=0, maximum=1)
        self.nms_thresh = number("box_nms_thresh", nms_thresh, minimum=0, maximum=1)
        self.detections_per_img = positive_int("box_detections_per_img", detections_per_img)

    def select_training_samples(
        self, proposals: list[Tensor], targets: list[dict[str, Tensor]]
    ) -> tuple[list[Tensor], list[Tensor], list[Tensor]]:
        """Sampled proposals of each image (ground truth included), their labels and matched
        ground-truth boxes."""
        sampled_proposals, sampled_labels, sampled_gt = [], [], []
        labels_all, matched_all, gts = [], [], []
        proposals = [
            torch.cat([p, t["boxes"].to(p.dtype)]) for p, t in zip(proposals, targets, strict=True)
        ]
        for props, target in zip(proposals, targets, strict=True):
            gt_boxes = target["boxes"].to(props.dtype)
            if gt_boxes.numel() == 0:
                labels = torch.zeros(props.shape[0], dtype=torch.int64, device=props.device)
                matched = torch.zeros_like(labels)
                gt_boxes = torch.zeros((1, 4), dtype=props.dtype, device=props.device)
            else:
                matches = self.proposal_matcher(box_iou(gt_boxes, props))
                matched = matches.clamp(min=0)
                labels = target["labels"][matched].to(torch.int64)
                labels[matches == Matcher.BELOW_LOW_THRESHOLD] = 0
                labels[matches == Matcher.BETWEEN_THRESHOLDS] = -1
            labels_all.append(labels)
            matched_all.append(matched)
            gts.append(gt_boxes)
        positives, negatives = self.fg_bg_sampler(labels_all)
        for i, props in enumerate(proposals):
            keep = torch.where(positives[i] | negatives[i])[0]
            sampled_proposals.append(props[keep])
            sampled_labels.append(labels_all[i][keep])
            sampled_gt.append(gts[i][matched_all[i][keep]])
        return sampled_proposals, sampled_labels, sampled_gt

    def compute_loss(
        self,
        class_logits: Tensor,
        box_regression: Tensor,
        proposals: list[Tensor],
        labels: list[Tensor],
        gt_boxes: list[Tensor],
    ) -> dict[str, Tensor]:
        """Fast R-CNN's multi-task loss: cross-entropy + smooth-L1 on the true class's offsets."""
        labels_t = torch.cat(labels)
        classification = F.cross_entropy(class_logits, labels_t)
        pos = torch.where(labels_t > 0)[0]
        targets = encode_boxes(torch.cat(proposals)[pos], torch.cat(gt_boxes)[pos], self.weights)
        per_class = box_regression.reshape(box_regression.shape[0], -1, 4)
        box_loss = F.smooth_l1_loss(
            per_class[pos, labels_t[pos]], targets, beta=1 / 9, reduction="sum"
        ) / max(1, labels_t.numel())
        return {"loss_classifier": classification, "loss_box_reg": box_loss}

    def postprocess_detections(
        self,
        class_logits: Tensor,
        box_regression: Tensor,
        proposals: list[Tensor],
        image_sizes: list[tuple[int, int]],
    ) -> list[dict[str, Tensor]]:
        """Per-class boxes, score threshold, per-class NMS, the best ``detections_per_img``."""
        num_classes = class_logits.shape[-1]
        per_image = [p.shape[0] for p in proposals]
        boxes_all = decode_boxes(torch.cat(proposals), box_regression, self.weights)
        boxes_all = boxes_all.reshape(-1, num_classes, 4)
        scores_all = F.softmax(class_logits, -1)
        detections = []
        for boxes, scores, size in zip(
            boxes_all.split(per_image), scores_all.split(per_image), image_sizes, strict=True
        ):
            boxes = ops.clip_boxes_to_image(boxes, size)
            labels = torch.arange(num_classes, device=boxes.device).view(1, -1).expand_as(scores)
            boxes = boxes[:, 1:].reshape(-1, 4)
            scores = scores[:, 1:].reshape(-1)
            labels = labels[:, 1:].reshape(-1)
            if not has_values(scores):  # shapes only: every candidate survives, up to the cap
                keep = slice(0, self.detections_per_img)
                detections.append(
                    {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]}
                )
                continue
            keep = torch.where(scores > self.score_thresh)[0]
            boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
            keep = ops.remove_small_boxes(boxes, min_size=1e-2)
            boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
            keep = batched_nms(boxes, scores, labels, self.nms_thresh)[: self.detections_per_img]
            detections.append(
                {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]}
            )
        return detections

    def forward(
        self,
        features: Mapping[str, Tensor],
        proposals: list[Tensor],
        image_sizes: list[tuple[int, int]],
        targets: list[dict[str, Tensor]] | None = None,
    ) -> tuple[list[dict[str, Tensor]], dict[str, Tensor]]:
        if self.training:
            if targets is None:
                raise ValueError("the RoI heads need targets in training mode")
            proposals, labels, gt_boxes = self.select_training_samples(proposals, targets)
        pooled = self.box_roi_pool(features, proposals, image_sizes)
        class_logits, box_regression = self.box_predictor(self.box_head(pooled))
        if self.training:
            return [], self.compute_loss(class_logits, box_regression, proposals, labels, gt_boxes)
        return self.postprocess_detections(class_logits, box_regression, proposals, image_sizes), {}
