"""Losses, forward and backward: cross-entropy (with label smoothing), hinge, squared error."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnlab.core.validate import one_of

# reduction -> scale of the per-element losses (given the number of samples)
REDUCTIONS: dict[str, object] = {"mean": lambda count: 1.0 / count, "sum": lambda count: 1.0}


def reduction_scale(reduction: str, count: int) -> float:
    """``1 / count`` for ``'mean'``, ``1`` for ``'sum'``.

    Raises:
        ValueError: unknown reduction.
    """
    return REDUCTIONS[one_of("reduction", reduction, REDUCTIONS)](count)  # type: ignore[operator]


def check_class_targets(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Validate ``(N, C)`` logits and ``(N,)`` integer class targets in ``[0, C)``."""
    logits = np.asarray(logits)
    target = np.asarray(target)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (N, C), got {logits.shape}")
    if target.shape != (logits.shape[0],):
        raise ValueError(
            f"target must have shape ({logits.shape[0]},) to match logits {logits.shape}, "
            f"got {target.shape}"
        )
    if not np.issubdtype(target.dtype, np.integer):
        raise ValueError(f"target must hold integer class indices, got dtype {target.dtype}")
    if target.size and (target.min() < 0 or target.max() >= logits.shape[1]):
        raise ValueError(
            f"target classes must be in [0, {logits.shape[1]}), got values from "
            f"{target.min()} to {target.max()}"
        )
    return target


def log_softmax(z: np.ndarray) -> np.ndarray:
    """``z - logsumexp(z)`` along the last axis, shifted by the max (no overflow)."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class CrossEntropyCache(NamedTuple):
    """Softmax probabilities, the smoothed target distribution and the reduction scale."""

    probs: np.ndarray
    target_dist: np.ndarray
    scale: float


def cross_entropy_forward(
    logits: np.ndarray, target: np.ndarray, label_smoothing: float = 0.0, reduction: str = "mean"
) -> tuple[float, CrossEntropyCache]:
    """Softmax cross-entropy, as ``torch.nn.functional.cross_entropy`` with class indices.

    Math:
        q = (1 - eps) * onehot(y) + eps / C,  loss_n = -sum_k q_k log softmax(z)_k

    Shape:
        logits: (N, C), target: (N,) int -> float
    """
    target = check_class_targets(logits, target)
    n, c = logits.shape
    logp = log_softmax(logits)
    q = np.full_like(logp, label_smoothing / c)
    q[np.arange(n), target] += 1.0 - label_smoothing
    scale = reduction_scale(reduction, n)
    loss = -float((q * logp).sum()) * scale
    return loss, CrossEntropyCache(np.exp(logp), q, scale)


def cross_entropy_backward(cache: CrossEntropyCache) -> np.ndarray:
    """``dL/dz = (softmax(z) - q) * scale`` (1/N for the mean)."""
    return (cache.probs - cache.target_dist) * cache.scale


class MultiMarginCache(NamedTuple):
    """The active hinge terms and what scales them."""

    margins: np.ndarray  # (N, C): margin - z_y + z_k, zero at k = y
    target: np.ndarray
    p: int
    scale: float


def multi_margin_forward(
    logits: np.ndarray, target: np.ndarray, p: int = 1, margin: float = 1.0, reduction: str = "mean"
) -> tuple[float, MultiMarginCache]:
    """The multi-class hinge loss, as ``torch.nn.functional.multi_margin_loss``.

    Math:
        loss_n = (1 / C) sum_{k != y} max(0, margin - z_y + z_k)^p

    Shape:
        logits: (N, C), target: (N,) int -> float
    """
    target = check_class_targets(logits, target)
    n, c = logits.shape
    rows = np.arange(n)
    margins = margin - logits[rows, target][:, None] + logits
    margins[rows, target] = 0.0
    active = np.maximum(margins, 0.0)
    scale = reduction_scale(reduction, n)
    loss = float((active**p).sum()) / c * scale
    return loss, MultiMarginCache(margins, target, p, scale / c)


def multi_margin_backward(cache: MultiMarginCache) -> np.ndarray:
    """Each active term pushes ``z_k`` up and ``z_y`` down by ``p * term^(p-1)``."""
    margins, target, p, scale = cache
    grad = np.where(margins > 0, p * np.maximum(margins, 0.0) ** (p - 1), 0.0) * scale
    rows = np.arange(len(target))
    grad[rows, target] = -grad.sum(axis=1)
    return grad


class MSECache(NamedTuple):
    """The residual and the reduction scale."""

    diff: np.ndarray
    scale: float


def mse_forward(
    prediction: np.ndarray, target: np.ndarray, reduction: str = "mean"
) -> tuple[float, MSECache]:
    """Squared error, as ``torch.nn.functional.mse_loss``.

    Math:
        loss = scale * sum (x - t)^2, scale = 1 / numel for the mean

    Shape:
        prediction, target: same shape -> float
    """
    prediction, target = np.asarray(prediction), np.asarray(target)
    if prediction.shape != target.shape:
        raise ValueError(
            f"prediction and target must have the same shape, got {prediction.shape} "
            f"and {target.shape}"
        )
    diff = prediction - target
    scale = reduction_scale(reduction, diff.size)
    return float((diff * diff).sum()) * scale, MSECache(diff, scale)


def mse_backward(cache: MSECache) -> np.ndarray:
    """``2 (x - t) * scale``."""
    return 2.0 * cache.diff * cache.scale
