"""``l1-sparsity``: is L1 enough for sparse weights? Only with the proximal (soft-threshold) step.

A linear problem y = X w* + noise (100 samples, 50 features, 5 non-zero true weights) with the
training loss of a network: mean squared error plus lambda |w|_1,

    F(w) = mean((y - X w)^2) + lambda |w|_1,

which is 2 x scikit-learn's Lasso objective (1/2n)|y - X w|^2 + alpha |w|_1 at alpha = lambda/2.

* proximal gradient (ISTA): w <- soft(w - eta grad, eta lambda) with
  soft(v, t) = sign(v) max(|v| - t, 0) sets weights exactly to zero; its fixed point is the
  Lasso solution (checked against ``sklearn.linear_model.Lasso`` and the KKT conditions);
* subgradient descent, which is what autograd does with lambda * w.abs().sum() in the loss
  (d|w|/dw = sign(w)): the weights hover around zero but almost never equal it;
* L2 (ridge) for comparison shrinks every weight and zeroes none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cnnlab.experiments import checks as C
from cnnlab.experiments.context import Context, Outcome
from cnnlab.experiments.registry import register_experiment

if TYPE_CHECKING:
    from matplotlib.figure import Figure

N_SAMPLES, N_FEATURES, N_TRUE = 100, 50, 5


def soft_threshold(v: np.ndarray, t: float) -> np.ndarray:
    """The proximal operator of t |.|_1: sign(v) max(|v| - t, 0)."""
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


def objective(x: np.ndarray, y: np.ndarray, w: np.ndarray, lam: float) -> float:
    """mean((y - X w)^2) + lam |w|_1."""
    return float(np.mean((y - x @ w) ** 2) + lam * np.abs(w).sum())


def proximal(x: np.ndarray, y: np.ndarray, lam: float, steps: int) -> np.ndarray:
    """ISTA with step 1/L, L = 2 lambda_max(X^T X) / n (the MSE gradient's Lipschitz constant)."""
    n = len(y)
    lip = 2 * np.linalg.eigvalsh(x.T @ x).max() / n
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        grad = 2 * x.T @ (x @ w - y) / n
        w = soft_threshold(w - grad / lip, lam / lip)
    return w


def subgradient(x: np.ndarray, y: np.ndarray, lam: float, steps: int) -> np.ndarray:
    """Gradient descent on F with d|w|/dw = sign(w), step (1/L) / sqrt(t); the best iterate."""
    n = len(y)
    lip = 2 * np.linalg.eigvalsh(x.T @ x).max() / n
    w = np.zeros(x.shape[1])
    best, best_value = w, objective(x, y, w, lam)
    for t in range(1, steps + 1):
        grad = 2 * x.T @ (x @ w - y) / n + lam * np.sign(w)
        w = w - grad / (lip * np.sqrt(t))
        value = objective(x, y, w, lam)
        if value < best_value:
            best, best_value = w, value
    return best


def kkt_violation(x: np.ndarray, y: np.ndarray, w: np.ndarray, lam: float) -> float:
    """How far w is from optimal: -grad mse must equal lam sign(w_j) where w_j != 0 and lie in
    [-lam, lam] where w_j = 0."""
    c = 2 * x.T @ (y - x @ w) / len(y)
    on = w != 0
    bad_on = np.abs(c[on] - lam * np.sign(w[on]))
    bad_off = np.maximum(np.abs(c[~on]) - lam, 0.0)
    return float(np.concatenate([bad_on, bad_off, [0.0]]).max())


def _problem(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = ctx.rng(1)
    x = rng.standard_normal((N_SAMPLES, N_FEATURES))
    w_true = np.zeros(N_FEATURES)
    support = rng.choice(N_FEATURES, N_TRUE, replace=False)
    w_true[support] = rng.choice([-1.0, 1.0], N_TRUE) * rng.uniform(1.0, 3.0, N_TRUE)
    y = x @ w_true + 0.5 * rng.standard_normal(N_SAMPLES)
    return x, y, w_true


def _figure(coefs: list[dict], rows: list[dict], lam_show: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4), layout="constrained")
    ax_c, ax_h, ax_z = fig.subplots(1, 3)
    idx = np.array([r["index"] for r in coefs])
    for key, marker, shift in (
        ("true", "k*", 0.0),
        ("lasso_sklearn", "o", -0.2),
        ("proximal", "x", 0.0),
        ("subgradient", ".", 0.2),
        ("ridge", "+", 0.3),
    ):
        ax_c.plot(idx + shift, [r[key] for r in coefs], marker, ms=5, label=key)
    ax_c.axhline(0, color="k", lw=0.5)
    ax_c.set(xlabel="feature", ylabel="weight", title=f"weights at lambda = {lam_show:g}")
    ax_c.legend(fontsize=7)
    floor = 1e-17
    bins = np.logspace(-17, 1, 37)
    for key in ("proximal", "subgradient", "ridge"):
        values = np.maximum(np.abs([r[key] for r in coefs]), floor)
        ax_h.hist(values, bins=bins, histtype="step", lw=1.5, label=key)
    ax_h.set_xscale("log")
    ax_h.set(xlabel="|w| (exact zeros drawn at 1e-17)", ylabel="features", title="how small")
    ax_h.legend(fontsize=8)
    for method, marker in (("proximal", "o-"), ("subgradient", "s-"), ("lasso_sklearn", "x:")):
        sel = [r for r in rows if r["method"] == method]
        ax_z.semilogx([r["lambda"] for r in sel], [r["exact_zeros"] for r in sel], marker)
        ax_z.lines[-1].set_label(method)
    ax_z.axhline(N_FEATURES - N_TRUE, color="k", ls=":", lw=0.8, label="true zeros")
    ax_z.set(xlabel="lambda", ylabel="weights exactly 0", title="sparsity along the path")
    ax_z.legend(fontsize=8)
    return fig


@register_experiment(
    name="l1-sparsity",
    section="#115 深度学习训练中是否有必要使用L1获得稀疏解?; #18 正则化方法",
    claim="L1 gives exact zeros only with a proximal (soft-threshold) step; the subgradient "
    "step that autograd takes leaves weights near, not at, zero; L2 zeroes nothing",
    reference="scikit-learn's Lasso (alpha = lambda / 2) and Ridge; the Lasso KKT conditions",
    full_seconds=13.0,
)
def l1_sparsity(ctx: Context) -> Outcome:
    from sklearn.linear_model import Lasso, Ridge

    x, y, w_true = _problem(ctx)
    lams = ctx.pick((0.1, 0.5), (0.02, 0.05, 0.1, 0.2, 0.5, 1.0))
    prox_steps = ctx.pick(3000, 20000)
    sub_steps = ctx.pick(3000, 20000)
    rows, solutions = [], {}
    for lam in ctx.track(lams, "lambda path"):
        lasso = Lasso(alpha=lam / 2, fit_intercept=False, tol=1e-14, max_iter=100_000)
        ref = lasso.fit(x, y).coef_
        found = {
            "lasso_sklearn": ref,
            "proximal": proximal(x, y, lam, prox_steps),
            "subgradient": subgradient(x, y, lam, sub_steps),
        }
        solutions[lam] = found
        for method, w in found.items():
            rows.append(
                {
                    "lambda": lam,
                    "sklearn_alpha": lam / 2,
                    "method": method,
                    "exact_zeros": int((w == 0).sum()),
                    "objective": objective(x, y, w, lam),
                    "max_abs_diff_to_sklearn": float(np.abs(w - ref).max()),
                    "kkt_violation": kkt_violation(x, y, w, lam),
                }
            )
    lam_show = lams[len(lams) // 2]
    ridge = Ridge(alpha=lam_show * N_SAMPLES, fit_intercept=False).fit(x, y).coef_
    shown = solutions[lam_show]
    coefs = [
        {
            "index": j,
            "true": w_true[j],
            "lasso_sklearn": shown["lasso_sklearn"][j],
            "proximal": shown["proximal"][j],
            "subgradient": shown["subgradient"][j],
            "ridge": ridge[j],
        }
        for j in range(N_FEATURES)
    ]
    checks = []
    for lam in lams:
        by = {r["method"]: r for r in rows if r["lambda"] == lam}
        prox, sub, ref = by["proximal"], by["subgradient"], by["lasso_sklearn"]
        checks += [
            C.within(
                f"lambda = {lam:g}: proximal vs sklearn Lasso(alpha={lam / 2:g}), max |dw|",
                prox["max_abs_diff_to_sklearn"],
                0.0,
                1e-6,
                source="sklearn.linear_model.Lasso",
                kind="library",
            ),
            C.within(
                f"lambda = {lam:g}: proximal solution's KKT violation",
                prox["kkt_violation"],
                0.0,
                1e-6,
                source="Lasso optimality conditions",
                kind="exact",
            ),
            C.close(
                f"lambda = {lam:g}: exact zeros, proximal vs Lasso",
                prox["exact_zeros"],
                ref["exact_zeros"],
                source="sklearn.linear_model.Lasso",
                kind="library",
                fmt="d",
            ),
            C.within(
                f"lambda = {lam:g}: subgradient's objective / optimum - 1",
                sub["objective"] / ref["objective"] - 1,
                0.0,
                0.01,
                source="sklearn Lasso's optimum",
                kind="library",
            ),
            C.close(
                f"lambda = {lam:g}: exact zeros of the subgradient solution",
                sub["exact_zeros"],
                0,
                source="exact: a subgradient step lands on 0.0 with probability 0",
                kind="exact",
                fmt="d",
            ),
        ]
    checks.append(
        C.close(
            f"ridge (L2) at lambda = {lam_show:g}: exact zeros",
            int((ridge == 0).sum()),
            0,
            source="sklearn.linear_model.Ridge",
            kind="library",
            fmt="d",
        )
    )
    table = [
        {
            "lambda": r["lambda"],
            "method": r["method"],
            "exact zeros": r["exact_zeros"],
            "objective": r["objective"],
            "max |w - Lasso|": r["max_abs_diff_to_sklearn"],
        }
        for r in rows
    ]
    near = int((np.abs(shown["subgradient"]) < 1e-2).sum())
    prox_zeros = int((shown["proximal"] == 0).sum())
    answer = (
        f"At lambda = {lam_show:g} the proximal step finds the Lasso solution ({prox_zeros} "
        f"of {N_FEATURES} weights exactly 0, {N_FEATURES - N_TRUE} truly 0), while subgradient "
        f"descent reaches the same loss to within 1% with no exact zero ({near} weights are "
        f"merely below 0.01) and ridge zeroes nothing. So L1 does favour sparse solutions, but "
        f"plain (sub)gradient training only makes weights small: exact zeros need the "
        f"soft-threshold (proximal) step or pruning. Deep nets rarely use L1 for this reason."
    )
    return Outcome(
        rows=rows,
        figure=_figure(coefs, rows, lam_show),
        checks=checks,
        answer=answer,
        table=table,
        tables={"coefficients": coefs},
    )
