"""Ranking a column of scores against 0/1 labels: average precision and the best-F1 threshold.

Both walk the scores from the highest down: at a threshold ``t`` the samples with score
``>= t`` are predicted positive, giving ``TP(t)`` true positives out of ``k(t)`` predictions and
``P`` positives. Equal scores form one step (they cross any threshold together), so only the
*distinct* scores are thresholds, as in scikit-learn's ``precision_recall_curve``. Written out
in torch, vectorised over the classes (columns), for the multi-label scores; the tests compare
with scikit-learn and with a brute-force search.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["average_precision", "best_f1_thresholds"]


def _steps(scores: Tensor, targets: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per column, sorted by decreasing score: the sorted scores, the sorted labels, the true
    positives up to each position, and, for each position, the last position of its run of
    equal scores (where the threshold that admits it stops)."""
    n = scores.shape[0]
    scores = scores.to(torch.float64)
    order = torch.argsort(scores, dim=0, descending=True, stable=True)
    sorted_scores = scores.gather(0, order)
    labels = targets.gather(0, order).to(torch.float64)
    true_pos = labels.cumsum(dim=0)
    is_end = torch.ones_like(sorted_scores, dtype=torch.bool)
    is_end[:-1] = sorted_scores[:-1] != sorted_scores[1:]
    position = torch.arange(n, device=scores.device)[:, None].expand_as(sorted_scores)
    run_end = torch.where(is_end, position, n).flip(0).cummin(dim=0).values.flip(0)
    return sorted_scores, labels, true_pos, run_end


def average_precision(scores: Tensor, targets: Tensor) -> Tensor:
    """Average precision of each column: ``sum_n (R_n - R_{n-1}) P_n`` over distinct thresholds.

    The step-wise (not interpolated) area under the precision-recall curve, scikit-learn's
    ``average_precision_score``: every positive contributes the precision at the threshold
    that first admits it (the end of its run of equal scores), averaged over the positives. A
    column without positives has AP 0 (scikit-learn's value, with its warning that recall is
    undefined).

    Args:
        scores: ``(N, C)`` scores, higher = more likely positive.
        targets: ``(N, C)`` bool labels.

    Returns:
        ``(C,)`` float64 AP per column.

    Shape:
        - scores, targets: ``(N, C)`` with ``N >= 1``
        - output: ``(C,)``
    """
    _, labels, true_pos, run_end = _steps(scores, targets)
    precision_at_end = true_pos.gather(0, run_end) / (run_end + 1)
    positives = true_pos[-1]
    total = (labels * precision_at_end).sum(dim=0)
    return torch.where(positives > 0, total / positives.clamp(min=1), 0.0)


def best_f1_thresholds(scores: Tensor, targets: Tensor, default: float = 0.5) -> Tensor:
    """Per column, the threshold ``t`` (predict ``score >= t``) with the highest F1.

    At the threshold equal to the score at sorted position ``b`` (the end of a run of equal
    scores) ``k = b + 1`` samples are predicted positive and F1 = 2 TP / (k + P). Every distinct
    score is a candidate; among equally good ones the highest threshold wins (fewest positive
    predictions). A column without positives has F1 0 at every threshold, so the data say
    nothing about it: it gets ``default``.

    Args:
        scores: ``(N, C)`` scores.
        targets: ``(N, C)`` bool labels.
        default: the threshold of columns without positives.

    Returns:
        ``(C,)`` thresholds, in the scores' dtype and units.

    Shape:
        - scores, targets: ``(N, C)`` with ``N >= 1``
        - output: ``(C,)``
    """
    sorted_scores, _, true_pos, run_end = _steps(scores, targets)
    n = scores.shape[0]
    positives = true_pos[-1]
    position = torch.arange(n, device=scores.device, dtype=torch.float64)[:, None]
    f1 = 2 * true_pos / (position + 1 + positives)
    is_end = run_end == torch.arange(n, device=scores.device)[:, None]
    f1 = torch.where(is_end, f1, -math.inf)
    best = f1.argmax(dim=0)  # the first maximum: the highest threshold among the best
    chosen = sorted_scores.gather(0, best[None]).squeeze(0)
    return torch.where(positives > 0, chosen, default).to(scores.dtype)
