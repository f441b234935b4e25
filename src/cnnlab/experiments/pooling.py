"""``pooling``: max vs average pooling under small shifts; global average pooling as the head.

1. Translation. Digits upsampled to 24x24 go through a random 5x5 convolution (8 channels,
   circular padding, ReLU), then 2x2 or 4x4 max or average pooling (stride = window). The input
   is shifted by 0..4 pixels (circularly) and the relative change of the pooled features is
   measured. Exact properties are checked: shifting by a multiple of the stride shifts the
   pooled map exactly (equivariance); global average and global max pooling do not change at
   all (invariance).
2. The classifier head. A small CNN on the 8x8 digits ends either in a fully connected layer
   over the flattened 64x4x4 map or in global average pooling followed by a 64 -> 10 layer
   (Lin et al. 2014, "Network in Network"). Their parameters (from ``analysis.summary``) equal
   C H W K + K and C K + K; both are trained and tested on digits shifted by one pixel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from cnnlab.analysis import summary
from cnnlab.experiments import checks as C
from cnnlab.experiments.context import Context, Outcome
from cnnlab.experiments.loop import digits, evaluate, train_epoch
from cnnlab.experiments.registry import register_experiment

if TYPE_CHECKING:
    from matplotlib.figure import Figure

POOLS = {"max": nn.functional.max_pool2d, "average": nn.functional.avg_pool2d}
SIZE, CHANNELS, FEAT = 24, 8, 64


def _features(ctx: Context, images: int) -> tuple[torch.Tensor, nn.Conv2d]:
    train, _ = digits(torch.float64)
    x = nn.functional.interpolate(train.x[:images], size=(SIZE, SIZE), mode="bilinear")
    torch.manual_seed(ctx.torch_seed(1))
    conv = nn.Conv2d(1, CHANNELS, 5, padding=2, padding_mode="circular").double()
    return x, conv


def _translation(ctx: Context, shifts: range, images: int) -> tuple[list[dict], float, float]:
    """Rows per (pool, window, shift), and the largest equivariance / invariance errors."""
    x, conv = _features(ctx, images)
    rows = []
    equi, inv = 0.0, 0.0
    with torch.no_grad():
        base = torch.relu(conv(x))
        for shift in ctx.track(shifts, "shifting the digits"):
            feat = torch.relu(conv(torch.roll(x, shift, dims=3)))
            for pool, fn in POOLS.items():
                for window in (2, 4):
                    a, b = fn(base, window), fn(feat, window)
                    change = float((b - a).norm() / a.norm())
                    rows.append(
                        {
                            "pool": pool,
                            "window": window,
                            "shift": shift,
                            "relative_change": change,
                            "unchanged_fraction": float((b == a).double().mean()),
                        }
                    )
                    if shift % window == 0:
                        moved = torch.roll(a, shift // window, dims=3)
                        equi = max(equi, float((b - moved).abs().max()))
                glob_a = fn(base, base.shape[-1])
                glob_b = fn(feat, feat.shape[-1])
                inv = max(inv, float((glob_a - glob_b).abs().max() / glob_a.abs().max()))
    return rows, equi, inv


class SmallCNN(nn.Module):
    """conv 3x3, max pool 2x2, conv 3x3 on 8x8 digits; then a flatten + fc or a GAP + fc head.

    Shape:
        (N, 1, 8, 8) -> (N, 10)
    """

    def __init__(self, head: str) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, FEAT, 3, padding=1),
            nn.ReLU(),
        )
        if head == "fc":
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(FEAT * 4 * 4, 10))
        else:
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(FEAT, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


HEAD_PARAMS = {"fc": FEAT * 4 * 4 * 10 + 10, "gap": FEAT * 10 + 10}  # C H W K + K, C K + K


def _heads(ctx: Context, epochs: int) -> list[dict]:
    train, val = digits()
    shifted = type(val)(torch.roll(val.x, 1, dims=3), val.y)  # every digit one pixel right
    rows = []
    for head in ctx.track(("fc", "gap"), "training the two heads"):
        torch.manual_seed(ctx.torch_seed(2))
        model = SmallCNN(head)
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        gen = torch.Generator().manual_seed(ctx.torch_seed(3))
        for _ in range(epochs):
            train_epoch(model, opt, train, 64, gen)
        report = summary(model, (1, 8, 8))
        rows.append(
            {
                "head": head,
                "head_params": report["head"].params,
                "head_params_formula": HEAD_PARAMS[head],
                "total_params": report.total_params,
                "val_acc": evaluate(model, val)[1],
                "val_acc_shifted_1px": evaluate(model, shifted)[1],
            }
        )
    return rows


def _figure(rows: list[dict], heads: list[dict]) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4), layout="constrained")
    ax_t, ax_u, ax_h = fig.subplots(1, 3)
    for pool, colour in (("max", "tab:red"), ("average", "tab:blue")):
        for window, style in ((2, "o-"), (4, "s--")):
            sel = [r for r in rows if r["pool"] == pool and r["window"] == window]
            shifts = [r["shift"] for r in sel]
            ax_t.plot(shifts, [r["relative_change"] for r in sel], style, color=colour)
            ax_t.lines[-1].set_label(f"{pool} {window}x{window}")
            ax_u.plot(shifts, [r["unchanged_fraction"] for r in sel], style, color=colour)
    ax_t.set(xlabel="shift (pixels)", ylabel="|P(shifted) - P(x)| / |P(x)|")
    ax_t.set_title("change of pooled features (stride = window)")
    ax_t.legend(fontsize=8)
    ax_u.set(xlabel="shift (pixels)", ylabel="share of pooled values unchanged")
    ax_u.set_title("exactly equal outputs")
    names = [f"{h['head']}\n{h['head_params']:,} params" for h in heads]
    width = 0.38
    pos = range(len(heads))
    ax_h.bar([p - width / 2 for p in pos], [h["val_acc"] for h in heads], width, label="val")
    ax_h.bar(
        [p + width / 2 for p in pos],
        [h["val_acc_shifted_1px"] for h in heads],
        width,
        label="val shifted 1 px",
    )
    ax_h.set_xticks(list(pos), names)
    ax_h.set(ylabel="accuracy", ylim=(0, 1), title="classifier head on digits")
    ax_h.legend(fontsize=8, loc="lower right")
    return fig


@register_experiment(
    name="pooling",
    section="#84 为什么降采用使用max pooling，而分类使用average pooling; #10-13 池化; "
    "#82 Pooling层原理",
    claim="pooling buys tolerance to small shifts (max keeps the peak, so more outputs stay "
    "equal); global average pooling replaces a huge fc head at a fraction of the parameters",
    reference="exact shift equivariance / invariance; Lin et al. (2014) GAP head; "
    "parameter counts by analysis.summary vs C H W K + K and C K + K",
    full_seconds=6.0,
)
def pooling(ctx: Context) -> Outcome:
    rows, equi, inv = _translation(ctx, range(ctx.pick(3, 5)), images=ctx.pick(64, 400))
    heads = _heads(ctx, epochs=ctx.pick(2, 15))
    checks = [
        C.within(
            "shift by a multiple of the stride shifts the pooled map (max abs error)",
            equi,
            0.0,
            1e-12,
            source="exact: pooling with stride s commutes with shifts by k s",
            kind="exact",
        ),
        C.within(
            "global max / average pooling under any circular shift (max rel change)",
            inv,
            0.0,
            1e-12,
            source="exact: invariance of a global statistic",
            kind="exact",
        ),
    ]
    for h in heads:
        checks.append(
            C.close(
                f"{h['head']} head: parameters from analysis.summary",
                h["head_params"],
                h["head_params_formula"],
                source="C H W K + K (fc) / C K + K (GAP), C = 64, H = W = 4, K = 10",
                fmt="d",
            )
        )
    one = {(r["pool"], r["window"]): r for r in rows if r["shift"] == 1}
    by = {h["head"]: h for h in heads}
    table = [
        {
            "pooling": f"{p} {w}x{w}",
            "change at 1 px": one[(p, w)]["relative_change"],
            "unchanged at 1 px": one[(p, w)]["unchanged_fraction"],
        }
        for p in POOLS
        for w in (2, 4)
    ] + [
        {
            "pooling": f"{h['head']} head ({h['head_params']:,} params)",
            "change at 1 px": None,
            "unchanged at 1 px": None,
            "val acc": h["val_acc"],
            "val acc, 1 px shift": h["val_acc_shifted_1px"],
        }
        for h in heads
    ]
    answer = (
        f"Shifted by one pixel, {one[('max', 2)]['unchanged_fraction']:.0%} of the 2x2 "
        f"max-pooled values stay exactly equal (the maximum stays inside its window) against "
        f"{one[('average', 2)]['unchanged_fraction']:.0%} of the averages; the relative change "
        f"is {one[('max', 2)]['relative_change']:.3f} for max and "
        f"{one[('average', 2)]['relative_change']:.3f} for average. Max pooling keeps the "
        f"strongest response of a detector wherever it sits in the window, which is why it "
        f"downsamples inside the network; a global average over the whole map is exactly "
        f"shift-invariant and has no weights: the GAP head needs {by['gap']['head_params']:,} "
        f"parameters instead of {by['fc']['head_params']:,} and reaches "
        f"{by['gap']['val_acc']:.1%} validation accuracy ({by['gap']['val_acc_shifted_1px']:.1%} "
        f"on digits shifted one pixel) against {by['fc']['val_acc']:.1%} "
        f"({by['fc']['val_acc_shifted_1px']:.1%}) for the fc head."
    )
    return Outcome(
        rows=rows,
        figure=_figure(rows, heads),
        checks=checks,
        answer=answer,
        table=table,
        tables={"heads": heads},
    )
