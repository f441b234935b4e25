"""``lr-schedules``: every schedule of :func:`~cnnlab.train.build_scheduler`, and the LR range test.

Three parts:

1. Every schedule of :data:`~cnnlab.train.SCHEDULERS` (and cosine after a linear warmup) is
   stepped through a run of 30 epochs x 10 iterations at lr 0.1 (SGD, momentum 0.9) and its
   learning rate per iteration compared with the closed form (exact)::

       step         lr gamma^floor(t / (s S))                   (s = epochs // 3, gamma = 0.1)
       multistep    lr gamma^#{m : m S <= t}                    (m = epochs/2, 3 epochs/4)
       cosine       eta + (lr - eta) (1 + cos(pi t / (E S))) / 2
       exponential  lr gamma^(t / S)                            (gamma = 0.9 per epoch)
       onecycle     lr/25 -> lr over 30% of the run, then -> lr/25e4, both halves of a cosine
       warmup       lr (0.01 + 0.99 t / (W S)) for t < W S, then the schedule from t - W S
       plateau      lr times 0.1 after `patience` epochs without a relative improvement of 1e-4

   and with the torch scheduler built directly from iteration counts (``StepLR(step_size=s S)``
   ...: :func:`build_scheduler` only converts epochs to iterations).
2. The learning-rate range test (Smith 2017, §3.3): one short run on the 8x8 digits in which
   the rate grows geometrically from 1e-5 (up to 100) at every step; the smoothed loss falls,
   bottoms out and explodes. The suggested rate is a tenth of the rate at the minimum (the
   rule of thumb of fastai's ``lr_find``); a grid of peak rates trained the same way (cosine
   decay) checks that it is close to the best.
3. Every schedule trains the digits CNN at the suggested rate (same initial weights and
   batches), for the validation accuracy each reaches.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.optim import lr_scheduler as torch_sched

from cnnlab.experiments import checks as C
from cnnlab.experiments.context import Context, Outcome
from cnnlab.experiments.loop import Split, batches, digits, evaluate
from cnnlab.experiments.registry import register_experiment
from cnnlab.models import create_model
from cnnlab.train.schedules import SCHEDULERS, WARMUP_START_FACTOR, build_scheduler, is_per_epoch

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LR = 0.1
EPOCHS, STEPS = 30, 10  # the schedules' plot: 30 epochs of 10 iterations
WARMUP = EPOCHS // 10  # the plot's warmup epochs
PATIENCE = 3
# A validation loss that improves for 10 epochs, then stalls (drives ``plateau``).
PLATEAU_SCORES = [1.0 / (1 + e) if e < 10 else 0.1 for e in range(EPOCHS)]
RANGE = (1e-5, 100.0)  # the range test's first and last learning rate
DIVERGED = 4.0  # the range test stops when the smoothed loss exceeds 4 x its minimum
BATCH = 64
MOMENTUM = 0.9


def schedule_names() -> list[str]:
    """Every name of :data:`SCHEDULERS`, plus ``cosine+warmup``."""
    return [*SCHEDULERS, "cosine+warmup"]


def _build(optimizer: torch.optim.Optimizer, name: str, epochs: int, steps: int):
    """The schedule ``name`` of :func:`schedule_names`; the warmup is a tenth of the epochs
    (at least one)."""
    if name == "cosine+warmup":
        warmup = max(1, epochs // 10)
        return build_scheduler(
            optimizer, "cosine", epochs=epochs, steps_per_epoch=steps, warmup_epochs=warmup
        )
    options = {"patience": PATIENCE} if name == "plateau" else {}
    return build_scheduler(optimizer, name, epochs=epochs, steps_per_epoch=steps, **options)


def _sgd(lr: float = LR) -> torch.optim.SGD:
    return torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=lr, momentum=MOMENTUM)


def trace(
    make: Callable[[torch.optim.Optimizer], object], per_epoch: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``(lr, momentum)`` used at each of the EPOCHS x STEPS optimizer steps of a schedule.

    ``make(optimizer)`` builds the scheduler; a per-epoch one (plateau) is stepped with
    :data:`PLATEAU_SCORES` at the end of each epoch, the others after every step.
    """
    opt = _sgd()
    sched = make(opt)
    lrs, moms = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no optimizer.step(): nothing to learn
        for epoch in range(EPOCHS):
            for _ in range(STEPS):
                lrs.append(opt.param_groups[0]["lr"])
                moms.append(opt.param_groups[0]["momentum"])
                if not per_epoch:
                    sched.step()
            if per_epoch:
                sched.step(PLATEAU_SCORES[epoch])
    return np.array(lrs), np.array(moms)


