"""Mini-batches of anchors or proposals with a fixed share of positives (Faster R-CNN).

An image has tens of thousands of anchors and a handful of objects: a loss over all of them is
dominated by easy background. Faster R-CNN samples, per image, ``batch_size_per_image`` anchors
(RPN: 256) of which at most ``positive_fraction`` (RPN: 1/2; the box head: 512 proposals, 1/4)
are positive, filling up with negatives (sec. 3.1.3). RetinaNet solves the same imbalance with
the focal loss instead, and keeps every anchor.

Same rule and same random draws (``torch.randperm`` on the positives, then the negatives) as
torchvision's ``BalancedPositiveNegativeSampler``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from cnnlab.core.validate import number, positive_int


class BalancedSampler:
    """Pick positives (label >= 1) and negatives (label 0) at random; label -1 is never picked.

    Args:
        batch_size_per_image: anchors (or proposals) sampled per image.
        positive_fraction: largest share of positives in a sample.
    """

    def __init__(self, batch_size_per_image: int, positive_fraction: float) -> None:
        self.batch_size_per_image = positive_int("batch_size_per_image", batch_size_per_image)
        self.positive_fraction = number(
            "positive_fraction", positive_fraction, minimum=0, maximum=1
        )

    def __call__(self, labels: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        """Sampled positives and negatives of each image, as boolean masks.

        Args:
            labels: per image, one label per anchor: -1 ignore, 0 background, >= 1 object.

        Returns:
            ``(positive masks, negative masks)``, one boolean tensor per image.

        Shape:
            labels: [(A_i,)] -> ([(A_i,)], [(A_i,)])
        """
        positives, negatives = [], []
        for labels_per_image in labels:
            positive = torch.where(labels_per_image >= 1)[0]
            negative = torch.where(labels_per_image == 0)[0]
            num_pos = int(self.batch_size_per_image * self.positive_fraction)
            num_pos = min(positive.numel(), num_pos)
            num_neg = min(negative.numel(), self.batch_size_per_image - num_pos)
            pos_pick = positive[torch.randperm(positive.numel(), device=positive.device)[:num_pos]]
            neg_pick = negative[torch.randperm(negative.numel(), device=negative.device)[:num_neg]]
            pos_mask = torch.zeros_like(labels_per_image, dtype=torch.bool)
            neg_mask = torch.zeros_like(labels_per_image, dtype=torch.bool)
            pos_mask[pos_pick] = True
            neg_mask[neg_pick] = True
            positives.append(pos_mask)
            negatives.append(neg_mask)
        return positives, negatives
