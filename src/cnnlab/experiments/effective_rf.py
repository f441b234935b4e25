"""``effective-rf``: the effective receptive field is a Gaussian blob that grows like sqrt(depth).

Luo et al. (2016), "Understanding the effective receptive field in deep convolutional neural
networks": how much each input pixel influences one output unit is the gradient of that unit
with respect to the input. Through L stacked 3x3 convolutions (stride 1) the theoretical field
is (2L + 1) x (2L + 1) (``analysis.summary``), but the influence is concentrated in the middle:

* all weights 1 (one channel): the gradient is the number of paths, the L-fold convolution of
  [1, 1, 1] with itself in each axis (a multinomial), exactly; its support is the theoretical
  field and its standard deviation is sqrt(2L/3) per axis;
* random zero-mean weights without nonlinearity: the expected squared gradient is proportional
  to the same path count (distinct paths share no weight), so its radius is sqrt(2L/3) too;
* random Kaiming weights with ReLU: Luo et al. show the same sqrt(L) growth (fitted here);
* a net trained on the digits: its field is compared with the theoretical one on an image.

The radius is the standard deviation of the normalised squared-gradient map along one axis.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from cnnlab.analysis import summary
from cnnlab.experiments import checks as C
from cnnlab.experiments.context import Context, Outcome
from cnnlab.experiments.loop import Split, digits, evaluate, train_epoch
from cnnlab.experiments.registry import register_experiment

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Z_LIMIT = 5.0
MARGIN = 5  # pixels of canvas beyond the theoretical field on each side
KINDS = ("uniform", "random linear", "random relu")


def path_count(depth: int) -> np.ndarray:
    """Coefficients of (1 + z + z^2)^depth: the paths through depth 3-tap layers, per offset."""
    out = np.array([1.0])
    for _ in range(depth):
        out = np.convolve(out, [1.0, 1.0, 1.0])
    return out


def _count_radius(depth: int, power: int) -> float:
    counts = path_count(depth) ** power
    d = np.arange(len(counts)) - depth
    return float(np.sqrt((counts * d**2).sum() / counts.sum()))


# The radius each kind has in theory: all-ones weights give energy count^2 (exactly); random
# weights give E[energy] proportional to count, whose variance is 2L/3; ReLU nets are compared
# with the same sqrt(2L/3) (Luo et al.).
THEORY = {
    "uniform": lambda depth: _count_radius(depth, 2),
    "random linear": lambda depth: math.sqrt(2 * depth / 3),
    "random relu": lambda depth: math.sqrt(2 * depth / 3),
}


def conv_stack(depth: int, channels: int, kind: str) -> nn.Sequential:
    """``depth`` 3x3 convolutions (padding 1, no bias), ReLU between them for "random relu"."""
    layers: list[nn.Module] = []
    for i in range(depth):
        conv = nn.Conv2d(1 if i == 0 else channels, channels, 3, padding=1, bias=False)
        if kind == "uniform":
            nn.init.ones_(conv.weight)
        elif kind == "random linear":
            nn.init.normal_(conv.weight, 0.0, 1.0 / math.sqrt(9 * conv.in_channels))
        else:
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
        layers.append(conv)
        if kind == "random relu" and i < depth - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers).double()


def input_gradient_energy(model: nn.Module, x: torch.Tensor, unit: tuple[int, int]) -> torch.Tensor:
    """Sum over the batch and input channels of (d sum_c out[:, c, unit] / d x)^2.

    Shape:
        x: (B, C, H, W) -> (H, W)
    """
    x = x.detach().clone().requires_grad_()
    model(x)[:, :, unit[0], unit[1]].sum().backward()
    return (x.grad**2).sum((0, 1))  # type: ignore[operator]


def radius(energy: np.ndarray) -> float:
    """Standard deviation along the columns of the normalised map (centre in the middle)."""
    d = np.arange(energy.shape[-1]) - energy.shape[-1] // 2
    prob = energy.sum(0) / energy.sum()
    return float(np.sqrt((prob * d**2).sum()))


def _ratio_se(numer: np.ndarray, denom: np.ndarray) -> tuple[float, float]:
    """mean(numer) / mean(denom) and its standard error (delta method) over the nets."""
    r = numer.mean() / denom.mean()
    resid = numer - r * denom
    return float(r), float(resid.std(ddof=1) / (math.sqrt(len(numer)) * denom.mean()))


def _random_fields(ctx: Context, depths: list[int], channels: int, nets: int, batch: int):
    """Mean energy maps and radius statistics for each kind and depth."""
    gen = torch.Generator().manual_seed(ctx.torch_seed(1))
    torch.manual_seed(ctx.torch_seed(2))
    rows, maps = [], {}
    for depth in ctx.track(depths, "random deep nets"):
        size = 2 * depth + 1 + 2 * MARGIN
        centre = (size // 2, size // 2)
        d2 = (np.arange(size) - size // 2) ** 2.0
        report = summary(conv_stack(depth, 1, "uniform"), (1, size, size))
        theoretical = int(report.receptive_field.size[0])  # type: ignore[union-attr]
        for kind in KINDS:
            # the gradient of a linear net does not depend on its input: more nets, one image
            count = {"uniform": 1, "random linear": 4 * nets, "random relu": nets}[kind]
            chans = 1 if kind == "uniform" else channels
            numer, denom = np.empty(count), np.empty(count)
            total = np.zeros((size, size))
            for k in range(count):
                model = conv_stack(depth, chans, kind)
                images = batch if kind == "random relu" else 1
                x = torch.randn(images, 1, size, size, generator=gen, dtype=torch.float64)
                energy = input_gradient_energy(model, x, centre).numpy()
                total += energy / count
                numer[k], denom[k] = (energy.sum(0) * d2).sum(), energy.sum()
            r2, se2 = _ratio_se(numer, denom) if count > 1 else (numer[0] / denom[0], 0.0)
            support = np.flatnonzero(total.sum(0) > 0)
            rows.append(
                {
                    "kind": kind,
                    "depth": depth,
                    "radius": math.sqrt(r2),
                    "radius_se": se2 / (2 * math.sqrt(r2)) if r2 > 0 else 0.0,
                    "radius_theory": THEORY[kind](depth),
                    "theoretical_rf": theoretical,
                    "support_width": int(support[-1] - support[0] + 1),
                    "energy_in_central_half": _central_share(total, 2 * depth + 1),
                }
            )
            maps[(kind, depth)] = total
    return rows, maps


def _central_share(energy: np.ndarray, rf: int) -> float:
    """Share of the energy inside the central box of half the theoretical field's side."""
    c, half = energy.shape[0] // 2, max(1, rf // 4)
    return float(energy[c - half : c + half + 1, c - half : c + half + 1].sum() / energy.sum())


