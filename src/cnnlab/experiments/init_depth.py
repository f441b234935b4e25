"""``init-depth``: activation and gradient scale through 30 layers for three initialisations.

A 30-layer fully connected net of width n (zero biases) is run forward on N(0, 1) inputs and
backward from a N(0, 1) gradient at its output, for weights drawn N(0, 0.01^2), Xavier
(Var = 2 / (fan_in + fan_out) = 1/n) and Kaiming (Var = 2 / fan_in), with tanh and ReLU. The
pre-activations y_l and their gradients are compared with the variance recurrence of He et al.
(2015), eq. (7) forward and (13) backward, which is Glorot & Bengio's (2010) in the linear regime:

    Var[y_l] = n Var[w] E[phi(y_{l-1})^2],   Var[dy_l] = n Var[w] E[phi'(y_l)^2] Var[dy_{l+1}],

with the expectations over y ~ N(0, Var[y]) (ReLU: exactly Var[y] / 2 and 1 / 2). For ReLU, and
for tanh in its linear regime, this holds in expectation at any width and is checked within
sampling error; for saturating tanh it is the infinite-width (mean-field) limit. All nets share
the same standard-normal matrices (scaled by each init's std), so the comparison is paired.
Then the 30-layer ReLU net of He et al.'s Fig. 3 is trained on the digits with each init.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from cnnlab.experiments import checks as C
from cnnlab.experiments.context import Context, Outcome
from cnnlab.experiments.loop import digits, evaluate, train_epoch
from cnnlab.experiments.registry import register_experiment

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEPTH = 30
Z_LIMIT = 5.0  # "within sampling error": |measured - predicted| <= 5 standard errors
TANH_MEAN_FIELD = 0.15  # saturating tanh: the recurrence is the infinite-width limit


def _gauss_mean(f: Callable[[np.ndarray], np.ndarray], var: float) -> float:
    """E[f(y)] for y ~ N(0, var) by 100-point Gauss-Hermite quadrature (f smooth)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(100)
    return float(weights @ f(math.sqrt(var) * nodes) / weights.sum())


@dataclass(frozen=True)
class Activation:
    """An activation, its derivative, and E[phi(y)^2], E[phi'(y)^2] for y ~ N(0, var)."""

    fn: Callable[[torch.Tensor], torch.Tensor]
    second_moment: Callable[[float], float]
    grad_second_moment: Callable[[float], float]


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation(
        torch.tanh,
        lambda var: _gauss_mean(lambda y: np.tanh(y) ** 2, var),
        lambda var: _gauss_mean(lambda y: (1 - np.tanh(y) ** 2) ** 2, var),
    ),
    # a symmetric y is positive half the time: E[relu(y)^2] = Var[y] / 2, E[relu'(y)^2] = 1/2
    "relu": Activation(torch.relu, lambda var: var / 2, lambda var: 0.5),
}

# init -> std of the weights of an n x n layer
INITS: dict[str, Callable[[int], float]] = {
    "normal-0.01": lambda n: 0.01,
    "xavier": lambda n: math.sqrt(2.0 / (n + n)),
    "kaiming": lambda n: math.sqrt(2.0 / n),
}


def predicted_variances(
    width: int, std: float, act: Activation, depth: int = DEPTH
) -> tuple[np.ndarray, np.ndarray]:
    """He et al.'s recurrences: Var[y_l] and Var[dL/dy_l] for l = 1..depth (input var 1)."""
    gain = width * std**2
    fwd = [gain * 1.0]
    for _ in range(1, depth):
        fwd.append(gain * act.second_moment(fwd[-1]))
    bwd = [1.0] * depth
    for i in range(depth - 2, -1, -1):
        bwd[i] = gain * act.grad_second_moment(fwd[i]) * bwd[i + 1]
    return np.array(fwd), np.array(bwd)


