"""``batch-size``: gradient noise of a mini-batch, GD vs mini-batch vs SGD, linear scaling.

The model is softmax regression on the digits (64 pixels and a bias -> 10 classes, float64),
whose loss is convex with a gradient Lipschitz constant L <= lambda_max(X^T X) / (2N) (the
softmax Jacobian has norm <= 1/2), so everything has an exact reference:

1. Per-sample gradients g_i (``torch.func.vmap(grad)``) give Sigma = cov(g_i) over the N
   training digits; the mean gradient of a batch of B digits drawn without replacement has
   E|g_B - g|^2 = tr(Sigma) / B * (N - B) / (N - 1), which the measured spread over many
   random batches matches.
2. GD (B = N, lr 1/L), mini-batch (B = 32) and SGD (B = 1) from zero: loss per epoch (SGD
   wins) and per update (GD wins). With lr = 1/L every GD step lowers the loss by at least
   |g|^2 / (2L) (the descent lemma).
3. The linear scaling rule (Goyal et al. 2017): B from 16 to 512 for the same epochs, with the
   rate scaled as B and with it fixed. Scaled runs all follow the same gradient flow
   dw/dt = -grad f(w) up to time t = lr * updates, so they end near its loss; fixed-rate runs
   with large B take fewer steps and stop early.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch.func import grad, vmap

from cnnlab.experiments import checks as C
from cnnlab.experiments.context import Context, Outcome
from cnnlab.experiments.loop import digits
from cnnlab.experiments.registry import register_experiment

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Z_LIMIT = 5.0


class SoftmaxRegression:
    """Cross-entropy of ``softmax(X w)`` with explicit gradients (X has a column of ones).

    Shape:
        x: (N, 65); y: (N,); w: (65, 10).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x = torch.cat([x.flatten(1), torch.ones(len(x), 1, dtype=x.dtype)], 1)
        self.y = y
        self.onehot = torch.nn.functional.one_hot(y, 10).to(x.dtype)
        n = len(y)
        # ||diag(p) - p p^T|| <= 1/2, so the Hessian is at most lambda_max(X^T X / N) / 2.
        self.lipschitz = float(torch.linalg.eigvalsh(self.x.T @ self.x / n).max()) / 2

    def __len__(self) -> int:
        return len(self.y)

    def zeros(self) -> torch.Tensor:
        return torch.zeros(self.x.shape[1], 10, dtype=self.x.dtype)

    def loss(self, w: torch.Tensor) -> float:
        return float(torch.nn.functional.cross_entropy(self.x @ w, self.y))

    def grad(self, w: torch.Tensor, idx: torch.Tensor | None = None) -> torch.Tensor:
        x, t = (self.x, self.onehot) if idx is None else (self.x[idx], self.onehot[idx])
        return x.T @ (torch.softmax(x @ w, 1) - t) / len(x)

    def per_sample_grads(self, w: torch.Tensor) -> torch.Tensor:
        """Every digit's gradient, flattened, by ``vmap(grad)``.

        Shape:
            (N, 650)
        """

        def one(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.cross_entropy((x @ w)[None], y[None])

        return vmap(grad(one), in_dims=(None, 0, 0))(w, self.x, self.y).flatten(1)


def _train(
    model: SoftmaxRegression, batch: int, lr: float, epochs: int, gen: torch.Generator
) -> list[float]:
    """Loss after each epoch (index 0: at the start) of plain SGD with batches of ``batch``."""
    w = model.zeros()
    losses = [model.loss(w)]
    for _ in range(epochs):
        for idx in torch.randperm(len(model), generator=gen).split(batch):
            w -= lr * model.grad(w, idx)
        losses.append(model.loss(w))
    return losses


def _noise(ctx: Context, model: SoftmaxRegression, w: torch.Tensor, draws: int):
    """Rows of measured vs predicted variance, and the gaps of vmap to autograd."""
    n = len(model)
    per_sample = model.per_sample_grads(w)
    full = model.grad(w).flatten()
    total = float(((per_sample - full) ** 2).sum(1).mean())  # tr(Sigma), Sigma over N
    # vmap against autograd, sample by sample and for batches
    gap = float((per_sample.mean(0) - full).abs().max())
    for i in (0, n // 2, n - 1):
        wt = w.clone().requires_grad_()
        torch.nn.functional.cross_entropy(model.x[i : i + 1] @ wt, model.y[i : i + 1]).backward()
        gap = max(gap, float((wt.grad.flatten() - per_sample[i]).abs().max()))  # type: ignore[union-attr]
    gen = torch.Generator().manual_seed(ctx.torch_seed(1))
    rows = []
    for b in ctx.track((1, 4, 16, 64, 256, 1024, n), "mini-batch gradient noise"):
        dev = torch.empty(draws, dtype=torch.float64)
        for k in range(draws):
            idx = torch.randperm(n, generator=gen)[:b]
            dev[k] = ((per_sample[idx].mean(0) - full) ** 2).sum()
        rows.append(
            {
                "batch_size": b,
                "measured_variance": float(dev.mean()),
                "predicted_variance": total / b * (n - b) / (n - 1),
                "standard_error": float(dev.std() / math.sqrt(draws)),
                "draws": draws,
            }
        )
    return rows, gap, total


def _figure(noise, curves, scaling, flow_loss, batch_sizes) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 7.5), layout="constrained")
    (ax_v, ax_e, ax_u), (ax_s, ax_f, ax_n) = fig.subplots(2, 3)
    partial = noise[:-1]  # B = N has variance 0: off a log scale
    b = [r["batch_size"] for r in partial]
    ax_v.loglog(b, [r["measured_variance"] for r in partial], "o", label="measured")
    ax_v.loglog(b, [r["predicted_variance"] for r in partial], "-", label="formula")
    ax_v.set(xlabel="batch size B (B = N: exactly 0)", ylabel="E|g_B - g|^2")
    ax_v.set_title("tr(Sigma)/B (N-B)/(N-1)")
    ax_v.legend(fontsize=8)
    for name, rows in curves.items():
        epochs = [r["epoch"] for r in rows]
        updates = [r["updates"] for r in rows]
        loss = [r["train_loss"] for r in rows]
        ax_e.plot(epochs, loss, "o-", ms=3, label=name)
        ax_u.semilogx([max(u, 0.5) for u in updates], loss, "o-", ms=3, label=name)
    ax_e.set(xlabel="epoch (samples seen / N)", ylabel="training loss", title="per epoch")
    ax_u.set(xlabel="updates", ylabel="training loss", title="per update")
    ax_e.legend(fontsize=8)
    for key, ax, title in (
        ("scaled", ax_s, "lr = lr0 * B / 16 (linear scaling)"),
        ("fixed", ax_f, "lr = lr0 for every B"),
    ):
        for bs in batch_sizes:
            sel = [r for r in scaling if r["rule"] == key and r["batch_size"] == bs]
            ax.plot([r["epoch"] for r in sel], [r["train_loss"] for r in sel], label=f"B={bs}")
        ax.axhline(flow_loss, color="k", ls="--", lw=0.8, label="gradient flow")
        ax.set(xlabel="epoch", ylabel="training loss", title=title)
    ax_s.legend(fontsize=7)
    final = [r for r in scaling if r["epoch"] == max(x["epoch"] for x in scaling)]
    for key, marker in (("scaled", "o-"), ("fixed", "s-")):
        sel = [r for r in final if r["rule"] == key]
        ax_n.semilogx([r["batch_size"] for r in sel], [r["train_loss"] for r in sel], marker)
        ax_n.lines[-1].set_label(key)
    ax_n.axhline(flow_loss, color="k", ls="--", lw=0.8, label="gradient flow")
    ax_n.set_xticks(batch_sizes, [str(bs) for bs in batch_sizes])
    ax_n.minorticks_off()
    ax_n.set(xlabel="batch size", ylabel="final training loss", title="Goyal et al. (2017)")
    ax_n.legend(fontsize=8)
    return fig


