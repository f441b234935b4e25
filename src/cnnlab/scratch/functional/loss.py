"""Losses, forward and backward: cross-entropy (with label smoothing), hinge, squared error, and
binary cross-entropy on logits (multi-label)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnlab.core.validate import one_of
from cnnlab.scratch.functional.activation import sigmoid

# reduction -> scale of the per-element losses (given the number of samples)
# (the mean over no elements is NaN, as in torch)
REDUCTIONS: dict[str, object] = {
    "mean": lambda count: 1.0 / count if count else float("nan"),
    "sum": lambda count: 1.0,
}


def reduction_scale(reduction: str, count: int) -> float:
    """``1 / count`` for ``'mean'`` (NaN when ``count`` is 0, as torch), ``1`` for ``'sum'``.

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


BCE_REDUCTIONS = ("mean", "sum", "none")


def _softplus(z: np.ndarray) -> np.ndarray:
    """``log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|))``: exp never sees a positive argument."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def check_loss_weight(name: str, value: object, shape: tuple[int, ...] | None) -> np.ndarray | None:
    """``None``, or a finite float array ``>= 0`` that broadcasts to ``shape`` (if given).

    Raises:
        ValueError: non-numeric, non-finite or negative values, or a shape that does not broadcast.
    """
    if value is None:
        return None
    array = np.asarray(value)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"{name} must hold finite numbers >= 0, got {array.tolist()}")
    if shape is not None:
        try:
            fits = np.broadcast_shapes(array.shape, shape) == shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"{name} of shape {array.shape} must broadcast to the logits' shape {shape}"
            )
    return array.astype(np.float64) if not np.issubdtype(array.dtype, np.floating) else array


class BCEWithLogitsCache(NamedTuple):
    """The logits, the targets, the two weights (``1`` when absent) and the reduction scale."""

    logits: np.ndarray
    target: np.ndarray
    weight: np.ndarray | float
    pos_weight: np.ndarray | float
    scale: float | None  # None for reduction='none'


def bce_with_logits_forward(
    logits: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray | None = None,
    pos_weight: np.ndarray | None = None,
    reduction: str = "mean",
) -> tuple[float | np.ndarray, BCEWithLogitsCache]:
    """Sigmoid + binary cross-entropy per element, as ``torch.nn.functional.
    binary_cross_entropy_with_logits``: one independent yes/no per label (multi-label).

    Written with ``log sigmoid(x) = -softplus(-x)`` and ``log(1 - sigmoid(x)) = -softplus(x)``,
    and ``softplus(z) = max(z, 0) + log1p(exp(-|z|))``: finite for any finite logit (1e4 gives a
    loss of 1e4, not ``log(0) = -inf``), and no overflow warning.

    Math:
        loss = w * (p * y * softplus(-x) + (1 - y) * softplus(x)),
        w = ``weight`` (per element, broadcast), p = ``pos_weight`` (per class, broadcast)

    Args:
        logits: raw scores.
        target: probabilities in [0, 1] (0/1 labels, or soft labels).
        weight: optional rescaling of each element's loss.
        pos_weight: optional weight of the positive term (> 1 raises recall, for rare labels).
        reduction: ``'mean'`` (over all elements), ``'sum'`` or ``'none'``.

    Returns:
        A float (mean/sum) or an array shaped like ``logits`` (none), and the cache.

    Shape:
        logits (*), target (*) -> float, or (*) for reduction='none';
        weight and pos_weight broadcast to (*) (pos_weight usually (C,) for logits (N, C))
    """
    reduction = one_of("reduction", reduction, BCE_REDUCTIONS)
    logits = np.asarray(logits)
    if not np.issubdtype(logits.dtype, np.floating):
        if not np.issubdtype(logits.dtype, np.integer):
            raise ValueError(f"logits must hold real numbers, got dtype {logits.dtype}")
        logits = logits.astype(np.float64)
    target = np.asarray(target)
    if target.shape != logits.shape:
        raise ValueError(f"target must have the logits' shape {logits.shape}, got {target.shape}")
    if target.dtype == bool or np.issubdtype(target.dtype, np.integer):
        target = target.astype(logits.dtype)
    if not np.issubdtype(target.dtype, np.floating):
        raise ValueError(f"target must hold probabilities in [0, 1], got dtype {target.dtype}")
    if target.size and not np.all((target >= 0) & (target <= 1)):
        bad = target[~((target >= 0) & (target <= 1))][0]
        raise ValueError(f"target must hold probabilities in [0, 1], got {bad}")
    w = check_loss_weight("weight", weight, logits.shape)
    p = check_loss_weight("pos_weight", pos_weight, logits.shape)
    w = 1.0 if w is None else w
    p = 1.0 if p is None else p
    losses = w * (p * target * _softplus(-logits) + (1.0 - target) * _softplus(logits))
    losses = np.broadcast_to(losses, logits.shape)  # scalar weights keep the shape
    if reduction == "none":
        return np.array(losses), BCEWithLogitsCache(logits, target, w, p, None)
    scale = 1.0 if reduction == "sum" else (1.0 / losses.size if losses.size else float("nan"))
    return float(losses.sum()) * scale, BCEWithLogitsCache(logits, target, w, p, scale)


def bce_with_logits_backward(
    cache: BCEWithLogitsCache, dloss: np.ndarray | float = 1.0
) -> np.ndarray:
    """``dL/dx = w * ((1 - y) sigmoid(x) - p * y * sigmoid(-x))`` times ``dloss``.

    ``dloss`` is the gradient of the reduced loss (a number; 1 by default), or, for
    ``reduction='none'``, an array shaped like the losses. Both sigmoids are evaluated without
    ``1 - sigmoid`` (no cancellation): at x = -1e4 the gradient of a positive is ``-p * w``.
    """
    x, y, w, p, scale = cache
    grad = w * ((1.0 - y) * sigmoid(x) - p * y * sigmoid(-x))
    factor = dloss if scale is None else dloss * scale
    return np.broadcast_to(grad * factor, x.shape).astype(x.dtype)
