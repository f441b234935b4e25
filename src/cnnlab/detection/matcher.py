"""Anchor (or proposal) to ground-truth matching by IoU: who is foreground, who background.

Every anchor takes the ground-truth box it overlaps most. It is *foreground* when that IoU is at
least ``high_threshold`` (Faster R-CNN's RPN: 0.7; RetinaNet: 0.5), *background* when it is
below ``low_threshold`` (0.3; 0.4), and *ignored* in between (it enters no loss). With
``allow_low_quality_matches`` (Faster R-CNN sec. 3.1.2, condition (i)) each ground-truth box
also claims the anchor(s) it overlaps most, even below ``high_threshold``, so that no object is
left without a positive anchor: small or oddly shaped objects would otherwise never be learnt.

Written out here for the notes; torchvision's ``Matcher`` (in its private
``models.detection._utils``) gives the same matches and is the tests' reference.
"""

from __future__ import annotations

import torch
from torch import Tensor

from cnnlab.core.validate import InvalidArgument, number

BELOW_LOW_THRESHOLD = -1
"""Match value of a background anchor (best IoU below ``low_threshold``)."""
BETWEEN_THRESHOLDS = -2
"""Match value of an ignored anchor (best IoU in ``[low_threshold, high_threshold)``)."""


class Matcher:
    """Assign each prediction (anchor, proposal) the index of its best ground-truth box, or a
    negative code.

    Args:
        high_threshold: IoU from which a match is foreground.
        low_threshold: IoU below which a prediction is background (``<= high_threshold``).
        allow_low_quality_matches: every ground-truth box also keeps the prediction(s) with its
            highest IoU (ties included), whatever that IoU.

    Attributes:
        BELOW_LOW_THRESHOLD: -1, background.
        BETWEEN_THRESHOLDS: -2, ignored.
    """

    BELOW_LOW_THRESHOLD = BELOW_LOW_THRESHOLD
    BETWEEN_THRESHOLDS = BETWEEN_THRESHOLDS

    def __init__(
        self, high_threshold: float, low_threshold: float, allow_low_quality_matches: bool = False
    ) -> None:
        self.high_threshold = number("high_threshold", high_threshold, minimum=0, maximum=1)
        self.low_threshold = number("low_threshold", low_threshold, minimum=0, maximum=1)
        if self.low_threshold > self.high_threshold:
            raise InvalidArgument(
                "low_threshold",
                f"low_threshold must be <= high_threshold ({high_threshold}), got {low_threshold}",
            )
        self.allow_low_quality_matches = bool(allow_low_quality_matches)

    def __call__(self, match_quality_matrix: Tensor) -> Tensor:
        """Matches of every prediction.

        Args:
            match_quality_matrix: IoU of ground-truth box ``m`` (rows) with prediction ``n``
                (columns); at least one row and one column.

        Returns:
            int64 ``matches[n]``: the index of the matched ground-truth box, or
            :data:`BELOW_LOW_THRESHOLD` / :data:`BETWEEN_THRESHOLDS`.

        Shape:
            match_quality_matrix: (M, N) -> (N,)
        """
        if match_quality_matrix.dim() != 2 or match_quality_matrix.numel() == 0:
            raise ValueError(
                "match_quality_matrix must be an (M, N) matrix of IoUs with M >= 1 ground-truth "
                f"boxes and N >= 1 predictions, got shape {tuple(match_quality_matrix.shape)}"
            )
        best_iou, matches = match_quality_matrix.max(dim=0)
        best_gt = matches.clone() if self.allow_low_quality_matches else None
        matches[best_iou < self.low_threshold] = BELOW_LOW_THRESHOLD
        between = (best_iou >= self.low_threshold) & (best_iou < self.high_threshold)
        matches[between] = BETWEEN_THRESHOLDS
        if best_gt is not None:
            # each ground-truth box keeps its best predictions (ties included), matched to the
            # box they overlap most (which may be another ground truth)
            best_per_gt = match_quality_matrix.max(dim=1).values
            _, chosen = torch.where(match_quality_matrix == best_per_gt[:, None])
            matches[chosen] = best_gt[chosen]
        return matches
