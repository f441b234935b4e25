"""``dropout-bn-shift``: dropout before batch norm shifts the variance between train and test.

Inverted dropout keeps the mean but not the variance: y = m x / (1 - p) with m ~ Bernoulli(1 - p)
has Var(y) = Var(x) + p / (1 - p) E[x^2]. A BatchNorm after it learns that training variance in
its running estimate, but at test time dropout is the identity and the variance is Var(x) again:
BN divides by too large a number (Li et al. 2019, "Understanding the disharmony between dropout
and batch normalization by variance shift"). Through a linear layer W the same holds per unit:
Var_train(Wx)_k = Var(Wx)_k + p / (1 - p) E[sum_j W_kj^2 x_j^2].

Features: ReLU(digits W0) with a random W0 (non-negative, so E[x^2] > Var(x)). Measured with
torch's ``nn.Dropout`` and ``nn.BatchNorm1d(momentum=None)`` (the cumulative average of the
unbiased batch variances, whose expectation over random batches is the unbiased variance over
the whole set), against the formula; then dropout after BN, which has no shift.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

from cnnlab.experiments import checks as C
from cnnlab.experiments.context import Context, Outcome
from cnnlab.experiments.loop import digits
from cnnlab.experiments.registry import register_experiment

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Z_LIMIT = 5.0
FEATURES, UNITS, BATCH = 128, 64, 64


def _features(ctx: Context) -> torch.Tensor:
    train, _ = digits(torch.float64)
    gen = torch.Generator().manual_seed(ctx.torch_seed(1))
    w0 = torch.randn(64, FEATURES, generator=gen, dtype=torch.float64) / 8
    return torch.relu(train.x.flatten(1) @ w0 + 0.1)


def _dropout_variance(x: torch.Tensor, p: float, repeats: int) -> dict:
    """Total (over units) variance of nn.Dropout(p)(x) in train mode vs the formula.

    With unbiased variances over the N samples the formula is exact in expectation over the
    masks: E[s^2(y)] = s^2(x) + p/(1-p) mean(x^2).
    """
    drop = nn.Dropout(p).train()
    per_repeat = torch.stack([drop(x).var(0).sum() for _ in range(repeats)])
    return {
        "p": p,
        "measured_total_variance": float(per_repeat.mean()),
        "predicted_total_variance": float(x.var(0).sum() + p / (1 - p) * (x**2).mean(0).sum()),
        "standard_error": float(per_repeat.std() / math.sqrt(repeats)),
    }


def _bn_shift(
    x: torch.Tensor, w: torch.Tensor, p: float, placement: str, epochs: int, gen: torch.Generator
) -> dict:
    """BN's running variance after ``epochs`` passes with dropout before (or after) it."""
    linear = nn.Linear(FEATURES, UNITS, bias=False).double()
    with torch.no_grad():
        linear.weight.copy_(w)
    bn = nn.BatchNorm1d(UNITS, momentum=None).double()
    drop = nn.Dropout(p)
    if placement == "before":
        net = nn.Sequential(drop, linear, bn)
    else:
        net = nn.Sequential(linear, bn, drop)
    batch_vars = []
    hook = bn.register_forward_hook(lambda m, inp, out: batch_vars.append(inp[0].var(0)))
    net.train()
    with torch.no_grad():
        for _ in range(epochs):
            for idx in torch.randperm(len(x), generator=gen).split(BATCH):
                net(x[idx])
    hook.remove()
    batch_vars_t = torch.stack(batch_vars)  # (batches, units)
    wx = x @ w.T
    test_var = wx.var(0)  # unbiased over the whole set: what eval-mode BN now sees
    noise = p / (1 - p) * ((x**2) @ (w**2).T).mean(0) if placement == "before" else 0 * test_var
    predicted = test_var + noise
    running = bn.running_var
    # average over units of running / predicted, with the spread over batches as its error
    ratio_per_batch = (batch_vars_t / predicted).mean(1)
    net.eval()
    with torch.no_grad():
        eval_out = bn(linear(x)).var(0)  # BN's output variance at test time
    return {
        "placement": placement,
        "p": p,
        "test_variance": float(test_var.mean()),
        "predicted_train_variance": float(predicted.mean()),
        "bn_running_variance": float(running.mean()),
        "running_over_predicted": float((running / predicted).mean()),
        "standard_error": float(ratio_per_batch.std() / math.sqrt(len(ratio_per_batch))),
        "running_vs_batch_mean_gap": float((running - batch_vars_t.mean(0)).abs().max()),
        "shift_ratio_measured": float((test_var / running).mean()),
        "shift_ratio_predicted": float((test_var / predicted).mean()),
        "bn_eval_output_variance": float(eval_out.mean()),
    }