def measure(
    gauss: list[torch.Tensor], x: torch.Tensor, g_out: torch.Tensor, std: float, act: Activation
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean squares of y_l and dL/dy_l per net, with L = <g_out, y_depth> (autograd).

    Shape:
        gauss: depth tensors (R, n, n); x, g_out: (R, B, n); returns two (depth, R).
    """
    ys = []
    h = x.detach().requires_grad_()
    for g in gauss:
        y = torch.bmm(h, (std * g).mT)
        y.retain_grad()
        ys.append(y)
        h = act.fn(y)
    (ys[-1] * g_out).sum().backward()
    fwd = torch.stack([(y.detach() ** 2).mean((1, 2)) for y in ys])
    bwd = torch.stack([(y.grad**2).mean((1, 2)) for y in ys])  # type: ignore[operator]
    return fwd, bwd


def _fc_net(init: str, width: int, depth: int = DEPTH) -> nn.Sequential:
    dims = [64] + [width] * (depth - 1) + [10]
    layers: list[nn.Module] = [nn.Flatten()]
    for i in range(depth):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < depth - 1:
            layers.append(nn.ReLU())
    net = nn.Sequential(*layers)
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)
            if init == "kaiming":
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            elif init == "xavier":
                nn.init.xavier_normal_(m.weight)
            else:
                nn.init.normal_(m.weight, 0.0, 0.01)
    return net


def _train(ctx: Context, epochs: int) -> tuple[list[dict], float]:
    """The 30-layer ReLU net on the digits, each init; rows per epoch and the prior's entropy."""
    train, val = digits(torch.float64)  # float64: the small init's 1e-30 stays normal
    freq = torch.bincount(train.y, minlength=10).double() / len(train)
    entropy = float(-(freq * freq.log()).sum())  # the loss of the best constant prediction
    rows = []
    for k, init in enumerate(INITS):
        torch.manual_seed(ctx.torch_seed(10 + k))
        net = _fc_net(init, width=64).double()
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        gen = torch.Generator().manual_seed(ctx.torch_seed(20 + k))
        for epoch in ctx.track(range(epochs + 1), f"training with {init} init"):
            if epoch:
                train_epoch(net, opt, train, 32, gen)
            train_loss, _ = evaluate(net, train)
            _, val_acc = evaluate(net, val)
            rows.append(
                {"init": init, "epoch": epoch, "train_loss": train_loss, "val_acc": val_acc}
            )
    return rows, entropy


def _figure(rows: list[dict], training: list[dict], entropy: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4), layout="constrained")
    ax_f, ax_b, ax_t = fig.subplots(1, 3)
    colours = {"normal-0.01": "tab:red", "xavier": "tab:blue", "kaiming": "tab:green"}
    for (init, act), colour in ((k, colours[k[0]]) for k in _combos()):
        sel = [r for r in rows if r["init"] == init and r["activation"] == act]
        layers = [r["layer"] for r in sel]
        style = "-" if act == "relu" else ":"
        label = f"{init} + {act}"
        ax_f.semilogy(layers, [r["forward_std"] for r in sel], style, color=colour, label=label)
        ax_f.semilogy(layers, [r["predicted_forward_std"] for r in sel], "k", lw=0.5, alpha=0.6)
        ax_b.semilogy(layers, [r["backward_std"] for r in sel], style, color=colour, label=label)
        ax_b.semilogy(layers, [r["predicted_backward_std"] for r in sel], "k", lw=0.5, alpha=0.6)
    ax_f.set(xlabel="layer", ylabel="std of pre-activation y_l", title="forward (black: theory)")
    ax_b.set(xlabel="layer", ylabel="std of dL/dy_l", title="backward (black: theory)")
    ax_f.legend(fontsize=7)
    for init, colour in colours.items():
        sel = [r for r in training if r["init"] == init]
        ax_t.plot([r["epoch"] for r in sel], [r["train_loss"] for r in sel], color=colour)
        ax_t.plot([], [], color=colour, label=init)
    ax_t.axhline(entropy, color="k", ls="--", lw=0.8, label=f"entropy of the labels {entropy:.4f}")
    ax_t.set(xlabel="epoch", ylabel="training loss", title="30-layer ReLU net on digits")
    ax_t.legend(fontsize=7)
    return fig


