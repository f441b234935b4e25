"""``bn-noise``: why batch norm helps (Santurkar et al. 2018), point by point.

Three versions of one VGG-style CNN (3x3 convolutions 16, 16 | pool | 32, 32 | pool | 64, 64,
global average pooling, fc; Kaiming init) are trained on the mnist5k digits (average-pooled
to 14x14) with the same plain SGD (learning rate 0.1, batch 128) from the same weights:

* ``none``: conv (with bias) - ReLU;
* ``bn``: conv - BN - ReLU;
* ``bn+noise``: conv - BN - :class:`ShiftScale` - ReLU, where every channel is multiplied by
  s and shifted by m, redrawn at *every step* (s^2 ~ U(1, 4), m ~ U(-1, 1)): the next layer
  sees its input distribution jump around, a covariate shift injected on purpose, larger than
  the one BN is supposed to remove ("internal covariate shift", Ioffe & Szegedy 2015).
  Evaluated, the noise is replaced by its mean (as dropout is at test time).

Santurkar et al.'s findings, measured: the noisy BN net still trains nearly as well as BN and
much better than no BN (so BN's benefit is not a smaller covariate shift, Fig. 2), and along
the gradient the BN net's loss changes less and its gradient stays more predictive (Fig. 4:
every few steps the loss and gradient are evaluated at w - k lr g for k in 1/4..4 on the same
batch: the range of the loss, the largest ||g(w - k lr g) - g(w)||, and the "effective
beta-smoothness" max ||g' - g|| / ||k lr g||).

The exact part is BN's scale invariance (Kohler et al. 2019's length-direction decoupling):
in training mode BN(c W x) = BN(W x) for every c > 0, so the loss L does not depend on the
length of the weights w_j of a unit followed by BN, hence (Euler) <w_j, dL/dw_j> = 0 and
dL/dw at c w is dL/dw / c; with plain SGD every step is orthogonal to w_j, so
||w_j||^2 grows by exactly lr^2 ||g_j||^2 per step. These are checked in float64 with BN's
epsilon set to 1e-30 (torch's 1e-5 makes them hold to about 1e-5), and the norm growth during the
float32 training.
"""

from __future__ import annotations

import copy
import math
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from cnnlab.experiments import checks as C
from cnnlab.experiments._bn_noise_nets import (
    SHIFT_MAX,
    VAR_MAX,
    ShiftScale,
    VGGish,
    gradients,
    probe,
)
from cnnlab.experiments.context import Context, Outcome
from cnnlab.experiments.loop import Split, batches, mnist5k
from cnnlab.experiments.registry import register_experiment

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KINDS = ("none", "bn", "bn+noise")
LR = 0.1
Z_LIMIT = 5.0
EPS_EXACT = 1e-30  # BN's epsilon for the exact checks (torch refuses 0 in training mode)


@dataclass
class Run:
    """One trained net.

    Attributes:
        model: the net after training.
        steps: per step: the mini-batch loss.
        probes: per probe: the loss and gradient along the gradient (:func:`probe`).
        epochs: per epoch: the validation accuracy.
        growth: per conv: (growth of ||w||^2 over training, sum of lr^2 ||g||^2).
        noise_moments: ``bn+noise`` only: the first step's batch moments vs the draws.
    """

    model: VGGish
    steps: list[dict]
    probes: list[dict]
    epochs: list[dict]
    growth: list[tuple[float, float]]
    noise_moments: dict


