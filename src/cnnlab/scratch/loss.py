"""Loss objects: ``forward(logits, target) -> float`` then ``backward() -> dlogits``.

``BCEWithLogitsLoss(reduction='none')`` returns the per-element losses instead, and its
``backward(dloss)`` takes their gradient (as ``loss.backward(gradient)`` in torch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlab.core.validate import number, one_of
from cnnlab.scratch.functional import loss as F


class _Loss:
    """Keeps the cache of the last ``forward`` for ``backward``."""

    reductions: tuple[str, ...] = tuple(F.REDUCTIONS)

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = one_of("reduction", reduction, self.reductions)
        self._cache: Any = None

    def __call__(self, prediction: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        return self.forward(prediction, target)

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def _take_cache(self) -> Any:
        if self._cache is None:
            raise ValueError(f"{type(self).__name__}.backward called before forward")
        return self._cache


class CrossEntropyLoss(_Loss):
    """Softmax + negative log-likelihood of the target class, with optional label smoothing.

    Stable for huge logits: the log-softmax subtracts the row maximum before exponentiating.

    Math:
        q = (1 - eps) onehot(y) + eps / C,  L = -(1/N) sum_n sum_k q_k log softmax(z_n)_k,
        dL/dz = (softmax(z) - q) / N

    Shape:
        logits (N, C), target (N,) int in [0, C) -> float
    """

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        self.label_smoothing = number("label_smoothing", label_smoothing, minimum=0, maximum=1)

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        loss, self._cache = F.cross_entropy_forward(
            prediction, target, self.label_smoothing, self.reduction
        )
        return loss

    def backward(self) -> np.ndarray:
        return F.cross_entropy_backward(self._take_cache())


class MultiMarginLoss(_Loss):
    """The multi-class hinge (SVM) loss, as ``torch.nn.MultiMarginLoss``.

    Math:
        L_n = (1/C) sum_{k != y} max(0, margin - z_y + z_k)^p

    Shape:
        logits (N, C), target (N,) int in [0, C) -> float
    """

    def __init__(self, p: int = 1, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.p = int(one_of("p", p, (1, 2)))
        self.margin = number("margin", margin)

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        loss, self._cache = F.multi_margin_forward(
            prediction, target, self.p, self.margin, self.reduction
        )
        return loss

    def backward(self) -> np.ndarray:
        return F.multi_margin_backward(self._take_cache())


class MSELoss(_Loss):
    """Mean squared error.

    Math:
        L = (1 / numel) sum (x - t)^2,  dL/dx = 2 (x - t) / numel

    Shape:
        prediction and target of the same shape -> float
    """

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        loss, self._cache = F.mse_forward(prediction, target, self.reduction)
        return loss

    def backward(self) -> np.ndarray:
        return F.mse_backward(self._take_cache())


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy, one independent yes/no per label, as
    ``torch.nn.BCEWithLogitsLoss``: the loss of multi-label classification.

    Stable for huge logits: ``log sigmoid(x) = -softplus(-x)`` with
    ``softplus(z) = max(z, 0) + log1p(exp(-|z|))``, never ``log(0)``.

    Math:
        L = reduce(w * (p * y * softplus(-x) + (1 - y) * softplus(x))),
        dL/dx = w * ((1 - y) sigmoid(x) - p * y * sigmoid(-x)) * (1/numel for the mean)

    Shape:
        logits (*), target (*) in [0, 1] -> float, or (*) with ``reduction='none'``;
        ``weight`` and ``pos_weight`` broadcast to (*) (pos_weight usually (C,) for (N, C))

    Args:
        weight: rescales each element's loss (fixed, no gradient).
        reduction: ``'mean'`` over all elements, ``'sum'``, or ``'none'`` (per-element losses).
        pos_weight: weight of the positive term of each class (fixed, no gradient).
    """

    reductions = F.BCE_REDUCTIONS

    def __init__(
        self,
        weight: np.ndarray | None = None,
        *,
        reduction: str = "mean",
        pos_weight: np.ndarray | None = None,
    ) -> None:
        super().__init__(reduction)
        self.weight = F.check_loss_weight("weight", weight, None)
        self.pos_weight = F.check_loss_weight("pos_weight", pos_weight, None)

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        """The loss (a float), or per-element losses for ``reduction='none'``."""
        loss, self._cache = F.bce_with_logits_forward(
            prediction, target, self.weight, self.pos_weight, self.reduction
        )
        return loss

    def backward(self, dloss: np.ndarray | float | None = None) -> np.ndarray:
        """``dL/dlogits``; ``dloss`` is the upstream gradient of the loss (1 by default).

        Raises:
            ValueError: no forward yet; with ``reduction='none'``, a ``dloss`` not shaped like
                the per-element losses (it is required there, as in torch).
        """
        cache = self._take_cache()
        shape = cache.logits.shape
        if self.reduction == "none":
            if not isinstance(dloss, np.ndarray) or dloss.shape != shape:
                got = dloss.shape if isinstance(dloss, np.ndarray) else dloss
                raise ValueError(
                    "BCEWithLogitsLoss(reduction='none').backward needs the gradient of the "
                    f"per-element losses, an array of shape {shape}, got {got}"
                )
            return F.bce_with_logits_backward(cache, dloss)
        return F.bce_with_logits_backward(cache, 1.0 if dloss is None else number("dloss", dloss))