def _figure(rows, drop_rows, x: torch.Tensor, p_show: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4), layout="constrained")
    ax_d, ax_r, ax_o = fig.subplots(1, 3)
    ps = [r["p"] for r in drop_rows]
    ax_d.plot(ps, [r["predicted_total_variance"] for r in drop_rows], "-", label="formula")
    ax_d.plot(ps, [r["measured_total_variance"] for r in drop_rows], "o", label="nn.Dropout")
    ax_d.axhline(float(x.var(0).sum()), color="k", ls=":", label="Var(x): test")
    ax_d.set(xlabel="p", ylabel="sum of unit variances", title="Var(x) + p/(1-p) E[x^2]")
    ax_d.legend(fontsize=8)
    for placement, marker in (("before", "o"), ("after", "s")):
        sel = [r for r in rows if r["placement"] == placement]
        ax_r.plot([r["p"] for r in sel], [r["shift_ratio_measured"] for r in sel], marker)
        ax_r.lines[-1].set_label(f"dropout {placement} BN (measured)")
    before = [r for r in rows if r["placement"] == "before"]
    ax_r.plot([r["p"] for r in before], [r["shift_ratio_predicted"] for r in before], "k-", lw=0.8)
    ax_r.lines[-1].set_label("formula")
    ax_r.set(xlabel="p", ylabel="Var_test / BN running var", title="variance shift (Li et al.)")
    ax_r.legend(fontsize=8)
    ax_o.bar(
        [f"{r['placement']}\np={r['p']:g}" for r in rows if r["p"] == p_show],
        [r["bn_eval_output_variance"] for r in rows if r["p"] == p_show],
    )
    ax_o.axhline(1.0, color="k", ls=":", lw=0.8)
    ax_o.set(ylabel="variance of BN output at test", title="what the next layer sees")
    return fig


@register_experiment(
    name="dropout-bn-shift",
    section="#112 BN和Dropout在训练和测试时的差别; #47-49 Dropout",
    claim="dropout before BN makes BN learn the training variance Var(x) + p/(1-p) E[x^2]; "
    "at test the variance is Var(x): a shift (dropout after BN has none)",
    reference="Li et al. (2019), the analytic variance of inverted dropout; torch nn.Dropout "
    "and nn.BatchNorm1d",
    full_seconds=19.0,
)
def dropout_bn_shift(ctx: Context) -> Outcome:
    x = _features(ctx)
    ps = ctx.pick((0.2, 0.5), (0.1, 0.2, 0.3, 0.4, 0.5, 0.6))
    torch.manual_seed(ctx.torch_seed(2))  # nn.Dropout draws from the global generator
    drop_rows = [_dropout_variance(x, p, ctx.pick(20, 200)) for p in ps]
    gen = torch.Generator().manual_seed(ctx.torch_seed(3))
    w = torch.randn(UNITS, FEATURES, generator=gen, dtype=torch.float64) / math.sqrt(FEATURES)
    epochs = ctx.pick(10, 60)
    rows = []
    for placement in ctx.track(("before", "after"), "dropout and BN"):
        rows += [_bn_shift(x, w, p, placement, epochs, gen) for p in ps]
    checks = []
    for r in drop_rows:
        checks.append(
            C.close(
                f"p = {r['p']:g}: variance of nn.Dropout's output (5 standard errors)",
                r["measured_total_variance"],
                r["predicted_total_variance"],
                atol=Z_LIMIT * r["standard_error"],
                source="Var(x) + p/(1-p) E[x^2]",
            )
        )
    for r in rows:
        checks.append(
            C.close(
                f"dropout {r['placement']} BN, p = {r['p']:g}: BN running var / formula",
                r["running_over_predicted"],
                1.0,
                atol=Z_LIMIT * r["standard_error"],
                source="Li et al. (2019): Var(Wx) + p/(1-p) E[sum W^2 x^2]"
                if r["placement"] == "before"
                else "no dropout noise reaches BN: Var(Wx)",
            )
        )
    gap = max(r["running_vs_batch_mean_gap"] for r in rows)
    checks.append(
        C.within(
            "BN(momentum=None) running var = mean of the batch variances (max abs gap)",
            gap,
            0.0,
            1e-10,
            source="torch.nn.BatchNorm1d's documented cumulative average",
            kind="library",
        )
    )
    table = [
        {
            "placement": f"dropout {r['placement']} BN",
            "p": r["p"],
            "Var at test": r["test_variance"],
            "BN running var": r["bn_running_variance"],
            "formula": r["predicted_train_variance"],
            "shift ratio": r["shift_ratio_measured"],
        }
        for r in rows
    ]
    worst = min(r["shift_ratio_measured"] for r in rows if r["placement"] == "before")
    p_max = max(ps)
    answer = (
        f"With dropout before BN, BN's running variance is the training variance "
        f"Var(Wx) + p/(1-p) E[sum W^2 x^2], as measured to within sampling error; at test the "
        f"variance is only Var(Wx), so BN's outputs shrink to {worst:.2f} of the variance the "
        f"next layer was trained with at p = {p_max:g}. Put after BN, dropout leaves BN's "
        f"statistics equal at train and test time (ratio 1). This is why networks put dropout "
        f"after the last BN, or use none (ResNet)."
    )
    return Outcome(
        rows=rows,
        figure=_figure(rows, drop_rows, x, p_max),
        checks=checks,
        answer=answer,
        table=table,
        tables={"dropout_variance": drop_rows},
    )