@register_experiment(
    name="batch-size",
    section="#1 Epoch、Iteration、Batchsize; #31-33 梯度下降, mini-batch, SGD; #111 Batch Size",
    claim="a batch of B averages away gradient noise as 1/B (without replacement: "
    "(N-B)/(N-1)); SGD wins per epoch, GD per update; scale the learning rate with B",
    reference="sampling without replacement (exact); the descent lemma; Goyal et al. (2017)",
    full_seconds=37.0,
)
def batch_size(ctx: Context) -> Outcome:
    train, _ = digits(torch.float64)
    model = SoftmaxRegression(train.x, train.y)
    n, lip = len(model), model.lipschitz
    # a point away from the start: 20 GD steps
    w = model.zeros()
    for _ in range(20):
        w -= model.grad(w) / lip
    noise, vmap_gap, total = _noise(ctx, model, w, draws=ctx.pick(300, 3000))

    epochs = ctx.pick(3, 20)
    gen = torch.Generator().manual_seed(ctx.torch_seed(2))
    settings = {"GD (B = N)": (n, 1 / lip), "mini-batch (B = 32)": (32, 1 / (4 * lip))}
    settings["SGD (B = 1)"] = (1, 1 / (64 * lip))
    curves = {}
    for name, (b, lr) in ctx.track(list(settings.items()), "GD, mini-batch, SGD"):
        losses = _train(model, b, lr, epochs, gen)
        steps = math.ceil(n / b)
        curves[name] = [
            {"method": name, "epoch": e, "updates": e * steps, "train_loss": v}
            for e, v in enumerate(losses)
        ]
    # the descent lemma, step by step, for GD at lr 1/L
    w_gd, worst_margin = model.zeros(), math.inf
    for _ in range(epochs):
        g = model.grad(w_gd)
        before = model.loss(w_gd)
        w_gd = w_gd - g / lip
        drop = before - model.loss(w_gd)
        worst_margin = min(worst_margin, drop - float((g**2).sum()) / (2 * lip))

    batch_sizes = (16, 32, 64, 128, 256, 512)
    lr0 = (1 / lip) * 16 / batch_sizes[-1]  # the largest scaled rate is 1/L
    scale_epochs = ctx.pick(4, 10)
    scaling = []
    for bs in ctx.track(batch_sizes, "linear scaling rule"):
        for rule, lr in (("scaled", lr0 * bs / 16), ("fixed", lr0)):
            losses = _train(model, bs, lr, scale_epochs, gen)
            scaling += [
                {"rule": rule, "batch_size": bs, "lr": lr, "epoch": e, "train_loss": v}
                for e, v in enumerate(losses)
            ]
    # gradient flow to the same time t = lr * updates = lr0 / 16 * N * epochs
    horizon = lr0 / 16 * n * scale_epochs
    steps = math.ceil(horizon * lip * 64)
    w_flow = model.zeros()
    for _ in range(steps):
        w_flow -= (horizon / steps) * model.grad(w_flow)
    flow_loss = model.loss(w_flow)

    checks = [
        C.within(
            "vmap(grad) per-sample gradients vs autograd (max abs difference)",
            vmap_gap,
            0.0,
            1e-12,
            source="torch autograd, float64",
            kind="library",
        )
    ]
    for r in noise:
        if r["batch_size"] == n:
            checks.append(
                C.within(
                    f"B = N = {n}: variance of the batch gradient",
                    r["measured_variance"],
                    0.0,
                    1e-24,
                    source="exact: the batch is the whole set",
                    kind="exact",
                )
            )
            continue
        checks.append(
            C.close(
                f"B = {r['batch_size']}: E|g_B - g|^2 (5 standard errors)",
                r["measured_variance"],
                r["predicted_variance"],
                atol=Z_LIMIT * r["standard_error"],
                source="tr(Sigma)/B (N-B)/(N-1), sampling without replacement",
            )
        )
    checks.append(
        C.within(
            "GD at lr 1/L: smallest (loss drop - |g|^2 / 2L) over the steps",
            worst_margin,
            -1e-12,
            math.inf,
            source="the descent lemma",
            kind="exact",
            fmt=".3g",
        )
    )
    final = [r for r in scaling if r["epoch"] == scale_epochs]
    for r in final:
        if r["rule"] == "scaled":
            checks.append(
                C.close(
                    f"linear scaling, B = {r['batch_size']}: final loss vs gradient flow",
                    r["train_loss"],
                    flow_loss,
                    rtol=0.1,
                    source="Goyal et al. (2017) sec. 2.1: same gradient flow",
                    kind="published",
                )
            )
    last = {name: rows[-1]["train_loss"] for name, rows in curves.items()}
    fixed = {r["batch_size"]: r["train_loss"] for r in final if r["rule"] == "fixed"}
    scaled = {r["batch_size"]: r["train_loss"] for r in final if r["rule"] == "scaled"}
    table = [
        {
            "batch_size": r["batch_size"],
            "measured_variance": r["measured_variance"],
            "predicted_variance": r["predicted_variance"],
        }
        for r in noise
    ]
    answer = (
        f"The mean gradient of B digits scatters around the full gradient exactly as "
        f"tr(Sigma)/B (N-B)/(N-1) (tr Sigma = {total:.3g}): 1/B for small batches and zero "
        f"for the whole set. After {epochs} epochs GD has loss "
        f"{last['GD (B = N)']:.3f}, mini-batch {last['mini-batch (B = 32)']:.3f} and SGD "
        f"{last['SGD (B = 1)']:.3f}: per epoch the noisy small batches win because they update "
        f"N/B times; per update GD wins. Scaling the learning rate with B keeps the loss after "
        f"{scale_epochs} epochs near the gradient flow's {flow_loss:.3f} for B = 16..512 "
        f"({min(scaled.values()):.3f}-{max(scaled.values()):.3f}); with the rate fixed, "
        f"B = 512 stops at {fixed[512]:.3f}."
    )
    tables = {
        "curves": [r for rows in curves.values() for r in rows],
        "linear_scaling": scaling,
    }
    return Outcome(
        rows=noise,
        figure=_figure(noise, curves, scaling, flow_loss, batch_sizes),
        checks=checks,
        answer=answer,
        table=table,
        tables=tables,
    )