def _train(ctx: Context, kind: str, train: Split, val: Split, epochs: int, probe_every: int) -> Run:
    torch.manual_seed(ctx.torch_seed(1))  # the same initial weights for the three nets
    noise_gen = torch.Generator().manual_seed(ctx.torch_seed(2))
    model = VGGish(kind, noise_gen)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(ctx.torch_seed(3))  # the same batches
    params = list(model.parameters())
    conv_index = [i for i, p in enumerate(params) if p.dim() == 4]
    norms0 = [float(params[i].detach().double().pow(2).sum()) for i in conv_index]
    steps_sq = [0.0] * len(conv_index)
    run = Run(model, [], [], [], [], {})
    step = 0
    for epoch in range(1, epochs + 1):
        model.train()
        for idx in batches(len(train), 128, gen):
            for noise in model.noises():
                noise.resample()
            x, y = train.x[idx], train.y[idx]
            if step == 0 and kind == "bn+noise":
                run.noise_moments = _noise_moments(model, x)
            loss, grads = gradients(model, x, y)
            if step % probe_every == 0:
                run.probes.append({"kind": kind, "step": step, **probe(model, x, y, grads, LR)})
            for p, g in zip(params, grads, strict=True):
                p.grad = g
            opt.step()
            for k, i in enumerate(conv_index):
                steps_sq[k] += LR**2 * float(grads[i].double().pow(2).sum())
            run.steps.append({"kind": kind, "step": step, "epoch": epoch, "train_loss": loss})
            step += 1
        run.epochs.append({"kind": kind, "epoch": epoch, "val_acc": _accuracy(model, val)})
    for k, i in enumerate(conv_index):
        grew = float(params[i].detach().double().pow(2).sum()) - norms0[k]
        run.growth.append((grew, steps_sq[k]))
    return run


@torch.no_grad()
def _accuracy(model: VGGish, data: Split) -> float:
    """Accuracy in eval mode (BN's running statistics; the noise at its mean)."""
    model.eval()
    return float((model(data.x).argmax(1) == data.y).double().mean())


@torch.no_grad()
def _noise_moments(model: VGGish, x: torch.Tensor) -> dict:
    """Batch mean and variance per channel after each ShiftScale vs the drawn m and s^2."""
    outs: list[tuple[ShiftScale, torch.Tensor]] = []
    saved = copy.deepcopy(model.state_dict())  # this forward must not move BN's statistics
    hooks = [n.register_forward_hook(lambda m, i, o: outs.append((m, o))) for n in model.noises()]
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()
        model.load_state_dict(saved)
    mean_err, var_err = 0.0, 0.0
    for noise, out in outs:
        out = out.double()
        mean = out.mean((0, 2, 3))
        var = out.var((0, 2, 3), unbiased=False)
        mean_err = max(mean_err, float((mean - noise.shift).abs().max()))
        var_err = max(var_err, float((var / noise.var - 1).abs().max()))
    return {"mean_error": mean_err, "var_error": var_err}


def _draw_check(model: VGGish) -> C.Check:
    """The draws' sample means and variances vs U(-a, a) and U(1, v), in standard errors."""
    shifts = torch.cat([m for n in model.noises() for m, _ in n.draws])
    variances = torch.cat([v for n in model.noises() for _, v in n.draws])
    z = 0.0
    for values, low, high in ((shifts, -SHIFT_MAX, SHIFT_MAX), (variances, 1.0, VAR_MAX)):
        n = len(values)
        mean, var = (low + high) / 2, (high - low) ** 2 / 12
        fourth = (high - low) ** 4 / 80  # E[(X - mean)^4] of a uniform
        z = max(z, abs(float(values.mean()) - mean) / math.sqrt(var / n))
        z = max(z, abs(float(values.var()) - var) / math.sqrt((fourth - var**2) / n))
    return C.within(
        f"noise draws: mean and variance of m and s^2 ({len(shifts):,} each) vs "
        f"U(-{SHIFT_MAX:g}, {SHIFT_MAX:g}), U(1, {VAR_MAX:g}) (max |z|)",
        z,
        0.0,
        Z_LIMIT,
        source="moments of the uniform distribution",
        kind="exact",
        fmt=".2f",
    )


