"""``regularization``: eight ways to fight overfitting on 500 training digits, side by side.

One small CNN (two 3x3 conv-ReLU-maxpool stages of 16 and 32 channels, an fc layer of 128
units, dropout, the classifier; no batch norm, which regularises by itself) is trained on 500
mnist5k training digits (50 per class, average-pooled to 14x14) with SGD (lr 0.05, momentum
0.9, batch 50) for a fixed number of epochs, and evaluated on the 1,000 validation digits. The
arms, each from the same initial weights and batches per seed, use the trainer's options where
it has them (``cnnlab train`` flags in brackets):

===================  ==========================================================================
none                 nothing
l2                   weight decay 1e-3, SGD's ``weight_decay`` as ``create_optimizer`` passes
                     it (``--weight-decay``)
l1                   ``1e-4 sum |w|`` over the weights (not biases), the trainer's
                     ``penalised_weights`` and ``l1_penalty`` (``--l1``)
dropout              p = 0.5 before the classifier (Srivastava et al. 2014)
augmentation         the ``crop`` preset of :data:`cnnlab.data.transforms.PRESETS` (random crop
                     of the image padded by 1/8 of its side: shifts of up to 2 pixels), drawn
                     per image and epoch (``--augment crop``)
label smoothing      0.1, the classification task's ``CrossEntropyLoss(label_smoothing=...)``
                     (``--label-smoothing``)
early stopping       the trainer's :class:`~cnnlab.train.monitor.EarlyStopping` (patience 5,
                     validation loss) and its best weights (``best.pt``); the monitored
                     digits are 100 of the 500, so it trains on 400 (``--early-stopping``)
ensemble             the softmax probabilities of 5 unregularised nets (the ``none`` net and 4
                     more seeds) averaged (Hansen & Salamon 1990)
===================  ==========================================================================

Exact checks: label smoothing equals ``(1 - e) NLL + e mean_k(-log p_k)``; the L1 gradient is
``sign(w)`` on the weights only; a weight-decay step equals a step on ``loss + (wd/2) ||w||^2``;
dropout keeps ``x / (1 - p)`` or 0; every augmented image is the original shifted by at most 2
pixels; the early-stopping epoch replays from the recorded curve; the ensemble's cross-entropy
is at most the members' mean (Jensen: ``-log`` is convex).
"""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING

import torch
from torch import nn

from cnnlab.experiments import checks as C
from cnnlab.experiments._regularizers import (
    BATCH,
    LR,
    Recipe,
    SmallCNN,
    Trained,
    accuracy,
    confidence,
    crop_augment,
    nll,
    probabilities,
    replay_early_stop,
    train,
)
from cnnlab.experiments.context import Context, Outcome
from cnnlab.experiments.loop import Split, evaluate, mnist5k
from cnnlab.experiments.registry import register_experiment
from cnnlab.optim import create_optimizer
from cnnlab.train.regularisation import l1_penalty, penalised_weights

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ARMS = (
    "none",
    "l2",
    "l1",
    "dropout",
    "augmentation",
    "label smoothing",
    "early stopping",
    "ensemble",
)
WEIGHT_DECAY, L1, DROPOUT, SMOOTHING, PATIENCE, MEMBERS = 1e-3, 1e-4, 0.5, 0.1, 5, 5
TRAIN_SAMPLES = 500  # every 8th of the 4,000 training digits (sorted by label): 50 per class
MONITORED = 100  # early stopping: every 5th of the 500 is held out to monitor