def _combos() -> list[tuple[str, str]]:
    return [(i, a) for i in INITS for a in ACTIVATIONS]


def _layer_checks(stats: dict) -> list[C.Check]:
    """One check per (init, activation): the measured variances against the recurrence.

    For ReLU the recurrence is exact in expectation at any width (y given the previous layer is
    Gaussian with mean 0, so E[relu(y)^2] = Var[y] / 2 exactly), and for tanh at N(0, 0.01^2)
    (linear regime): there the mean over the nets must be within Z_LIMIT standard errors. Tanh
    with Xavier or Kaiming saturates; the Gaussian recurrence is then the mean-field limit,
    exact only as the width grows, and is held to TANH_MEAN_FIELD relative error in the std.
    """
    out = []
    for (init, act), (fwd, bwd, pf, pb) in stats.items():
        if act == "tanh" and init != "normal-0.01":
            worst = max(
                float(np.max(np.abs(np.sqrt(m.mean(1) / p) - 1))) for m, p in ((fwd, pf), (bwd, pb))
            )
            out.append(
                C.within(
                    f"{init} + tanh: std of y_l and dL/dy_l vs the Gaussian recurrence "
                    f"(max relative error over layers)",
                    worst,
                    0.0,
                    TANH_MEAN_FIELD,
                    source="mean-field limit of He et al. eq. 7/13 (Poole et al. 2016)",
                    kind="published",
                )
            )
            continue
        z = 0.0
        for measured, predicted in ((fwd, pf), (bwd, pb)):
            mean = measured.mean(1)
            se = measured.std(1, ddof=1) / math.sqrt(measured.shape[1])
            z = max(z, float(np.max(np.abs(mean - predicted) / se)))
        out.append(
            C.within(
                f"{init} + {act}: Var[y_l], Var[dL/dy_l] vs the recurrence (max |z| over layers)",
                z,
                0.0,
                Z_LIMIT,
                source="He et al. (2015) eq. 7 and 13; Glorot & Bengio (2010)",
                kind="exact",
                fmt=".2f",
            )
        )
    return out