def scale_invariance(model: VGGish, x: torch.Tensor, y: torch.Tensor) -> dict:
    """Float64 copy with BN's epsilon 1e-30, training mode: the exact consequences of BN(cWx) =
    BN(Wx) for every conv followed by BN (largest relative errors)."""
    net = copy.deepcopy(model).double()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = EPS_EXACT
    net.train()
    x = x.double()
    convs = net.convs()
    weights = [c.weight for c in convs]

    def loss_and_grads() -> tuple[torch.Tensor, torch.Tensor, list]:
        logits = net(x)
        loss = nn.functional.cross_entropy(logits, y)
        return logits.detach(), loss.detach(), list(torch.autograd.grad(loss, weights))

    logits, loss, grads = loss_and_grads()
    out = {"output": 0.0, "cosine": 0.0, "gradient": 0.0, "loss": float(loss)}
    for w, g in zip(weights, grads, strict=True):
        dots = (w * g).flatten(1).sum(1)
        cos = dots / (w.flatten(1).norm(dim=1) * g.flatten(1).norm(dim=1))
        out["cosine"] = max(out["cosine"], float(cos.detach().abs().max()))
    for k, w in enumerate(weights):
        original = w.detach().clone()
        for c in (0.1, 10.0):
            with torch.no_grad():
                w.mul_(c)
            scaled, _, new_grads = loss_and_grads()
            with torch.no_grad():
                w.copy_(original)
            out["output"] = max(out["output"], float((scaled - logits).abs().max()))
            rel = float((new_grads[k] * c - grads[k]).norm() / grads[k].norm())
            out["gradient"] = max(out["gradient"], rel)
    out["output"] /= float(logits.abs().max())
    return out


def loss_vs_scale(model: VGGish, x: torch.Tensor, y: torch.Tensor, layer: int) -> list[dict]:
    """Training-mode loss with conv ``layer``'s weights multiplied by c (float32, eps 1e-5)."""
    net = copy.deepcopy(model)
    net.train()
    w = net.convs()[layer].weight
    original = w.detach().clone()
    rows = []
    with torch.no_grad():
        for c in torch.logspace(-1, 1, 21).tolist():
            w.copy_(original * c)
            rows.append({"c": c, "loss": float(nn.functional.cross_entropy(net(x), y))})
    return rows


def _figure(steps: list[dict], probes: list[dict], scales: dict, per_epoch: int) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 7.5), layout="constrained")
    (ax_loss, ax_scale), (ax_land, ax_pred) = fig.subplots(2, 2)
    colours = {"none": "tab:red", "bn": "tab:blue", "bn+noise": "tab:green"}
    for kind, colour in colours.items():
        sel = [r["train_loss"] for r in steps if r["kind"] == kind]
        smooth = [statistics.fmean(sel[max(0, i - 9) : i + 1]) for i in range(len(sel))]
        ax_loss.plot([i / per_epoch for i in range(len(sel))], smooth, color=colour, label=kind)
        pr = [r for r in probes if r["kind"] == kind]
        at = [r["step"] / per_epoch for r in pr]
        for ax, lo, hi in (
            (ax_land, "loss_min", "loss_max"),
            (ax_pred, "grad_change_min", "grad_change_max"),
        ):
            ax.fill_between(at, [r[lo] for r in pr], [r[hi] for r in pr], color=colour, alpha=0.3)
            ax.plot(at, [r[hi] for r in pr], color=colour, lw=0.8, label=kind)
        if kind in scales:
            rows = scales[kind]
            ax_scale.plot([r["c"] for r in rows], [r["loss"] for r in rows], "o-", color=colour)
            ax_scale.lines[-1].set_label(kind)
    ax_loss.set(xlabel="epoch", ylabel="training loss (10-step mean)", yscale="log")
    ax_loss.set_title(f"same init, same batches, SGD lr {LR:g}")
    ax_scale.set(xscale="log", xlabel="c (weights of conv 3 multiplied by c)", ylabel="loss")
    ax_scale.set_title("BN: the loss ignores the weights' length")
    ax_land.set(xlabel="epoch", ylabel="loss at w - k lr g, k in 1/4..4", yscale="log")
    ax_land.set_title("loss landscape along the gradient (range)")
    ax_pred.set(xlabel="epoch", ylabel="||g(w - k lr g) - g(w)||", yscale="log")
    ax_pred.set_title("gradient predictiveness (range; lower: more predictive)")
    for ax in (ax_loss, ax_scale, ax_land, ax_pred):
        ax.legend(fontsize=8)
    return fig