def _exact_checks(
    nets: dict[str, Trained], val: Split, data: Split, background: float, seed: int
) -> list[C.Check]:
    checks = []
    # label smoothing: torch's loss vs the formula, float64
    with torch.no_grad():
        logits = nets["label smoothing"].model.eval()(val.x).double()
    logp = logits.log_softmax(1)
    by_hand = (1 - SMOOTHING) * -logp[torch.arange(len(val)), val.y] + SMOOTHING * -logp.mean(1)
    torch_ls = nn.CrossEntropyLoss(label_smoothing=SMOOTHING)(logits, val.y)
    checks.append(
        C.within(
            "label smoothing 0.1: CrossEntropyLoss vs (1 - e) NLL + e mean_k(-log p_k)",
            abs(float(torch_ls) - float(by_hand.mean())),
            0.0,
            1e-12,
            source="Szegedy et al. (2016) §7: q' = (1 - e) q + e / K, float64",
            kind="exact",
        )
    )
    # L1: the penalty covers the weights (not biases) and its gradient is sign(w)
    model = nets["l1"].model
    weights = penalised_weights(model)
    expected = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    grads = torch.autograd.grad(l1_penalty(weights), weights)
    sign_err = max(
        float((g - w.detach().sign()).abs().max()) for g, w in zip(grads, weights, strict=True)
    )
    checks.append(
        C.holds(
            "L1: the penalised tensors are the conv and fc weights, d(sum |w|)/dw = sign(w)",
            {id(w) for w in weights} == {id(w) for w in expected} and sign_err == 0.0,
            measured=f"{len(weights)} tensors, {sum(w.numel() for w in weights):,} weights, "
            f"max |grad - sign| {sign_err:g}",
            expected=f"{len(expected)} tensors (biases excluded), 0",
            source="the subgradient of |w| (exact)",
            kind="exact",
        )
    )
    # L2: SGD's weight_decay step equals a step on loss + wd/2 ||w||^2 (float64)
    torch.manual_seed(seed)
    a = SmallCNN().double()
    b = SmallCNN().double()
    b.load_state_dict(a.state_dict())
    x, y = data.x[:BATCH].double(), data.y[:BATCH]
    opt_a = create_optimizer("sgd", a.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    opt_b = create_optimizer("sgd", b.parameters(), lr=LR)
    nn.functional.cross_entropy(a(x), y).backward()
    penalty = sum((p**2).sum() for p in b.parameters())
    (nn.functional.cross_entropy(b(x), y) + WEIGHT_DECAY / 2 * penalty).backward()
    opt_a.step()
    opt_b.step()
    with torch.no_grad():
        l2_err = max(
            float((p - q).abs().max()) for p, q in zip(a.parameters(), b.parameters(), strict=True)
        )
    checks.append(
        C.within(
            f"L2: an SGD step with weight_decay {WEIGHT_DECAY:g} vs a step on "
            "loss + (wd/2) ||w||^2 (float64, max |difference|)",
            l2_err,
            0.0,
            1e-15,
            source="d/dw (wd/2) ||w||^2 = wd w (exact)",
            kind="exact",
        )
    )
    # dropout: inverted dropout keeps x / (1 - p) or 0 in training, the identity in eval
    drop = nets["dropout"].model.head[3]
    h = torch.rand(200, 128, generator=torch.Generator().manual_seed(seed)) + 0.5
    drop.train()
    torch.manual_seed(seed)
    y_train = drop(h)
    kept = y_train != 0
    scale_err = float((y_train[kept] - h[kept] / (1 - DROPOUT)).abs().max())
    drop.eval()
    frac = float(kept.double().mean())
    n = h.numel()
    band = 5 * math.sqrt(DROPOUT * (1 - DROPOUT) / n)
    checks.append(
        C.holds(
            f"dropout p = {DROPOUT:g}: kept units are x / (1 - p), the rest 0, eval is the "
            f"identity; kept fraction within 5 sigma of {1 - DROPOUT:g}",
            scale_err <= 1e-6 and bool(torch.equal(drop(h), h)) and abs(frac - 0.5) <= band,
            measured=f"max scale error {scale_err:.1g}, kept {frac:.4f} of {n:,}",
            expected=f"0, kept in [{0.5 - band:.4f}, {0.5 + band:.4f}]",
            source="Srivastava et al. (2014), inverted dropout (exact)",
            kind="exact",
        )
    )
    # augmentation: each image is the original shifted by at most 2 pixels, background fill
    torch.manual_seed(seed)
    originals = data.x[:50]
    shifted = crop_augment(background)(originals)
    padded = nn.functional.pad(originals, (2, 2, 2, 2), value=background)
    ok = all(
        any(
            torch.equal(shifted[i], padded[i, :, dy : dy + 14, dx : dx + 14])
            for dy in range(5)
            for dx in range(5)
        )
        for i in range(len(originals))
    )
    checks.append(
        C.holds(
            "augmentation (crop preset): each of 50 images equals its original shifted by "
            "dy, dx in [-2, 2], padded with the background",
            ok,
            measured="all 50" if ok else "not all",
            expected="all 50",
            source="RandomCrop(14, padding=2) (exact)",
            kind="exact",
        )
    )
    return checks


def _figure(rows: list[dict], means: list[dict], n_val: int) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4.5), layout="constrained")
    ax_acc, ax_loss = fig.subplots(1, 2)
    names = [m["method"] for m in means]
    ax_acc.barh(
        names,
        [100 * m["val_acc_mean"] for m in means],
        xerr=[100 * m["val_acc_std"] for m in means],
        color=["tab:gray", *["tab:blue"] * (len(means) - 1)],
    )
    for r in rows:
        ax_acc.plot(100 * r["val_acc"], names.index(r["method"]), "k.", ms=4)
    for i, m in enumerate(means):
        ax_acc.text(100 * m["val_acc_mean"], i, f"  {100 * m['val_acc_mean']:.1f}%", va="bottom")
    low = min(100 * r["val_acc"] for r in rows)
    ax_acc.set_xlim(max(0.0, low - 3), 100)
    ax_acc.invert_yaxis()
    ax_acc.set(xlabel="validation accuracy (%), mean ± std of the seeds (dots)")
    ax_acc.set_title(f"{TRAIN_SAMPLES} training digits, {n_val:,} validation digits")
    ax_loss.barh(
        names,
        [m["val_loss_mean"] for m in means],
        xerr=[m["val_loss_std"] for m in means],
        color=["tab:gray", *["tab:orange"] * (len(means) - 1)],
    )
    for i, m in enumerate(means):
        ax_loss.text(
            m["val_loss_mean"],
            i,
            f"  train {100 * m['train_acc_mean']:.1f}%, confidence {m['val_confidence_mean']:.2f}",
            va="bottom",
            fontsize=8,
        )
    ax_loss.set_xlim(0, 1.6 * max(m["val_loss_mean"] for m in means))
    ax_loss.invert_yaxis()
    ax_loss.set(xlabel="validation cross-entropy (lower: fewer confident mistakes)")
    ax_loss.set_title("validation loss; training accuracy and mean top-class probability")
    return fig