def _cos(start: float, end: float, pct: float) -> float:
    return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)


def _multistep(t: np.ndarray) -> np.ndarray:
    marks = np.array([EPOCHS // 2, 3 * EPOCHS // 4]) * STEPS
    return LR * 0.1 ** (t[:, None] >= marks[None, :]).sum(1)


def _onecycle(t: np.ndarray) -> np.ndarray:
    lo, hi = LR / 25, LR / 25 / 1e4  # div_factor 25, final_div_factor 1e4
    up, last = 0.3 * len(t) - 1, len(t) - 1  # the peak's step (pct_start 0.3)
    return np.array(
        [_cos(lo, LR, s / up) if s <= up else _cos(LR, hi, (s - up) / (last - up)) for s in t]
    )


def _warmup_cosine(t: np.ndarray) -> np.ndarray:
    w = WARMUP * STEPS
    main = LR * (1 + np.cos(np.pi * (t - w) / (len(t) - w))) / 2
    warm = LR * (WARMUP_START_FACTOR + (1 - WARMUP_START_FACTOR) * t / w)
    return np.where(t < w, warm, main)


def _plateau(t: np.ndarray) -> np.ndarray:
    # ReduceLROnPlateau's rule: a relative improvement of 1e-4 resets the count of bad epochs;
    # more than `patience` bad epochs in a row multiply the lr by 0.1.
    lr, best, bad, out = LR, math.inf, 0, []
    for score in PLATEAU_SCORES:
        out += [lr] * STEPS
        if score < best * (1 - 1e-4):
            best, bad = score, 0
        else:
            bad += 1
        if bad > PATIENCE:
            lr, bad = lr * 0.1, 0
    return np.array(out)


CLOSED_FORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda t: np.full(len(t), LR),
    "step": lambda t: LR * 0.1 ** np.floor(t / (EPOCHS // 3 * STEPS)),
    "multistep": _multistep,
    "cosine": lambda t: LR * (1 + np.cos(np.pi * t / len(t))) / 2,
    "exponential": lambda t: LR * 0.9 ** (t / STEPS),
    "onecycle": _onecycle,
    "plateau": _plateau,
    "cosine+warmup": _warmup_cosine,
}
"""Each schedule's learning rate at the steps ``t = 0 .. EPOCHS * STEPS - 1``, written from the
definitions (module docstring), not by stepping torch."""


def closed_form(name: str) -> np.ndarray:
    """The closed form of schedule ``name`` over the EPOCHS x STEPS steps."""
    return CLOSED_FORMS[name](np.arange(EPOCHS * STEPS, dtype=float))


def torch_direct(name: str) -> Callable[[torch.optim.Optimizer], object]:
    """The torch scheduler of ``name`` built directly, with iteration counts."""
    total = EPOCHS * STEPS
    table: dict[str, Callable[[torch.optim.Optimizer], object]] = {
        "none": lambda o: torch_sched.ConstantLR(o, factor=1.0, total_iters=0),
        "step": lambda o: torch_sched.StepLR(o, step_size=EPOCHS // 3 * STEPS, gamma=0.1),
        "multistep": lambda o: torch_sched.MultiStepLR(
            o, milestones=[EPOCHS // 2 * STEPS, 3 * EPOCHS // 4 * STEPS], gamma=0.1
        ),
        "cosine": lambda o: torch_sched.CosineAnnealingLR(o, T_max=total),
        "exponential": lambda o: torch_sched.ExponentialLR(o, gamma=0.9 ** (1 / STEPS)),
        "onecycle": lambda o: torch_sched.OneCycleLR(o, max_lr=LR, total_steps=total),
        "plateau": lambda o: torch_sched.ReduceLROnPlateau(o, patience=PATIENCE),
        "cosine+warmup": lambda o: torch_sched.SequentialLR(
            o,
            [
                torch_sched.LinearLR(
                    o, start_factor=WARMUP_START_FACTOR, total_iters=WARMUP * STEPS
                ),
                torch_sched.CosineAnnealingLR(o, T_max=total - WARMUP * STEPS),
            ],
            milestones=[WARMUP * STEPS],
        ),
    }
    return table[name]


def range_test(
    train: Split, iterations: int, seed: int, init: dict[str, torch.Tensor]
) -> list[dict]:
    """Smith's range test: lr from RANGE[0] to RANGE[1] geometrically, one batch per step.

    Returns one row per step (``lr``, ``loss``, ``smoothed``: the bias-corrected exponential
    moving average of the loss over about a third of a decade of rates, so that its lag shifts
    the minimum by little); stops after the first step whose smoothed loss exceeds DIVERGED x
    the lowest one.
    """
    smooth = smoothing(iterations)
    model = _model(init)
    opt = torch.optim.SGD(model.parameters(), lr=RANGE[0], momentum=MOMENTUM)
    factor = (RANGE[1] / RANGE[0]) ** (1 / (iterations - 1))
    gen = torch.Generator().manual_seed(seed)
    rows: list[dict] = []
    avg, best = 0.0, math.inf
    model.train()
    while len(rows) < iterations:
        for idx in batches(len(train), BATCH, gen):
            lr = RANGE[0] * factor ** len(rows)
            opt.param_groups[0]["lr"] = lr
            opt.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(model(train.x[idx]), train.y[idx])
            loss.backward()
            opt.step()
            value = float(loss.detach())
            value = value if math.isfinite(value) else 1e9
            avg = smooth * avg + (1 - smooth) * value
            smoothed = avg / (1 - smooth ** (len(rows) + 1))
            best = min(best, smoothed)
            rows.append({"step": len(rows), "lr": lr, "loss": value, "smoothed": smoothed})
            if smoothed > DIVERGED * best or len(rows) == iterations:
                return rows
    return rows


def smoothing(iterations: int) -> float:
    """The range test's moving-average weight: a window of a third of a decade of rates."""
    per_decade = (iterations - 1) / math.log10(RANGE[1] / RANGE[0])
    return 1 - 3 / per_decade


def suggest(rows: list[dict]) -> tuple[float, float, float]:
    """``(lr at the minimum, suggested = a tenth of it, lr of the steepest descent)``."""
    loss = np.array([r["smoothed"] for r in rows])
    lrs = np.array([r["lr"] for r in rows])
    at = int(loss.argmin())
    slope = np.gradient(loss[: at + 1], np.log(lrs[: at + 1])) if at > 1 else np.zeros(1)
    return float(lrs[at]), float(lrs[at] / 10), float(lrs[int(slope.argmin())])


def _model(init: dict[str, torch.Tensor] | None = None) -> nn.Module:
    model = create_model("digits_cnn", num_classes=10, in_chans=1, width=16)
    if init is not None:
        model.load_state_dict(init)
    return model


def fit(
    train: Split,
    val: Split,
    init: dict[str, torch.Tensor],
    lr: float,
    epochs: int,
    seed: int,
    schedule: str = "none",
) -> dict:
    """Train the digits CNN from ``init`` with SGD (momentum 0.9) and a schedule of
    :func:`build_scheduler`; the validation loss drives ``plateau``."""
    model = _model(init)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    steps = -(-len(train) // BATCH)
    sched = _build(opt, schedule, epochs, steps)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        for idx in batches(len(train), BATCH, gen):
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(train.x[idx]), train.y[idx]).backward()
            opt.step()
            if not is_per_epoch(sched):
                sched.step()
        if is_per_epoch(sched):
            sched.step(evaluate(model, val)[0])
    train_loss, _ = evaluate(model, train)
    val_loss, val_acc = evaluate(model, val)
    return {"train_loss": train_loss, "val_loss": val_loss, "val_acc": val_acc}


def _figure(
    traces: dict[str, np.ndarray],
    moms: np.ndarray,
    trained: list[dict],
    sweep: list[dict],
    grid: list[dict],
    found: tuple[float, float, float],
) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 8.5), layout="constrained")
    (ax_s, ax_t), (ax_r, ax_g) = fig.subplots(2, 2)
    epochs = np.arange(EPOCHS * STEPS) / STEPS
    for name, lrs in traces.items():
        ax_s.plot(epochs, lrs, lw=1.5, label=name, ls="--" if name == "plateau" else "-")
    ax_m = ax_s.twinx()
    ax_m.plot(epochs, moms, color="gray", lw=0.8, ls=":")
    ax_m.set_ylabel("onecycle momentum (dotted)", color="gray")
    ax_s.set(xlabel="epoch", ylabel="learning rate", title="build_scheduler: every schedule")
    ax_s.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    names = [r["schedule"] for r in trained]
    ax_t.barh(names, [100 * r["val_acc"] for r in trained], color="tab:blue")
    for i, r in enumerate(trained):
        ax_t.text(100 * r["val_acc"], i, f" {100 * r['val_acc']:.1f}%", va="center", fontsize=8)
    low = min(100 * r["val_acc"] for r in trained)
    ax_t.set_xlim(max(0.0, low - 5), 100)
    ax_t.invert_yaxis()
    ax_t.set(xlabel="validation accuracy (%)")
    ax_t.set_title(f"digits CNN at the suggested lr {found[1]:.3g}, each schedule", fontsize=10)
    lrs = [r["lr"] for r in sweep]
    ax_r.semilogx(lrs, [r["loss"] for r in sweep], color="tab:gray", lw=0.6, label="loss")
    ax_r.semilogx(lrs, [r["smoothed"] for r in sweep], color="tab:blue", label="smoothed")
    ax_r.axvline(found[0], color="tab:red", ls=":", label=f"minimum {found[0]:.3g}")
    ax_r.axvline(found[1], color="tab:green", ls="--", label=f"suggested {found[1]:.3g}")
    top = 2 * max(r["smoothed"] for r in sweep[: max(len(sweep) // 4, 1)])
    ax_r.set_ylim(0, top)
    ax_r.set(xlabel="learning rate (grows every step)", ylabel="training loss")
    ax_r.set_title("learning-rate range test (Smith 2017), digits", fontsize=10)
    ax_r.legend(fontsize=8)
    ax_g.semilogx([r["lr"] for r in grid], [100 * r["val_acc"] for r in grid], "o-", label="rates")
    ax_g.axvline(found[1], color="tab:green", ls="--", label="suggested")
    ax_g.set(xlabel="peak learning rate (cosine decay)", ylabel="validation accuracy (%)")
    ax_g.set_title("the same training at other rates: where the suggestion lands", fontsize=10)
    ax_g.legend(fontsize=8)
    return fig


@register_experiment(
    name="lr-schedules",
    section="#108 学习率如何调整; #113 深度学习调参有哪些技巧？",
    claim="the learning rate is set by a schedule (step, cosine, warmup, one-cycle, plateau) "
    "and its scale can be found with a range test: a tenth of the rate where the loss bottoms "
    "out trains about as well as the best of a grid of rates",
    reference="the schedules' closed forms and torch.optim.lr_scheduler; Smith (2017) "
    "'Cyclical learning rates', §3.3; Smith & Topin (2019) one-cycle; Goyal et al. (2017) warmup",
    full_seconds=90.0,
)
def lr_schedules(ctx: Context) -> Outcome:
    names = schedule_names()
    traces: dict[str, np.ndarray] = {}
    worst_closed = worst_torch = 0.0
    moms = np.zeros(0)
    rows = []
    for name in names:
        per_epoch = name == "plateau"
        lrs, mom = trace(lambda o, n=name: _build(o, n, EPOCHS, STEPS), per_epoch)
        direct, _ = trace(torch_direct(name), per_epoch)
        traces[name] = lrs
        if name == "onecycle":
            moms = mom
        worst_closed = max(worst_closed, float(np.abs(lrs - closed_form(name)).max()) / LR)
        worst_torch = max(worst_torch, float(np.abs(lrs - direct).max()) / LR)
        rows += [
            {"schedule": name, "step": i, "epoch": i / STEPS, "lr": float(v)}
            for i, v in enumerate(lrs)
        ]
    checks = [
        C.within(
            f"{len(names)} schedules x {EPOCHS * STEPS} steps: max |lr - closed form| / lr",
            worst_closed,
            0.0,
            1e-12,
            source="the schedules' formulas (module docstring)",
            kind="exact",
        ),
        C.within(
            "the same vs torch's schedulers built with iteration counts: max |difference| / lr",
            worst_torch,
            0.0,
            0.0,
            source="torch.optim.lr_scheduler (StepLR(step_size=s S), ...)",
            kind="library",
        ),
        C.close(
            "onecycle: momentum at the peak lr / at the start",
            float(moms[int(np.argmax(traces["onecycle"]))] / moms[0]),
            0.85 / 0.95,
            rtol=1e-12,
            source="Smith & Topin (2019): momentum cycled 0.95 -> 0.85 against the lr",
            kind="exact",
        ),
    ]

    train, val = digits()
    if ctx.quick:
        train = Split(train.x[::3], train.y[::3])
    torch.manual_seed(ctx.torch_seed(1))
    init = {k: v.clone() for k, v in _model().state_dict().items()}
    sweep = range_test(train, ctx.pick(80, 240), ctx.torch_seed(2), init)
    found = suggest(sweep)
    lowest = min(r["smoothed"] for r in sweep)
    checks.append(
        C.holds(
            "range test: the smoothed loss falls, bottoms out inside the sweep and explodes "
            f"(> {DIVERGED:g} x its minimum)",
            bool(
                sweep[0]["smoothed"] > lowest
                and sweep[-1]["smoothed"] > DIVERGED * lowest
                and RANGE[0] < found[0] < sweep[-1]["lr"]
            ),
            measured=f"start {sweep[0]['smoothed']:.3g}, min {lowest:.3g} at lr {found[0]:.3g}, "
            f"stop {sweep[-1]['smoothed']:.3g} at lr {sweep[-1]['lr']:.3g}",
            expected="start > min, stop > 4 min",
            source="Smith (2017) §3.3, Fig. 3",
            kind="published",
        )
    )
    epochs = ctx.pick(2, 10)
    rates = ctx.pick([1e-3, 0.1, 10.0], [10.0**k for k in np.arange(-3.5, 1.01, 0.5)])
    grid = []
    for lr in ctx.track([*rates, found[1]], "fixed learning rates"):
        result = fit(train, val, init, float(lr), epochs, ctx.torch_seed(3), schedule="cosine")
        grid.append({"lr": float(lr), "suggested": lr == found[1], **result})
    grid.sort(key=lambda r: r["lr"])
    ours = next(r for r in grid if r["suggested"])
    best = max((r for r in grid if not r["suggested"]), key=lambda r: r["val_acc"])
    if not ctx.quick:
        checks.append(
            C.within(
                f"validation accuracy at the suggested lr {found[1]:.3g} minus the best of "
                f"{len(rates)} rates ({best['lr']:.3g}), cosine decay over {epochs} epochs",
                ours["val_acc"] - best["val_acc"],
                -0.02,
                math.inf,
                source="Smith (2017) §3.3: the range test finds a good rate in one short run "
                "(at most 2 points below the best)",
            )
        )
    trained = []
    for name in ctx.track(names, "training with each schedule"):
        result = fit(train, val, init, found[1], epochs, ctx.torch_seed(3), schedule=name)
        trained.append({"schedule": name, "lr": found[1], "epochs": epochs, **result})
    table = [
        {
            "schedule": name,
            "lr at epoch 0": traces[name][0],
            f"epoch {EPOCHS // 2}": traces[name][EPOCHS // 2 * STEPS],
            f"epoch {EPOCHS - 1}": traces[name][-1],
            f"val acc ({epochs} epochs, lr {found[1]:.3g})": r["val_acc"],
        }
        for name, r in zip(names, trained, strict=True)
    ]
    top = max(trained, key=lambda r: r["val_acc"])
    answer = (
        f"Every schedule of build_scheduler follows its formula to {worst_closed:.1e} of the "
        f"learning rate and is torch's own scheduler, stepped every iteration with its "
        f"options given in epochs. The range test on the digits (lr from {RANGE[0]:g} up, "
        f"{len(sweep)} steps until the loss exploded) finds the smoothed loss lowest at lr "
        f"{found[0]:.3g} (steepest descent at {found[2]:.3g}); a tenth of it is {found[1]:.3g}. "
    )
    if ctx.quick:
        answer += (
            f"(Quick run: {epochs} epochs on {len(train)} digits are too short to compare the "
            f"rates and schedules; the full run trains {len(schedule_names())} schedules and "
            f"10 rates for 10 epochs.)"
        )
    else:
        answer += (
            f"Trained with cosine decay from it, the net reaches {ours['val_acc']:.1%} "
            f"validation accuracy in {epochs} epochs against {best['val_acc']:.1%} for the "
            f"best of {len(rates)} rates ({best['lr']:.3g}): one short run instead of a grid "
            f"search finds the scale. At that rate the schedules end within "
            f"{100 * (top['val_acc'] - min(r['val_acc'] for r in trained)):.1f} points of each "
            f"other; best: {top['schedule']} ({top['val_acc']:.1%}). How to set the learning "
            f"rate: find its scale with a range test, warm up when it is large, and let it "
            f"decay (step, cosine or one-cycle) so that the last epochs average out the "
            f"gradient noise."
        )
    return Outcome(
        rows=rows,
        figure=_figure(traces, moms, trained, sweep, grid, found),
        checks=checks,
        answer=answer,
        table=table,
        tables={"range_test": sweep, "grid": grid, "training": trained},
    )
