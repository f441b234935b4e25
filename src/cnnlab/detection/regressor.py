"""R-CNN's bounding-box regressor: ridge regression from proposal features to the targets t.

For each coordinate ``* in {x, y, w, h}`` the notes fit one weight vector::

    w_* = argmin_w  sum_i (t_*^i - w^T phi(P^i))^2 + lambda ||w||^2

with ``t`` from eq. (6)-(9) (see :mod:`cnnlab.detection.coder`) and ``phi(P)`` the CNN feature of
proposal ``P`` (R-CNN uses pool5 and ``lambda = 1000``). The solution is closed-form; an intercept
is fitted too and, as in scikit-learn's ``Ridge(fit_intercept=True)``, it is not penalised: centre
``phi`` and ``t``, solve ``(X^T X + lambda I) W = X^T T``, then ``b = mean(t) - mean(phi) W``.

Written out for the notes (the closed form is the point); the tests compare it with
scikit-learn's ``Ridge`` and ``LinearRegression``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from cnnlab.core.validate import number
from cnnlab.detection._checks import (
    check_boxes,
    check_same_length,
    check_tensor,
    check_weights,
)
from cnnlab.detection.coder import decode_boxes, encode_boxes

ArrayLike = np.ndarray | Tensor


def _as_float64(value: object, name: str) -> Tensor:
    if isinstance(value, np.ndarray):
        if not np.issubdtype(value.dtype, np.number) or np.issubdtype(
            value.dtype, np.complexfloating
        ):
            raise ValueError(f"{name} must hold real numbers, got dtype {value.dtype}")
        value = torch.from_numpy(np.asarray(value, dtype=np.float64))
    elif isinstance(value, Tensor) and not value.is_floating_point() and not value.is_complex():
        value = value.to(torch.float64)
    if not isinstance(value, Tensor):
        raise ValueError(
            f"{name} must be a NumPy array or a torch.Tensor, got {type(value).__name__}"
        )
    return check_tensor(value, name).detach().to("cpu", torch.float64)


def _features(value: object) -> Tensor:
    x = _as_float64(value, "features")
    if x.dim() != 2:
        raise ValueError(f"features must have shape (N, D), got {tuple(x.shape)}")
    return x


class BoxRegressor:
    """Closed-form ridge regression of R-CNN box offsets on proposal features.

    Args:
        alpha: the ridge penalty ``lambda`` (>= 0; R-CNN uses 1000). ``0`` is ordinary least
            squares (minimum-norm solution).
        weights: the box-coder weights ``(wx, wy, ww, wh)`` applied to the targets.

    Attributes:
        coef_: one weight vector per coordinate ``(x, y, w, h)``, float64, shape (4, D),
            laid out as scikit-learn's ``Ridge.coef_``.
        intercept_: the unpenalised intercepts, float64, shape (4,).

    Shape:
        features: (N, D); proposals, gt_boxes: (N, 4) -> boxes (N, 4)

    Works with NumPy arrays or tensors: ``predict`` returns the type (and, for tensors, the dtype)
    of ``proposals``.
    """

    def __init__(self, alpha: float = 1000.0, weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)):
        self.alpha = number("alpha", alpha, minimum=0)
        self.weights = check_weights(weights)
        self.coef_: Tensor | None = None
        self.intercept_: Tensor | None = None

    def __repr__(self) -> str:
        return f"BoxRegressor(alpha={self.alpha:g}, weights={self.weights})"

    def fit(self, features: ArrayLike, proposals: ArrayLike, gt_boxes: ArrayLike) -> BoxRegressor:
        """Solve for ``coef_`` and ``intercept_`` from proposals matched to their ground truth."""
        x = _features(features)
        p = check_boxes(_as_float64(proposals, "proposals"), "proposals", positive=True)
        g = check_boxes(_as_float64(gt_boxes, "gt_boxes"), "gt_boxes", positive=True)
        check_same_length(x, "features", p, "proposals")
        check_same_length(p, "proposals", g, "gt_boxes")
        if x.shape[0] == 0:
            raise ValueError("fit needs at least one proposal, got 0")
        targets = encode_boxes(p, g, self.weights)
        x_mean, t_mean = x.mean(0), targets.mean(0)
        xc, tc = x - x_mean, targets - t_mean
        n, d = xc.shape
        if self.alpha == 0:
            w = torch.linalg.lstsq(xc, tc, driver="gelsd").solution
        elif d <= n:  # primal: (X^T X + lambda I) W = X^T T, a D x D system
            w = torch.linalg.solve(xc.T @ xc + self.alpha * torch.eye(d, dtype=xc.dtype), xc.T @ tc)
        else:  # dual: W = X^T (X X^T + lambda I)^-1 T, an N x N system (same solution)
            w = xc.T @ torch.linalg.solve(xc @ xc.T + self.alpha * torch.eye(n, dtype=xc.dtype), tc)
        self.coef_ = w.T.contiguous()
        self.intercept_ = t_mean - x_mean @ w
        return self

    def _check_fitted(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if self.coef_ is None or self.intercept_ is None:
            raise ValueError("this BoxRegressor is not fitted yet; call fit(...) first")
        if x.shape[1] != self.coef_.shape[1]:
            raise ValueError(
                f"features have {x.shape[1]} columns, but the regressor was fitted on "
                f"{self.coef_.shape[1]}"
            )
        return self.coef_, self.intercept_

    def predict_deltas(self, features: ArrayLike) -> Tensor:
        """The predicted ``d(P) = W^T phi(P) + b`` (weighted targets), float64.

        Shape:
            features: (N, D) -> (N, 4)
        """
        x = _features(features)
        coef, intercept = self._check_fitted(x)
        return x @ coef.T + intercept

    def predict(self, features: ArrayLike, proposals: ArrayLike) -> ArrayLike:
        """Regressed boxes ``G^`` (eq. 1-4) for proposals with the given features.

        Shape:
            features: (N, D), proposals: (N, 4) -> (N, 4)
        """
        deltas = self.predict_deltas(features)
        p = check_boxes(_as_float64(proposals, "proposals"), "proposals")
        check_same_length(deltas, "features", p, "proposals")
        boxes = decode_boxes(p, deltas, self.weights)
        if isinstance(proposals, np.ndarray):
            return boxes.numpy()
        dtype = proposals.dtype if proposals.is_floating_point() else torch.float64  # type: ignore[union-attr]
        return boxes.to(device=proposals.device, dtype=dtype)  # type: ignore[union-attr]