def _recipes(background: float) -> dict[str, Recipe]:
    return {
        "none": Recipe(),
        "l2": Recipe(weight_decay=WEIGHT_DECAY),
        "l1": Recipe(l1=L1),
        "dropout": Recipe(dropout=DROPOUT),
        "augmentation": Recipe(augment=crop_augment(background)),
        "label smoothing": Recipe(label_smoothing=SMOOTHING),
        "early stopping": Recipe(patience=PATIENCE),
    }


@register_experiment(
    name="regularization",
    section="#18 正则化方法; #21 BN 可以防止过拟合么？为什么; #113 深度学习调参有哪些技巧？",
    claim="with 500 training digits a CNN fits its training set perfectly and overfits; "
    "weight penalties, dropout, augmentation, label smoothing, early stopping and ensembles "
    "each trade some of that fit for validation accuracy or loss",
    reference="exact: each regulariser's definition (label smoothing, L1 subgradient, weight "
    "decay = L2 gradient, inverted dropout, crop shifts, the early-stopping rule, Jensen for "
    "ensembles); Zhang et al. (2017), Hansen & Salamon (1990), Müller et al. (2019)",
    full_seconds=190.0,
)
def regularization(ctx: Context) -> Outcome:
    full_train, val = mnist5k(pool=2)
    step = len(full_train) // TRAIN_SAMPLES
    data = Split(full_train.x[::step][:TRAIN_SAMPLES], full_train.y[::step][:TRAIN_SAMPLES])
    keep = torch.arange(len(data)) % (len(data) // MONITORED) != 0
    fit_part, monitored = Split(data.x[keep], data.y[keep]), Split(data.x[~keep], data.y[~keep])
    if ctx.quick:
        val = Split(val.x[::4], val.y[::4])
    background = float(full_train.x.min())
    seeds = ctx.pick(1, 3)
    epochs = ctx.pick(4, 40)
    recipes = _recipes(background)
    rows: list[dict] = []
    nets: dict[str, Trained] = {}
    ensemble_nll: list[tuple[float, float]] = []
    stops: list[tuple[int, int]] = []
    jobs = [(s, name) for s in range(seeds) for name in [*recipes, "ensemble"]]
    for seed, name in ctx.track(jobs, "training with each regulariser"):
        torch.manual_seed(ctx.torch_seed(100 + seed))
        init = SmallCNN().state_dict()
        batch_seed = ctx.torch_seed(200 + seed)
        if name == "ensemble":
            members = [nets["none"].model]
            for m in range(1, MEMBERS if not ctx.quick else 3):
                torch.manual_seed(ctx.torch_seed(1000 * (seed + 1) + m))
                member_init = SmallCNN().state_dict()
                member = train(Recipe(), data, epochs, member_init, ctx.torch_seed(2000 + m))
                members.append(member.model)
            val_p = [probabilities(m, val.x) for m in members]
            train_p = [probabilities(m, data.x) for m in members]
            mean_val, mean_train = torch.stack(val_p).mean(0), torch.stack(train_p).mean(0)
            ensemble_nll.append(
                (nll(mean_val, val.y), statistics.fmean(nll(p, val.y) for p in val_p))
            )
            member_acc = statistics.fmean(accuracy(p, val.y) for p in val_p)
            rows.append(
                {
                    "method": name,
                    "seed": seed,
                    "train_acc": accuracy(mean_train, data.y),
                    "val_acc": accuracy(mean_val, val.y),
                    "val_loss": ensemble_nll[-1][0],
                    "val_confidence": confidence(mean_val),
                    "epochs": epochs,
                    "members_val_acc": member_acc,
                }
            )
            continue
        recipe = recipes[name]
        on = fit_part if recipe.patience else data
        trained = train(recipe, on, epochs, init, batch_seed, monitored=monitored)
        nets[name] = trained
        if recipe.patience:
            stops.append((trained.epochs_run, replay_early_stop(trained.curve, PATIENCE)))
        _, train_acc = evaluate(trained.model, data)
        val_loss, val_acc = evaluate(trained.model, val)
        rows.append(
            {
                "method": name,
                "seed": seed,
                "train_acc": train_acc,
                "val_acc": val_acc,
                "val_loss": val_loss,
                "val_confidence": confidence(probabilities(trained.model, val.x)),
                "epochs": trained.best_epoch or trained.epochs_run,
                "members_val_acc": None,
            }
        )
    checks = _exact_checks(nets, val, data, background, ctx.torch_seed(5))
    checks.append(
        C.holds(
            f"early stopping (patience {PATIENCE}): the epoch each run stopped at (or its last) "
            "replays from its recorded validation losses",
            all(ran == (replayed or epochs) for ran, replayed in stops),
            measured=", ".join(str(ran) for ran, _ in stops),
            expected=", ".join(str(rep or epochs) for _, rep in stops),
            source="Prechelt (1998): stop after `patience` epochs without a new minimum (exact)",
            kind="exact",
        )
    )
    worst = max(ens - mean for ens, mean in ensemble_nll)
    checks.append(
        C.within(
            "ensemble: cross-entropy of the averaged probabilities minus the members' mean "
            "(worst seed)",
            worst,
            -math.inf,
            0.0,
            source="Jensen's inequality: -log is convex (exact)",
            kind="exact",
        )
    )
    means = []
    for name in ARMS:
        sel = [r for r in rows if r["method"] == name]
        entry = {"method": name}
        for key in ("train_acc", "val_acc", "val_loss", "val_confidence"):
            values = [r[key] for r in sel]
            entry[f"{key}_mean"] = statistics.fmean(values)
            entry[f"{key}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
        means.append(entry)
    by = {m["method"]: m for m in means}
    if not ctx.quick:
        checks += _published_checks(by, rows)
    table = [
        {
            "method": m["method"],
            "train acc": m["train_acc_mean"],
            f"val acc (mean of {seeds})": m["val_acc_mean"],
            "val acc (std)": m["val_acc_std"],
            "val loss": m["val_loss_mean"],
            "confidence": m["val_confidence_mean"],
        }
        for m in means
    ]
    ranked = sorted(means[1:], key=lambda m: -m["val_acc_mean"])
    none = by["none"]
    answer = (
        f"On {TRAIN_SAMPLES} training digits the unregularised CNN reaches "
        f"{none['train_acc_mean']:.1%} training and {none['val_acc_mean']:.1%} validation "
        f"accuracy (mean of {seeds} seed{'s' if seeds > 1 else ''}). Ranked by validation "
        "accuracy: "
        + ", ".join(
            f"{m['method']} {m['val_acc_mean']:.1%} "
            f"({100 * (m['val_acc_mean'] - none['val_acc_mean']):+.1f})"
            for m in ranked
        )
        + ". "
    )
    if ctx.quick:
        answer += (
            f"(Quick run: {epochs} epochs and one seed are too short to rank the regularisers; "
            f"the full run trains {len(ARMS)} methods x 3 seeds for 40 epochs.)"
        )
    else:
        aug, ls, early = by["augmentation"], by["label smoothing"], by["early stopping"]

        def points(m: dict) -> str:
            return f"{100 * (m['val_acc_mean'] - none['val_acc_mean']):+.1f} points"

        lowered = [m["method"] for m in means[1:] if m["val_loss_mean"] < none["val_loss_mean"]]
        gap = none["train_acc_mean"] - none["val_acc_mean"]
        answer += (
            f"The unregularised net overfits: {100 * gap:.1f} points between training and "
            f"validation accuracy, and a validation loss of {none['val_loss_mean']:.3f} from "
            f"overconfident mistakes (top-class probability {none['val_confidence_mean']:.3f} "
            f"on average). Lower validation loss: {', '.join(lowered) or 'none'}; on "
            f"accuracy the differences are small next to the seeds' spread "
            f"({100 * none['val_acc_std']:.1f} points). Label smoothing caps the confidence "
            f"({ls['val_confidence_mean']:.3f}) and reaches a validation loss of "
            f"{ls['val_loss_mean']:.3f}; the ensemble averages away errors its members make "
            f"independently (its cross-entropy is at most theirs, by convexity). Shifts of up "
            f"to 2 pixels change accuracy by {points(aug)}: convolutions and max pooling "
            f"already make the net nearly invariant to them, and the harder task is not "
            f"fitted in {epochs} epochs ({aug['train_acc_mean']:.1%} training accuracy). "
            f"Early stopping pays for its monitor with {MONITORED} of the {TRAIN_SAMPLES} "
            f"digits ({points(early)}): with few samples, holding data out is expensive."
        )
    return Outcome(
        rows=rows,
        figure=_figure(rows, means, len(val)),
        checks=checks,
        answer=answer,
        table=table,
        tables={"methods": means},
    )


def _published_checks(by: dict[str, dict], rows: list[dict]) -> list[C.Check]:
    return [
        C.within(
            "none: training minus validation accuracy (mean of the seeds)",
            by["none"]["train_acc_mean"] - by["none"]["val_acc_mean"],
            0.03,
            math.inf,
            source="Zhang et al. (2017): a CNN fits a small training set, the gap is overfitting",
        ),
        C.within(
            "label smoothing minus none: mean top-class probability on the validation digits",
            by["label smoothing"]["val_confidence_mean"] - by["none"]["val_confidence_mean"],
            -math.inf,
            0.0,
            source="Müller et al. (2019): label smoothing keeps the net from overconfidence",
        ),
        C.within(
            "ensemble minus its members' mean validation accuracy (mean of the seeds)",
            by["ensemble"]["val_acc_mean"]
            - statistics.fmean(r["members_val_acc"] for r in rows if r["method"] == "ensemble"),
            0.0,
            math.inf,
            source="Hansen & Salamon (1990): an ensemble beats its average member",
        ),
    ]
