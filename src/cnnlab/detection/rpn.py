"""The Region Proposal Network of Faster R-CNN (Ren et al., 2015, sec. 3.1) over a pyramid.

At every position of every level the head scores each anchor (object or not) and regresses 4
offsets (R-CNN's eq. 1-4, :func:`cnnlab.detection.decode_boxes`). In evaluation the decoded
anchors become proposals: per level the ``pre_nms_top_n`` best, clipped to the image, tiny boxes
dropped, NMS at ``nms_thresh`` within each level, then the ``post_nms_top_n`` best of the image.
On the meta device (shapes without values, as ``cnnlab summary`` traces) no proposal is
dropped by value: the ``post_nms_top_n`` first candidates remain, the most the RoI heads can get.
In training the anchors are matched to the ground truth (:class:`~cnnlab.detection.Matcher`:
IoU >= 0.7 object, < 0.3 background, each object keeps its best anchor), 256 anchors per image
are sampled with at most half positives (:class:`~cnnlab.detection.BalancedSampler`), and the
loss is binary cross-entropy on their objectness plus smooth-L1 (beta 1/9) on the positives'
offsets, divided by the number sampled.

:class:`RPNSigmoidHead` predicts **one logit per anchor** (``k`` outputs, sigmoid), where the
paper's :class:`~cnnlab.detection.RPNHead` predicts two scores (``2k``, softmax): a two-class
softmax is the sigmoid of the difference of its logits, so ``k`` numbers carry the same
information. This is torchvision's head, with its state-dict layout.

The arithmetic and the order of every step follow torchvision's ``RegionProposalNetwork``, so the
proposals are identical for the same head weights and features (tested).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision import ops

from cnnlab.core.validate import InvalidArgument, number, positive_int
from cnnlab.detection._checks import has_values
from cnnlab.detection.anchor_generator import AnchorGenerator
from cnnlab.detection.box_ops import box_iou
from cnnlab.detection.coder import decode_boxes, encode_boxes
from cnnlab.detection.matcher import Matcher
from cnnlab.detection.nms import batched_nms
from cnnlab.detection.rpn_head import _per_anchor
from cnnlab.detection.sampler import BalancedSampler
from cnnlab.detection.transform import ImageBatch
from cnnlab.layers.conv_norm_act import ConvNormAct


class RPNSigmoidHead(nn.Module):
    """3x3 conv + ReLU shared by every level, then 1x1 convs to ``k`` logits and ``4k`` offsets.

    Args:
        in_channels: channels of every pyramid level.
        num_anchors: anchors per position ``k`` (3 with an FPN: one size x 3 ratios per level).

    Shape:
        features [(N, C, H_l, W_l)] -> logits [(N, k, H_l, W_l)], deltas [(N, 4k, H_l, W_l)]
    """

    def __init__(self, in_channels: int, num_anchors: int) -> None:
        super().__init__()
        in_channels = positive_int("in_channels", in_channels)
        num_anchors = positive_int("num_anchors", num_anchors)
        self.conv = nn.Sequential(ConvNormAct(in_channels, in_channels, 3, norm=False))
        self.cls_logits = nn.Conv2d(in_channels, num_anchors, kernel_size=1)
        self.bbox_pred = nn.Conv2d(in_channels, 4 * num_anchors, kernel_size=1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)

    def forward(self, features: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        logits, deltas = [], []
        for feature in features:
            t = self.conv(feature)
            logits.append(self.cls_logits(t))
            deltas.append(self.bbox_pred(t))
        return logits, deltas


def flatten_levels(outputs: list[Tensor], columns: int) -> Tensor:
    """Per-level head outputs (N, A*C, H, W) as one (N, sum_l H_l*W_l*A, C), anchor order."""
    return torch.cat([_per_anchor(x, x.shape[1] // columns) for x in outputs], dim=1)


def _per_mode(name: str, counts: Mapping[str, int]) -> dict[str, int]:
    if not isinstance(counts, Mapping) or set(counts) != {"training", "testing"}:
        raise InvalidArgument(
            name, f"{name} must map 'training' and 'testing' to counts, got {counts!r}"
        )
    return {k: positive_int(f"{name}[{k!r}]", v) for k, v in counts.items()}


class RegionProposalNetwork(nn.Module):
    """Proposals from anchors (and, in training, the RPN's two losses).

    Args:
        anchor_generator: the anchors of every level.
        head: objectness logits and box offsets per anchor (:class:`RPNSigmoidHead`).
        fg_iou_thresh: IoU from which an anchor is an object (0.7).
        bg_iou_thresh: IoU below which an anchor is background (0.3).
        batch_size_per_image: anchors sampled per image for the loss (256).
        positive_fraction: largest share of positives among them (0.5).
        pre_nms_top_n: best anchors kept per level before NMS, ``{"training": ..., "testing":
            ...}`` (2000 / 1000 in torchvision's Faster R-CNN).
        post_nms_top_n: proposals kept per image after NMS, same keys (2000 / 1000).
        nms_thresh: IoU threshold of the NMS within each level (0.7).
        score_thresh: proposals with a lower objectness probability are dropped (0).

    Shape:
        features [(N, C, H_l, W_l)] -> N proposal tensors (P_i, 4), P_i <= post_nms_top_n
    """

    min_size = 1e-3  # proposals narrower or lower than this are dropped

    def __init__(
        self,
        anchor_generator: AnchorGenerator,
        head: nn.Module,
        fg_iou_thresh: float,
        bg_iou_thresh: float,
        batch_size_per_image: int,
        positive_fraction: float,
        pre_nms_top_n: Mapping[str, int],
        post_nms_top_n: Mapping[str, int],
        nms_thresh: float,
        score_thresh: float = 0.0,
    ) -> None:
        super().__init__()
        self.anchor_generator = anchor_generator
        self.head = head
        self.proposal_matcher = Matcher(
            fg_iou_thresh, bg_iou_thresh, allow_low_quality_matches=True
        )
        self.fg_bg_sampler = BalancedSampler(batch_size_per_image, positive_fraction)
        self._pre_nms_top_n = _per_mode("pre_nms_top_n", pre_nms_top_n)
        self._post_nms_top_n = _per_mode("post_nms_top_n", post_nms_top_n)
        self.nms_thresh = number("nms_thresh", nms_thresh, minimum=0, maximum=1)
        self.score_thresh = number("score_thresh", score_thresh, minimum=0, maximum=1)

    def pre_nms_top_n(self) -> int:
        return self._pre_nms_top_n["training" if self.training else "testing"]

    def post_nms_top_n(self) -> int:
        return self._post_nms_top_n["training" if self.training else "testing"]

    def filter_proposals(
        self,
        proposals: Tensor,
        objectness: Tensor,
        image_sizes: list[tuple[int, int]],
        num_anchors_per_level: list[int],
        *,
        nms_thresh: float | None = None,
        post_nms_top_n: int | None = None,
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Top-n per level, clip, drop tiny boxes, NMS per level, top-n per image.

        ``nms_thresh`` and ``post_nms_top_n`` override the module's (1.0 and a large count show
        the candidates before NMS).

        Shape:
            proposals: (N, A, 4), objectness: (N, A) -> N boxes (P_i, 4), N scores (P_i,)
        """
        num_images, device = proposals.shape[0], proposals.device
        nms_thresh = self.nms_thresh if nms_thresh is None else nms_thresh
        top_n = self.post_nms_top_n() if post_nms_top_n is None else post_nms_top_n
        objectness = objectness.detach()
        levels = (
            torch.cat(
                [
                    torch.full((n,), i, dtype=torch.int64, device=device)
                    for i, n in enumerate(num_anchors_per_level)
                ]
            )
            .reshape(1, -1)
            .expand_as(objectness)
        )
        top, offset = [], 0
        for scores in objectness.split(num_anchors_per_level, dim=1):
            top.append(
                scores.topk(min(self.pre_nms_top_n(), scores.shape[1]), dim=1).indices + offset
            )
            offset += scores.shape[1]
        top_idx = torch.cat(top, dim=1)
        batch_idx = torch.arange(num_images, device=device)[:, None]
        objectness = objectness[batch_idx, top_idx]
        levels = levels[batch_idx, top_idx]
        proposals = proposals[batch_idx, top_idx]
        probabilities = torch.sigmoid(objectness)
        final_boxes, final_scores = [], []
        for boxes, scores, lvl, size in zip(
            proposals, probabilities, levels, image_sizes, strict=True
        ):
            boxes = ops.clip_boxes_to_image(boxes, size)
            if not has_values(boxes):  # shapes only: every candidate survives, up to the cap
                final_boxes.append(boxes[:top_n])
                final_scores.append(scores[:top_n])
                continue
            keep = ops.remove_small_boxes(boxes, self.min_size)
            boxes, scores, lvl = boxes[keep], scores[keep], lvl[keep]
            keep = torch.where(scores >= self.score_thresh)[0]
            boxes, scores, lvl = boxes[keep], scores[keep], lvl[keep]
            keep = batched_nms(boxes, scores, lvl, nms_thresh)[:top_n]
            final_boxes.append(boxes[keep])
            final_scores.append(scores[keep])
        return final_boxes, final_scores

    def assign_targets(
        self, anchors: list[Tensor], targets: list[dict[str, Tensor]]
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Per image: label per anchor (1 object, 0 background, -1 ignored) and matched index."""
        labels, matched = [], []
        for anchors_per_image, target in zip(anchors, targets, strict=True):
            gt_boxes = target["boxes"]
            if gt_boxes.numel() == 0:
                n = anchors_per_image.shape[0]
                labels.append(torch.zeros(n, dtype=torch.float32, device=anchors_per_image.device))
                matched.append(
                    torch.full((n,), -1, dtype=torch.int64, device=anchors_per_image.device)
                )
                continue
            matches = self.proposal_matcher(box_iou(gt_boxes, anchors_per_image))
            label = (matches >= 0).to(torch.float32)
            label[matches == Matcher.BETWEEN_THRESHOLDS] = -1.0
            labels.append(label)
            matched.append(matches)
        return labels, matched

    def compute_loss(
        self,
        objectness: Tensor,
        deltas: Tensor,
        anchors: list[Tensor],
        targets: list[dict[str, Tensor]],
    ) -> dict[str, Tensor]:
        """Objectness BCE and smooth-L1 box loss over the sampled anchors.

        Shape:
            objectness: (N, A), deltas: (N, A, 4), anchors: N x (A, 4)
        """
        labels, matched = self.assign_targets(anchors, targets)
        positives, negatives = self.fg_bg_sampler(labels)
        pos = torch.where(torch.cat(positives))[0]
        sampled = torch.cat([pos, torch.where(torch.cat(negatives))[0]])
        all_anchors = torch.cat(anchors)
        gt = torch.cat(
            [
                t["boxes"][m.clamp(min=0)] if t["boxes"].numel() else torch.zeros_like(a)
                for t, m, a in zip(targets, matched, anchors, strict=True)
            ]
        )
        box_targets = encode_boxes(all_anchors[pos], gt[pos].to(all_anchors.dtype))
        box_loss = F.smooth_l1_loss(
            deltas.reshape(-1, 4)[pos], box_targets, beta=1 / 9, reduction="sum"
        ) / max(1, sampled.numel())
        objectness_loss = F.binary_cross_entropy_with_logits(
            objectness.flatten()[sampled], torch.cat(labels)[sampled]
        )
        return {"loss_objectness": objectness_loss, "loss_rpn_box_reg": box_loss}

    def forward(
        self,
        images: ImageBatch,
        features: Mapping[str, Tensor],
        targets: list[dict[str, Tensor]] | None = None,
    ) -> tuple[list[Tensor], dict[str, Tensor]]:
        maps = list(features.values())
        logits, deltas = self.head(maps)
        anchors = self.anchor_generator(images, maps)
        num_images = len(anchors)
        num_anchors_per_level = [x[0].numel() for x in logits]
        objectness = flatten_levels(logits, 1).reshape(num_images, -1)
        deltas = flatten_levels(deltas, 4)
        proposals = decode_boxes(torch.cat(anchors), deltas.detach().reshape(-1, 4))
        proposals = proposals.view(num_images, -1, 4)
        boxes, _ = self.filter_proposals(
            proposals, objectness, images.image_sizes, num_anchors_per_level
        )
        losses: dict[str, Tensor] = {}
        if self.training:
            if targets is None:
                raise ValueError("the RPN needs targets in training mode")
            losses = self.compute_loss(objectness, deltas, anchors, targets)
        return boxes, losses
