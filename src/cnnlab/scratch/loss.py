"""Loss objects: ``forward(logits, target) -> float`` then ``backward() -> dlogits``."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlab.core.validate import number, one_of
from cnnlab.scratch.functional import loss as F


class _Loss:
    """Keeps the cache of the last ``forward`` for ``backward``."""

    def __init__(self, reduction: str = "mean") -> None:
        F.reduction_scale(reduction, 1)  # validates the name
        self.reduction = reduction
        self._cache: Any = None

    def __call__(self, prediction: np.ndarray, target: np.ndarray) -> float:
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