class DigitsFCN(nn.Module):
    """Four 3x3 convolutions (16 channels, ReLU) on 16x16 digits and a linear classifier.

    Shape:
        (N, 1, 16, 16) -> (N, 10)
    """

    def __init__(self, depth: int = 4, channels: int = 16) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(depth):
            layers += [nn.Conv2d(1 if i == 0 else channels, channels, 3, padding=1), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(channels * 16 * 16, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _trained_field(ctx: Context, epochs: int) -> dict:
    """The field of the centre unit of a digits net's last conv layer, before and after."""
    train, val = digits()

    def up(s: Split) -> Split:
        return Split(nn.functional.interpolate(s.x, size=(16, 16), mode="bilinear"), s.y)

    train16, val16 = up(train), up(val)
    torch.manual_seed(ctx.torch_seed(3))
    net = DigitsFCN()
    probe = val16.x[:200]
    before = input_gradient_energy(net.features, probe, (8, 8)).double().numpy()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(ctx.torch_seed(4))
    for _ in ctx.track(range(epochs), "training on 16x16 digits"):
        train_epoch(net, opt, train16, 64, gen)
    after = input_gradient_energy(net.features, probe, (8, 8)).double().numpy()
    report = summary(net, (1, 16, 16))
    return {
        "before": before,
        "after": after,
        "image": val16.x[0, 0].numpy(),
        "val_acc": evaluate(net, val16)[1],
        "rf": int([r for r in report.layers if r.type == "Conv2d"][-1].rf_size[0]),  # type: ignore[index]
        "radius_before": radius(before),
        "radius_after": radius(after),
    }


def _figure(rows, maps, trained, depths) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=(13, 4), layout="constrained")
    ax_i, ax_m, ax_r = fig.subplots(1, 3)
    ax_i.imshow(trained["image"], cmap="gray_r")
    field = trained["after"] / trained["after"].max()
    overlay = np.zeros((*field.shape, 4))
    overlay[..., 0] = 1.0  # red, as opaque as the field is strong
    overlay[..., 3] = 0.85 * field
    ax_i.imshow(overlay)
    rf, c = trained["rf"], 8
    ax_i.add_patch(Rectangle((c - rf / 2, c - rf / 2), rf, rf, fill=False, ec="c", lw=2))
    ax_i.set_title(
        f"trained net, centre unit: theoretical field {rf}x{rf} (cyan),\n"
        f"effective field (red), radius {trained['radius_after']:.2f} px",
        fontsize=9,
    )
    ax_i.set_axis_off()
    deep = depths[-1]
    energy = maps[("random relu", deep)]
    size = energy.shape[0]
    ax_m.imshow(energy / energy.max(), cmap="magma")
    rf = 2 * deep + 1
    ax_m.add_patch(Rectangle((MARGIN - 0.5, MARGIN - 0.5), rf, rf, fill=False, ec="c", lw=2))
    ax_m.set_title(f"random ReLU net, {deep} layers: field {rf}x{rf} (cyan)", fontsize=9)
    ax_m.set_xlim(-0.5, size - 0.5)
    ax_m.set_axis_off()
    for kind, marker in zip(KINDS, ("s", "o", "^"), strict=True):
        sel = [r for r in rows if r["kind"] == kind]
        ax_r.loglog([r["depth"] for r in sel], [r["radius"] for r in sel], marker, label=kind)
    xs = np.array(depths, dtype=float)
    ax_r.loglog(xs, np.sqrt(2 * xs / 3), "k-", lw=0.8, label="sqrt(2L/3)")
    ax_r.loglog(xs, xs, "c--", lw=1, label="theoretical half-width L")
    ax_r.set(xlabel="layers L", ylabel="radius (px)", title="effective vs theoretical field")
    ax_r.set_xticks(depths, [str(d) for d in depths])
    ax_r.set_yticks([0.5, 1, 2, 4, 8, 16], ["0.5", "1", "2", "4", "8", "16"])
    ax_r.minorticks_off()
    ax_r.legend(fontsize=8)
    return fig


@register_experiment(
    name="effective-rf",
    section="#15 感受野 > 卷积神经网络的感受野; #14 感受野计算",
    claim="the effective receptive field is a Gaussian-like blob in the middle of the "
    "theoretical field; its radius grows like sqrt(depth) while the field grows like depth",
    reference="Luo et al. (2016); the path count (exact); analysis.summary's rf_size",
    full_seconds=28.0,
)
def effective_rf(ctx: Context) -> Outcome:
    depths = ctx.pick([1, 2, 4, 8], [1, 2, 4, 8, 16])
    rows, maps = _random_fields(
        ctx, depths, channels=ctx.pick(8, 16), nets=ctx.pick(8, 24), batch=ctx.pick(4, 4)
    )
    trained = _trained_field(ctx, epochs=ctx.pick(1, 5))
    checks = []
    exact_gap = 0.0
    for depth in depths:
        counts = path_count(depth)
        exact = np.outer(counts, counts) ** 2  # one channel: energy = batch * count^2
        size = maps[("uniform", depth)].shape[0]
        measured = maps[("uniform", depth)][MARGIN : size - MARGIN, MARGIN : size - MARGIN]
        gap = measured / measured.sum() / (exact / exact.sum()) - 1
        exact_gap = max(exact_gap, float(np.abs(gap).max()))
    checks.append(
        C.within(
            "all-ones weights: gradient = (L-fold [1,1,1] convolution)^2, max rel error",
            exact_gap,
            0.0,
            1e-12,
            source="exact: the number of paths",
            kind="exact",
        )
    )
    uniform = [r for r in rows if r["kind"] == "uniform"]
    checks.append(
        C.holds(
            "gradient support width = theoretical field from summary (2L + 1)",
            all(r["support_width"] == r["theoretical_rf"] == 2 * r["depth"] + 1 for r in uniform),
            measured=", ".join(str(r["support_width"]) for r in uniform),
            expected=", ".join(str(2 * d + 1) for d in depths),
            source="analysis.summary rf_size; exact",
            kind="exact",
        )
    )
    for r in rows:
        if r["kind"] == "random linear":
            checks.append(
                C.close(
                    f"random linear, L = {r['depth']}: radius (5 standard errors)",
                    r["radius"],
                    r["radius_theory"],
                    atol=Z_LIMIT * r["radius_se"],
                    source="sqrt(2L/3): variance of a sum of L uniform {-1, 0, 1} steps",
                )
            )
    relu = [r for r in rows if r["kind"] == "random relu"]
    fit = [r for r in relu if r["depth"] >= 2]  # the law is asymptotic: leave out L = 1
    slope = float(
        np.polyfit(np.log([r["depth"] for r in fit]), np.log([r["radius"] for r in fit]), 1)[0]
    )
    checks.append(
        C.close(
            "random ReLU nets: fitted exponent of radius ~ L^a (L >= 2)",
            slope,
            0.5,
            atol=0.1,
            source="Luo et al. (2016): the ERF grows as sqrt(depth)",
            kind="published",
        )
    )
    deepest = relu[-1]
    table = [
        {
            "layers": d,
            "theoretical field": 2 * d + 1,
            **{f"radius, {r['kind']}": r["radius"] for r in rows if r["depth"] == d},
            "sqrt(2L/3)": math.sqrt(2 * d / 3),
        }
        for d in depths
    ]
    answer = (
        f"The theoretical field of L stacked 3x3 layers is 2L + 1 pixels wide, but the "
        f"influence of its pixels on the centre unit falls off like a Gaussian: all-ones "
        f"weights give exactly the multinomial path count, random weights the same shape in "
        f"expectation, and with ReLU the radius still grows as L^{slope:.2f} (Luo et al.: "
        f"sqrt(L)). After {depths[-1]} layers the field is {2 * depths[-1] + 1} pixels wide "
        f"but {deepest['energy_in_central_half']:.0%} of the gradient energy lies in its "
        f"central half. The digits net ({trained['val_acc']:.0%} validation accuracy) has a "
        f"theoretical field of {trained['rf']} pixels and an effective radius of "
        f"{trained['radius_after']:.2f} px after training ({trained['radius_before']:.2f} at "
        f"initialisation). Stacking layers widens the effective field only slowly, which is "
        f"why networks downsample and dilate."
    )
    return Outcome(
        rows=rows,
        figure=_figure(rows, maps, trained, depths),
        checks=checks,
        answer=answer,
        table=table,
        tables={
            "trained": [
                {
                    "state": state,
                    "radius": trained[f"radius_{state}"],
                    "theoretical_rf": trained["rf"],
                    "val_acc": trained["val_acc"] if state == "after" else None,
                }
                for state in ("before", "after")
            ]
        },
    )