@register_experiment(
    name="init-depth",
    section="#6 神经网络怎样进行参数初始化？; #16-17 权重初始化方法 > Xavier",
    claim="Kaiming init keeps ReLU activations and gradients at scale through 30 layers; "
    "Xavier shrinks them by 1/sqrt(2) per layer, N(0, 0.01^2) kills them",
    reference="Glorot & Bengio (2010); He et al. (2015), eq. 7/13 and Fig. 3",
    full_seconds=69.0,
)
def init_depth(ctx: Context) -> Outcome:
    width = ctx.pick(128, 256)
    batch = ctx.pick(16, 32)
    nets = ctx.pick(8, 64)
    chunk = 8
    gen = torch.Generator().manual_seed(ctx.torch_seed(0))
    # (init, act) -> lists of (depth, chunk) measurements
    parts: dict[tuple[str, str], tuple[list, list]] = {k: ([], []) for k in _combos()}
    for _ in ctx.track(range(nets // chunk), "random 30-layer nets", total=nets // chunk):
        shape = (chunk, width, width)
        gauss = [torch.randn(shape, generator=gen, dtype=torch.float64) for _ in range(DEPTH)]
        x = torch.randn((chunk, batch, width), generator=gen, dtype=torch.float64)
        g_out = torch.randn((chunk, batch, width), generator=gen, dtype=torch.float64)
        for init, act in _combos():
            fwd, bwd = measure(gauss, x, g_out, INITS[init](width), ACTIVATIONS[act])
            parts[(init, act)][0].append(fwd)
            parts[(init, act)][1].append(bwd)
    rows: list[dict] = []
    stats = {}
    for (init, act), (fwd_parts, bwd_parts) in parts.items():
        fwd = torch.cat(fwd_parts, 1).numpy()
        bwd = torch.cat(bwd_parts, 1).numpy()
        pf, pb = predicted_variances(width, INITS[init](width), ACTIVATIONS[act])
        stats[(init, act)] = (fwd, bwd, pf, pb)
        for layer in range(DEPTH):
            rows.append(
                {
                    "init": init,
                    "activation": act,
                    "layer": layer + 1,
                    "forward_std": math.sqrt(fwd[layer].mean()),
                    "backward_std": math.sqrt(bwd[layer].mean()),
                    "predicted_forward_std": math.sqrt(pf[layer]),
                    "predicted_backward_std": math.sqrt(pb[layer]),
                    "width": width,
                }
            )
    training, entropy = _train(ctx, epochs=ctx.pick(2, 20))

    def stds(init: str, act: str, key: str) -> np.ndarray:
        return np.array([r[key] for r in rows if r["init"] == init and r["activation"] == act])

    kaiming = stds("kaiming", "relu", "forward_std")
    xavier = stds("xavier", "relu", "forward_std")
    per_layer = float((xavier[-1] / xavier[0]) ** (1 / (DEPTH - 1)))
    final = {init: [r for r in training if r["init"] == init][-1] for init in INITS}
    checks = _layer_checks(stats)
    checks += [
        C.within(
            "Kaiming + ReLU: largest / smallest forward std over 30 layers",
            float(kaiming.max() / kaiming.min()),
            1.0,
            2.0,
            source="He et al. (2015): Kaiming keeps the scale",
        ),
        C.close(
            "Xavier + ReLU: forward std ratio per layer",
            per_layer,
            1 / math.sqrt(2),
            rtol=0.01,
            source="He et al. (2015): ReLU halves the variance",
        ),
        C.within(
            "trained 30-layer ReLU net, Kaiming: training loss left the plateau",
            final["kaiming"]["train_loss"],
            0.0,
            entropy - 0.1,
            source="He et al. (2015) Fig. 3: Kaiming converges",
        ),
        C.close(
            "trained 30-layer ReLU net, N(0, 0.01^2): loss stays at the prior's entropy",
            final["normal-0.01"]["train_loss"],
            entropy,
            atol=1e-3,
            source="exact: best constant prediction; He et al. Fig. 3: small init stalls",
            kind="exact",
        ),
    ]
    table = []
    for init, act in _combos():
        sel = [r for r in rows if r["init"] == init and r["activation"] == act]
        table.append(
            {
                "init + activation": f"{init} + {act}",
                "std layer 1": sel[0]["forward_std"],
                "std layer 30": sel[-1]["forward_std"],
                "theory 30": sel[-1]["predicted_forward_std"],
                "grad std layer 1": sel[0]["backward_std"],
                "theory 1": sel[0]["predicted_backward_std"],
            }
        )
    answer = (
        f"Through 30 ReLU layers Kaiming keeps the activation std between "
        f"{kaiming.min():.2f} and {kaiming.max():.2f}; Xavier multiplies it by {per_layer:.4f} "
        f"per layer (1/sqrt(2) = 0.7071), ending at {xavier[-1]:.1e}; N(0, 0.01^2) ends near "
        f"{stds('normal-0.01', 'relu', 'forward_std')[-1]:.0e}. Trained on the digits, the "
        f"30-layer ReLU net reaches training loss {final['kaiming']['train_loss']:.3f} with "
        f"Kaiming, while N(0, 0.01^2) stays at {final['normal-0.01']['train_loss']:.4f}, the "
        f"entropy of the labels ({entropy:.4f}: nothing learned), and Xavier has barely left it "
        f"({final['xavier']['train_loss']:.4f}), as in He et al.'s Fig. 3. With tanh, Xavier "
        f"is Glorot's linear-regime choice, but tanh saturates: the std decays slowly to "
        f"{stds('xavier', 'tanh', 'forward_std')[-1]:.3f}, as the Gaussian recurrence predicts."
    )
    return Outcome(
        rows=rows,
        figure=_figure(rows, training, entropy),
        checks=checks,
        answer=answer,
        table=table,
        tables={"training": training},
    )
