"""l1-sparsity: the proximal step is scikit-learn's Lasso; the subgradient step is not sparse."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Lasso

from cnnlab.experiments.l1_sparsity import objective, proximal, soft_threshold

EXPERIMENT = "l1-sparsity"


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)


def test_zeros_by_method(quick) -> None:
    for r in quick.rows:
        if r["method"] == "subgradient":
            assert r["exact_zeros"] == 0
        else:
            assert r["exact_zeros"] >= 30  # 45 of the 50 true weights are 0


def test_soft_threshold_and_objective_scaling() -> None:
    v = np.array([-3.0, -0.5, 0.0, 0.2, 2.0])
    assert soft_threshold(v, 1.0).tolist() == [-2.0, 0.0, 0.0, 0.0, 1.0]
    rng = np.random.default_rng(7)
    x, y, w = rng.standard_normal((30, 5)), rng.standard_normal(30), rng.standard_normal(5)
    lasso = ((y - x @ w) ** 2).sum() / (2 * 30) + 0.15 * np.abs(w).sum()
    assert abs(objective(x, y, w, 0.3) - 2 * lasso) < 1e-12  # alpha = lambda / 2


def test_proximal_equals_sklearn_on_another_problem() -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((60, 20))
    y = x[:, :3] @ np.array([2.0, -1.0, 0.5]) + 0.1 * rng.standard_normal(60)
    ours = proximal(x, y, 0.2, steps=5000)
    ref = Lasso(alpha=0.1, fit_intercept=False, tol=1e-14, max_iter=100_000).fit(x, y).coef_
    assert np.abs(ours - ref).max() < 1e-8
    assert np.array_equal(ours == 0, ref == 0)