@register_experiment(
    name="bn-noise",
    section="#117 如何理解归一化（Normalization）对于神经网络（深度学习）的帮助？; #19 BN 原理",
    claim="BN helps even with a covariate shift injected after it: it smooths the loss "
    "landscape (more predictive gradients) and decouples the weights' length from direction",
    reference="Santurkar et al. (2018) Fig. 2 and 4; BN's scale invariance (exact, autograd "
    "float64; Kohler et al. 2019)",
    full_seconds=81.0,
)
def bn_noise(ctx: Context) -> Outcome:
    epochs = ctx.pick(1, 10)
    probe_every = ctx.pick(2, 8)
    train, val = mnist5k(pool=2)
    if ctx.quick:
        train = Split(train.x[::8], train.y[::8])  # every class: the file is sorted by label
    per_epoch = -(-len(train) // 128)
    runs = {
        kind: _train(ctx, kind, train, val, epochs, probe_every)
        for kind in ctx.track(KINDS, "training without BN, with BN, with noisy BN")
    }
    steps = [r for run in runs.values() for r in run.steps]
    probes = [r for run in runs.values() for r in run.probes]
    x, y = val.x[::8], val.y[::8]  # 125 digits of every class
    inv = scale_invariance(runs["bn"].model, x, y)
    scales = {k: loss_vs_scale(runs[k].model, x, y, layer=2) for k in ("none", "bn")}
    noisy = runs["bn+noise"].noise_moments
    checks = [
        C.within(
            "noisy BN at the first step: |batch mean - m| per channel (max)",
            noisy["mean_error"],
            0.0,
            1e-5,
            source="exact: BN gives mean 0, then s x + m",
            kind="exact",
        ),
        C.within(
            "noisy BN at the first step: |batch variance / s^2 - 1| per channel (max)",
            noisy["var_error"],
            0.0,
            1e-3,
            source="exact up to BN's eps: variance 1, then s^2",
            kind="exact",
        ),
        _draw_check(runs["bn+noise"].model),
        C.within(
            "BN(c W x) = BN(W x): max relative change of the logits, c = 0.1 and 10",
            inv["output"],
            0.0,
            1e-10,
            source="exact (BN eps 1e-30, float64)",
            kind="exact",
        ),
        C.within(
            "<w_j, dL/dw_j> = 0 per unit: max |cosine| over every conv's output channels",
            inv["cosine"],
            0.0,
            1e-10,
            source="exact: Euler's theorem for a loss invariant to the scale (autograd float64)",
            kind="exact",
        ),
        C.within(
            "dL/dw at c w = (dL/dw) / c: max relative error",
            inv["gradient"],
            0.0,
            1e-10,
            source="exact: the loss is 0-homogeneous in w (autograd float64)",
            kind="exact",
        ),
    ]
    for kind in ("bn", "bn+noise"):
        worst = max(abs(grew / sq - 1) for grew, sq in runs[kind].growth)
        checks.append(
            C.within(
                f"{kind}: growth of ||w||^2 of each conv over training vs sum of lr^2 ||g||^2 "
                f"(max relative error)",
                worst,
                0.0,
                0.01,
                source="exact: SGD steps are orthogonal to w (up to eps and float32 rounding)",
                kind="exact",
            )
        )
    summaries = _summaries(runs, per_epoch)
    if not ctx.quick:
        checks += _published_checks(summaries)
    table = [{"net": kind, **summaries[kind]} for kind in KINDS]
    no_bn_growth = max(abs(g / s - 1) for g, s in runs["none"].growth)
    answer = _answer(ctx, summaries, inv, no_bn_growth, epochs, len(train))
    return Outcome(
        rows=steps,
        figure=_figure(steps, probes, scales, per_epoch),
        checks=checks,
        answer=answer,
        table=table,
        tables={
            "probes": probes,
            "epochs": [r for run in runs.values() for r in run.epochs],
            "scale": [{"kind": k, **r} for k in scales for r in scales[k]],
        },
    )


def _summaries(runs: dict[str, Run], per_epoch: int) -> dict:
    out = {}
    for kind, run in runs.items():
        losses = [r["train_loss"] for r in run.steps]
        accs = [r["val_acc"] for r in run.epochs]
        out[kind] = {
            "mean train loss": statistics.fmean(losses),
            "last epoch train loss": statistics.fmean(losses[-per_epoch:]),
            "val acc": accs[-1],
            "best val acc": max(accs),
            "median loss range": statistics.median(
                r["loss_max"] - r["loss_min"] for r in run.probes
            ),
            "median max grad change": statistics.median(r["grad_change_max"] for r in run.probes),
            "median beta": statistics.median(r["beta"] for r in run.probes),
        }
    return out


def _published_checks(s: dict) -> list[C.Check]:
    src = "Santurkar et al. (2018)"
    out = [
        C.within(
            f"training loss averaged over the run, {kind} minus none",
            s[kind]["mean train loss"] - s["none"]["mean train loss"],
            float("-inf"),
            0.0,
            source=f"{src} Fig. 2: {'noisy ' if kind != 'bn' else ''}BN trains faster than none",
            kind="published",
        )
        for kind in ("bn", "bn+noise")
    ]
    for key, fig in (
        ("median loss range", "4a (loss landscape)"),
        ("median max grad change", "4b (gradient predictiveness)"),
        ("median beta", "4c (effective beta-smoothness)"),
    ):
        out.append(
            C.within(
                f"{key} along the gradient, bn / none",
                s["bn"][key] / s["none"][key],
                0.0,
                1.0,
                source=f"{src} Fig. {fig}: smaller with BN",
                kind="published",
            )
        )
    return out


def _answer(
    ctx: Context, s: dict, inv: dict, no_bn_growth: float, epochs: int, n_train: int
) -> str:
    exact = (
        f"Scale invariance, exactly: multiplying a conv's weights by 0.1 or 10 changes the BN "
        f"net's output by {inv['output']:.0e} (relative), every unit's gradient is orthogonal "
        f"to its weights (|cos| <= {inv['cosine']:.0e}) and scales as 1/c, so plain SGD only "
        f"lengthens w (||w||^2 grows by exactly lr^2 ||g||^2 per step; without BN the "
        f"growth misses that sum by up to {no_bn_growth:.1f} times it) and the step on the "
        f"direction "
        f"w / ||w|| is lr / ||w||^2: BN splits the weights into a direction that matters and "
        f"a length that sets the effective learning rate."
    )
    if ctx.quick:
        return (
            f"{exact} (Quick run: {epochs} epoch on {n_train} digits is too short to compare "
            f"training; the full run checks Santurkar et al.'s Fig. 2 and 4.)"
        )
    return (
        f"Training loss averaged over the {epochs} epochs: {s['none']['mean train loss']:.3f} "
        f"without BN, {s['bn']['mean train loss']:.3f} with BN and "
        f"{s['bn+noise']['mean train loss']:.3f} with BN followed by a random shift and scale "
        f"redrawn every step (last epoch {s['none']['last epoch train loss']:.3f}, "
        f"{s['bn']['last epoch train loss']:.3f}, {s['bn+noise']['last epoch train loss']:.3f}; "
        f"validation accuracy at the end "
        + ", ".join(f"{s[k]['val acc']:.1%}" for k in KINDS)
        + ", best epoch "
        + ", ".join(f"{s[k]['best val acc']:.1%}" for k in KINDS)
        + f"): BN still helps when the next layer's input "
        f"distribution is shaken on purpose, so removing covariate shift "
        f"is not how it helps. Along the gradient the BN net's loss varies by "
        f"{s['bn']['median loss range']:.3f} (median) against "
        f"{s['none']['median loss range']:.3f} without BN, and its gradient changes by "
        f"{s['bn']['median max grad change']:.3f} against "
        f"{s['none']['median max grad change']:.3f}: a smoother landscape whose gradient "
        f"predicts where to go, which is why BN tolerates larger steps. {exact}"
    )
