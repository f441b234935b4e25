"""``depth-width``: deep-narrow vs shallow-wide CNNs with the same number of parameters.

Every network has three stages at 14x14, 7x7 and 3x3 (2x2 max pooling between them) of
``k`` 3x3 conv-BN-ReLU layers each (3k convolutions: 3, 6, 12, 24), stage widths
(w, 2w, 4w), then global average pooling and a fully connected layer. For each depth the base
width w (widths rounded to integers) is the one whose parameter count is closest to a common
budget, so the shallow nets are wide and the deep ones narrow. Parameters and MACs come from
``analysis.summary`` and are checked against the hand count::

    params = sum over stages s, layers l:  9 C_in C_out + 2 C_out   (+ 10 C_3 + 10 for the fc)
    MACs   = sum over stages s, layers l:  H_s^2 9 C_in C_out       (+ 10 C_3)

(batch norm is a per-channel scale and shift: 2 parameters, no multiply-accumulate counted).
Each net is trained on the mnist5k digits (average-pooled to 14x14) with three seeds: SGD,
momentum 0.9, learning rate 0.1 with cosine decay, weight decay 5e-4, batch 128.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from cnnlab.analysis import summary
from cnnlab.experiments import checks as C
from cnnlab.experiments.context import Context, Outcome
from cnnlab.experiments.loop import Split, batches, evaluate, mnist5k
from cnnlab.experiments.registry import register_experiment

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SIZES = (14, 7, 3)  # the stages' resolution for a 14x14 input (floor after each 2x2 pool)
TOLERANCE = 0.03  # every net's parameters within 3% of the budget
BUDGET = 20_000  # parameters of every net in the full run
PER_STAGE = (1, 2, 4, 8)  # convolutions per stage in the full run: 3, 6, 12, 24 layers
SEEDS = 3


class StagedCNN(nn.Module):
    """Three stages of ``per_stage`` 3x3 conv-BN-ReLU layers, 2x2 max pooling between them.

    Args:
        per_stage: convolutions per stage (depth = 3 * per_stage).
        widths: channels of the three stages.
        in_chans, num_classes: input channels and classes.

    Shape:
        (N, in_chans, H, W) -> (N, num_classes)
    """

    def __init__(
        self,
        per_stage: int,
        widths: tuple[int, int, int],
        in_chans: int = 1,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        chans = in_chans
        for s, width in enumerate(widths):
            if s:
                layers.append(nn.MaxPool2d(2))
            for _ in range(per_stage):
                layers += [
                    nn.Conv2d(chans, width, 3, padding=1, bias=False),
                    nn.BatchNorm2d(width),
                    nn.ReLU(),
                ]
                chans = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(chans, num_classes)
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@dataclass(frozen=True)
class Design:
    """One network of the sweep: its convolutions per stage and stage widths."""

    per_stage: int
    widths: tuple[int, int, int]

    @property
    def depth(self) -> int:
        return 3 * self.per_stage

    @property
    def name(self) -> str:
        return f"{self.depth} layers, {'/'.join(map(str, self.widths))} ch"


def hand_counts(design: Design, in_chans: int = 1, num_classes: int = 10) -> tuple[int, int]:
    """``(parameters, MACs)`` of :class:`StagedCNN` at a 14x14 input, counted by hand."""
    params = macs = 0
    chans = in_chans
    for size, width in zip(SIZES, design.widths, strict=True):
        for _ in range(design.per_stage):
            params += 9 * chans * width + 2 * width
            macs += size * size * 9 * chans * width
            chans = width
    return params + num_classes * chans + num_classes, macs + num_classes * chans


def design_for(per_stage: int, budget: int) -> Design:
    """The widths (round(b), round(2b), round(4b)) whose parameter count is closest to
    ``budget``, b on a grid of 1/20."""

    def widths(b: float) -> tuple[int, int, int]:
        return (round(b), round(2 * b), round(4 * b))

    grid = [k / 20 for k in range(20, 2001)]
    best = min(grid, key=lambda b: abs(hand_counts(Design(per_stage, widths(b)))[0] - budget))
    return Design(per_stage, widths(best))


def _train(model: nn.Module, train: Split, epochs: int, seed: int) -> None:
    steps = epochs * -(-len(train) // 128)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for idx in batches(len(train), 128, gen):
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(train.x[idx]), train.y[idx]).backward()
            opt.step()
            sched.step()


def _figure(rows: list[dict], designs: list[dict]) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4), layout="constrained")
    ax_acc, ax_train, ax_cost = fig.subplots(1, 3)
    depths = [d["depth"] for d in designs]
    labels = [f"{d['depth']}\n{d['widths']}" for d in designs]
    for ax, key, title in (
        (ax_acc, "val_acc", "validation accuracy"),
        (ax_train, "train_acc", "training accuracy"),
    ):
        for r in rows:
            ax.plot(r["depth"], 100 * r[key], "o", color="tab:gray", alpha=0.6)
        means = [100 * d[f"{key}_mean"] for d in designs]
        ax.plot(depths, means, "s-", color="tab:blue", label="mean of the seeds")
        ax.set_xscale("log", base=2)
        ax.set_xticks(depths, labels)
        ax.set(xlabel="conv layers / stage widths", ylabel=f"{title} (%)")
        ax.set_title(f"{title}, equal parameters")
        ax.legend(fontsize=8)
    ax_cost.bar(range(len(designs)), [d["macs"] / 1e6 for d in designs], color="tab:orange")
    for i, d in enumerate(designs):
        ax_cost.text(
            i, d["macs"] / 1e6, f"{d['params']:,} params", ha="center", va="bottom", fontsize=8
        )
    ax_cost.set_xticks(range(len(designs)), labels)
    ax_cost.set(xlabel="conv layers / stage widths", ylabel="MACs per image (millions)")
    ax_cost.set_title("cost (analysis.summary)")
    return fig


@register_experiment(
    name="depth-width",
    section="#109 神经网络的深度和宽度作用; #62 ResNet网络越来越深，准确率会不会提升？",
    claim="at the same number of parameters a deeper, narrower CNN is more accurate than a "
    "shallow, wide one, up to a depth where the layers get too narrow and too deep to train",
    reference="parameters and MACs by hand; Urban et al. (2017), Eldan & Shamir (2016); "
    "He et al. (2016) for the deepest plain nets",
    full_seconds=95.0,
)
def depth_width(ctx: Context) -> Outcome:
    budget = ctx.pick(5000, BUDGET)
    per_stages = ctx.pick((1, 4), PER_STAGE)
    seeds = ctx.pick(2, SEEDS)
    epochs = ctx.pick(1, 8)
    train, val = mnist5k(pool=2)
    if ctx.quick:
        train = Split(train.x[::4], train.y[::4])  # every class: the file is sorted by label
    checks: list[C.Check] = []
    designs = []
    for per in per_stages:
        design = design_for(per, budget)
        report = summary(StagedCNN(per, design.widths), (1, 14, 14))
        params, macs = hand_counts(design)
        checks += [
            C.close(
                f"{design.name}: parameters by analysis.summary",
                report.total_params,
                params,
                source="hand count: 9 C_in C_out + 2 C_out per conv-BN, 10 C + 10 for the fc",
                fmt="d",
            ),
            C.close(
                f"{design.name}: MACs by analysis.summary",
                report.total_macs,
                macs,
                source="hand count: H^2 9 C_in C_out per conv, 10 C for the fc",
                fmt="d",
            ),
        ]
        designs.append(
            {
                "depth": design.depth,
                "widths": "/".join(map(str, design.widths)),
                "params": report.total_params,
                "macs": report.total_macs,
            }
        )
    spread = max(abs(d["params"] / budget - 1) for d in designs)
    checks.append(
        C.within(
            f"largest relative distance of a net's parameters from the budget {budget:,}",
            spread,
            0.0,
            TOLERANCE,
            source="the design: equal parameters",
            kind="exact",
        )
    )
    rows = []
    jobs = [(per, s) for per in per_stages for s in range(seeds)]
    for per, seed in ctx.track(jobs, "training deep-narrow and shallow-wide nets"):
        design = design_for(per, budget)
        torch.manual_seed(ctx.torch_seed(10 + seed))
        model = StagedCNN(per, design.widths)
        _train(model, train, epochs, ctx.torch_seed(20 + seed))
        train_loss, train_acc = evaluate(model, train)
        val_loss, val_acc = evaluate(model, val)
        rows.append(
            {
                "depth": design.depth,
                "widths": "/".join(map(str, design.widths)),
                "seed": seed,
                "params": next(d["params"] for d in designs if d["depth"] == design.depth),
                "train_acc": train_acc,
                "val_acc": val_acc,
                "train_loss": train_loss,
                "val_loss": val_loss,
            }
        )
    for d in designs:
        sel = [r for r in rows if r["depth"] == d["depth"]]
        for key in ("train_acc", "val_acc"):
            values = [r[key] for r in sel]
            d[f"{key}_mean"] = statistics.fmean(values)
            d[f"{key}_std"] = statistics.stdev(values)
    by = {d["depth"]: d for d in designs}
    if not ctx.quick:
        checks += _accuracy_checks(by)
    table = [
        {
            "conv layers": d["depth"],
            "stage widths": d["widths"],
            "params": d["params"],
            "MACs": d["macs"],
            "train acc (mean)": d["train_acc_mean"],
            "val acc (mean)": d["val_acc_mean"],
            "val acc (std)": d["val_acc_std"],
        }
        for d in designs
    ]
    shallow, deep = designs[0], designs[-1]
    cost = (
        f"At {budget:,} parameters the {shallow['depth']}-layer net has stage widths "
        f"{shallow['widths']} and {shallow['macs'] / 1e6:.2f} M MACs per image, the "
        f"{deep['depth']}-layer one {deep['widths']} and {deep['macs'] / 1e6:.2f} M MACs: with "
        f"the same parameters a deeper net reuses them at more positions."
    )
    if ctx.quick:
        answer = (
            f"{cost} (Quick run: {epochs} epoch on {len(train):,} digits is too short to "
            f"compare accuracies; the full run trains {len(PER_STAGE)} depths x {SEEDS} seeds.)"
        )
    else:
        best = max(designs, key=lambda d: d["val_acc_mean"])
        answer = (
            f"{cost} Mean validation accuracy over {seeds} seeds: "
            + ", ".join(
                f"{d['val_acc_mean']:.2%} ± {d['val_acc_std']:.2%} ({d['depth']} layers)"
                for d in designs
            )
            + f". Depth helps at a fixed budget up to {best['depth']} layers: more layers "
            f"compose more non-linear features from the same weights. Beyond, the layers are "
            f"too narrow ({deep['widths']} channels) and the plain net too deep to optimise: "
            f"the {deep['depth']}-layer net fits even its training digits worse "
            f"({deep['train_acc_mean']:.2%} training accuracy), the degradation that residual "
            f"connections remove (experiment degradation)."
        )
    return Outcome(
        rows=rows,
        figure=_figure(rows, designs),
        checks=checks,
        answer=answer,
        table=table,
        tables={"designs": designs},
    )


def _accuracy_checks(by: dict[int, dict]) -> list[C.Check]:
    return [
        C.within(
            "mean validation accuracy, 6 minus 3 conv layers (equal parameters)",
            by[6]["val_acc_mean"] - by[3]["val_acc_mean"],
            0.0,
            float("inf"),
            source="Urban et al. (2017): at equal parameters deeper conv nets are more accurate",
        ),
        C.within(
            "mean training accuracy, 24 minus 6 conv layers (equal parameters)",
            by[24]["train_acc_mean"] - by[6]["train_acc_mean"],
            float("-inf"),
            0.0,
            source="He et al. (2016): a too-deep plain net fits its training set worse",
        ),
    ]
