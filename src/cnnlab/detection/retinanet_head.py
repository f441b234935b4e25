"""RetinaNet's two subnets (Lin, Goyal, Girshick, He & Dollar, "Focal Loss for Dense Object
Detection", ICCV 2017, sec. 4) and their losses.

Both subnets are four 3x3 convs (256 channels, ReLU) shared across the pyramid levels, then a
3x3 conv to ``K A`` class logits (sigmoid per class, no background class) or ``4 A`` box
offsets, for ``A = 9`` anchors per position. The last classification bias starts at
``-log((1 - pi) / pi)`` with ``pi = 0.01``, so that every anchor begins as 1% foreground: with
~100k anchors, a start at 50% would flood the first iterations with background loss (sec. 4.1,
"Initialization").

Losses per image: the focal loss (:func:`cnnlab.detection.sigmoid_focal_loss`, gamma 2,
alpha 0.25) summed over all anchors that are not ignored (IoU with the best ground truth >= 0.5:
foreground, < 0.4: background, in between: ignored), divided by the number of foreground anchors;
the L1 loss of the offsets of the foreground anchors, divided by their number; both averaged
over the images. Layer names and initialisation as torchvision's ``RetinaNetHead``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cnnlab.core.validate import number, positive_int
from cnnlab.detection.coder import encode_boxes
from cnnlab.detection.focal_loss import sigmoid_focal_loss
from cnnlab.detection.matcher import Matcher
from cnnlab.detection.rpn_head import _per_anchor
from cnnlab.layers.conv_norm_act import ConvNormAct


def _tower(channels: int, norm_layer: Callable[..., nn.Module] | None) -> nn.Sequential:
    return nn.Sequential(
        *(
            ConvNormAct(channels, channels, 3, norm=norm_layer is not None, norm_layer=norm_layer)
            for _ in range(4)
        )
    )


def _init(head: nn.Module) -> None:
    for m in head.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, std=0.01)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class RetinaNetClassificationHead(nn.Module):
    """Four 3x3 conv + ReLU, then a 3x3 conv to ``num_anchors * num_classes`` logits.

    Args:
        in_channels: channels of every pyramid level.
        num_anchors: anchors per position (9).
        num_classes: classes (each a sigmoid; torchvision's numbering keeps 0 for background,
            which is then never a target).
        prior_probability: the foreground probability every anchor starts from (0.01).
        norm_layer: a norm after each tower conv (torchvision's ``retinanet_resnet50_fpn_v2``
            uses ``partial(nn.GroupNorm, 32)``); None: no norm, the paper's head.

    Shape:
        [(N, C, H_l, W_l)] -> (N, sum_l H_l W_l A, num_classes)
    """

    def __init__(
        self,
        in_channels: int,
        num_anchors: int,
        num_classes: int,
        prior_probability: float = 0.01,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        in_channels = positive_int("in_channels", in_channels)
        self.num_anchors = positive_int("num_anchors", num_anchors)
        self.num_classes = positive_int("num_classes", num_classes)
        prior = number(
            "prior_probability",
            prior_probability,
            minimum=0,
            maximum=1,
            exclusive_minimum=True,
            exclusive_maximum=True,
        )
        self.conv = _tower(in_channels, norm_layer)
        self.cls_logits = nn.Conv2d(in_channels, num_anchors * num_classes, 3, padding=1)
        _init(self)
        nn.init.constant_(self.cls_logits.bias, -math.log((1 - prior) / prior))

    def forward(self, features: list[Tensor]) -> Tensor:
        return torch.cat(
            [_per_anchor(self.cls_logits(self.conv(f)), self.num_anchors) for f in features], dim=1
        )

    def compute_loss(
        self, targets: list[dict[str, Tensor]], logits: Tensor, matched_idxs: list[Tensor]
    ) -> Tensor:
        """Focal loss over the anchors that are not ignored, per foreground anchor, mean over
        images.

        Shape:
            logits: (N, A, K), matched_idxs: N x (A,) -> scalar
        """
        losses = []
        for target, logits_i, matched in zip(targets, logits, matched_idxs, strict=True):
            foreground = matched >= 0
            num_foreground = foreground.sum().clamp(min=1)
            gt_classes = torch.zeros_like(logits_i)
            gt_classes[foreground, target["labels"][matched[foreground]]] = 1.0
            valid = matched != Matcher.BETWEEN_THRESHOLDS
            loss = sigmoid_focal_loss(logits_i[valid], gt_classes[valid], reduction="sum")
            losses.append(loss / num_foreground)
        return torch.stack(losses).sum() / len(targets)


class RetinaNetRegressionHead(nn.Module):
    """Four 3x3 conv + ReLU, then a 3x3 conv to ``4 num_anchors`` box offsets
    (``norm_layer`` as :class:`RetinaNetClassificationHead`'s).

    Shape:
        [(N, C, H_l, W_l)] -> (N, sum_l H_l W_l A, 4)
    """

    def __init__(
        self,
        in_channels: int,
        num_anchors: int,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        in_channels = positive_int("in_channels", in_channels)
        self.num_anchors = positive_int("num_anchors", num_anchors)
        self.conv = _tower(in_channels, norm_layer)
        self.bbox_reg = nn.Conv2d(in_channels, num_anchors * 4, 3, padding=1)
        _init(self)

    def forward(self, features: list[Tensor]) -> Tensor:
        return torch.cat(
            [_per_anchor(self.bbox_reg(self.conv(f)), self.num_anchors) for f in features], dim=1
        )

    def compute_loss(
        self,
        targets: list[dict[str, Tensor]],
        deltas: Tensor,
        anchors: list[Tensor],
        matched_idxs: list[Tensor],
    ) -> Tensor:
        """L1 loss of the foreground anchors' offsets (eq. 6-9), per foreground anchor, mean
        over images.

        Shape:
            deltas: (N, A, 4), anchors: N x (A, 4), matched_idxs: N x (A,) -> scalar
        """
        losses = []
        for target, deltas_i, anchors_i, matched in zip(
            targets, deltas, anchors, matched_idxs, strict=True
        ):
            fg = torch.where(matched >= 0)[0]
            gt = target["boxes"][matched[fg]].to(anchors_i.dtype)
            regression_targets = encode_boxes(anchors_i[fg], gt)
            loss = F.l1_loss(deltas_i[fg], regression_targets, reduction="sum")
            losses.append(loss / max(1, fg.numel()))
        return torch.stack(losses).sum() / max(1, len(targets))


class RetinaNetHead(nn.Module):
    """The classification and box subnets (``classification_head``, ``regression_head``).

    Args:
        in_channels: channels of every pyramid level (256).
        num_anchors: anchors per position (9).
        num_classes: classes, as :class:`RetinaNetClassificationHead`.
        norm_layer: a norm after each tower conv of both subnets (None: the paper's head).

    Shape:
        [(N, C, H_l, W_l)] -> {"cls_logits": (N, A_total, K), "bbox_regression": (N, A_total, 4)}
    """

    def __init__(
        self,
        in_channels: int,
        num_anchors: int,
        num_classes: int,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        self.classification_head = RetinaNetClassificationHead(
            in_channels, num_anchors, num_classes, norm_layer=norm_layer
        )
        self.regression_head = RetinaNetRegressionHead(in_channels, num_anchors, norm_layer)

    def forward(self, features: list[Tensor]) -> dict[str, Tensor]:
        return {
            "cls_logits": self.classification_head(features),
            "bbox_regression": self.regression_head(features),
        }

    def compute_loss(
        self,
        targets: list[dict[str, Tensor]],
        outputs: dict[str, Tensor],
        anchors: list[Tensor],
        matched_idxs: list[Tensor],
    ) -> dict[str, Tensor]:
        return {
            "classification": self.classification_head.compute_loss(
                targets, outputs["cls_logits"], matched_idxs
            ),
            "bbox_regression": self.regression_head.compute_loss(
                targets, outputs["bbox_regression"], anchors, matched_idxs
            ),
        }
