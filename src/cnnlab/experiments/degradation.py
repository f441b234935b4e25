"""``degradation``: plain vs residual CNNs of increasing depth on mnist5k (He et al. 2016).

The networks are the CIFAR layout of He et al. (2016), §4.2: a 3x3 convolution, then three
stages of n blocks of two 3x3 convolutions (6n + 2 weighted layers: 8, 20, 56 for n = 1, 3, 9)
on feature maps of widths (w, 2w, 4w), the first block of stages 2 and 3 with stride 2, global
average pooling and a fully connected layer; batch norm after every convolution, ReLU, Kaiming
initialisation, no dropout. The residual version adds the input of every block to its output
through an identity shortcut, subsampled and zero-padded where the width doubles ("option A"),
so it has exactly the parameters of the plain version, and the two start from the *same*
weights: the shortcuts are the only difference.

Trained on the 4,000 mnist5k training digits (average-pooled to 14x14; w = 8, half the paper's
16, to fit in a few minutes on two cores) with the paper's recipe at a small scale (SGD,
momentum 0.9, weight decay 1e-4, batch 128, learning rate 0.1 divided by 10 after 60% and 80%
of the epochs, one warm-up epoch at 0.01), the plain nets get *worse training error* as they
get deeper (He et al.'s Fig. 1: not overfitting) while the residual ones do not (Fig. 6).
Exact parts: the parameter counts by
``analysis.summary`` against the hand count and He et al.'s Table 6, and the argument of the
notes that a deeper residual net can always compute the shallower one: with the last batch
norm of every extra block set to zero, the residual F(x) is 0, the block is the identity, and
the 56-layer net computes exactly what the 20-layer net does.
"""

from __future__ import annotations

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

KINDS = ("plain", "residual")
# He et al. (2016) Table 6: parameters of the CIFAR-10 ResNets (widths 16/32/64, 3x32x32 input)
TABLE6_PARAMS_M = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85, 110: 1.7}


class Block(nn.Module):
    """Two 3x3 conv-BN layers with a ReLU between, plus (residual) the identity shortcut, ReLU.

    The shortcut of a block that halves the resolution and doubles the width takes every second
    pixel and pads the new channels with zeros (He et al.'s option A): it has no parameters.

    Shape:
        (N, C_in, H, W) -> (N, C_out, ceil(H / stride), ceil(W / stride))
    """

    def __init__(self, in_chans: int, out_chans: int, stride: int, residual: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_chans, out_chans, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_chans)
        self.conv2 = nn.Conv2d(out_chans, out_chans, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_chans)
        self.stride = stride
        self.pad = out_chans - in_chans
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        if self.residual:
            shortcut = x[:, :, :: self.stride, :: self.stride]
            if self.pad:
                shortcut = nn.functional.pad(shortcut, (0, 0, 0, 0, 0, self.pad))
            out = out + shortcut
        return torch.relu(out)


class CifarNet(nn.Module):
    """He et al.'s CIFAR network of depth 6n + 2, plain or residual.

    Args:
        depth: weighted layers, 6n + 2 (8, 14, 20, ..., 56, 110).
        residual: identity shortcuts around every block.
        width: channels of the first stage (the paper: 16); the stages have w, 2w, 4w.
        in_chans, num_classes: input channels and classes.

    Shape:
        (N, in_chans, H, W) -> (N, num_classes)
    """

    def __init__(
        self,
        depth: int,
        residual: bool,
        width: int = 16,
        in_chans: int = 1,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 with n >= 1, got {depth}")
        blocks = (depth - 2) // 6
        self.stem = nn.Sequential(
            nn.Conv2d(in_chans, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
        )
        stages = []
        chans = width
        for s, out in enumerate((width, 2 * width, 4 * width)):
            layers = []
            for i in range(blocks):
                stride = 2 if s > 0 and i == 0 else 1
                layers.append(Block(chans, out, stride, residual))
                chans = out
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(chans, num_classes)
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


def hand_count(depth: int, width: int, in_chans: int = 1, num_classes: int = 10) -> int:
    """Parameters of :class:`CifarNet` counted by hand (3x3 convolutions without bias, BN's
    scale and shift, the fc layer); the same for plain and residual (option A is free)."""
    n = (depth - 2) // 6
    a = width
    stem = 9 * in_chans * a + 2 * a
    total = stem
    chans = a
    for out in (a, 2 * a, 4 * a):
        total += 9 * chans * out + 2 * out  # the first conv of the stage
        total += (2 * n - 1) * (9 * out * out + 2 * out)  # the other 2n - 1
        chans = out
    return total + 4 * a * num_classes + num_classes


def embed(shallow: CifarNet, deep: CifarNet) -> None:
    """Make the residual ``deep`` compute exactly what the residual ``shallow`` computes.

    Block i of each stage of ``shallow`` is copied into block i of the same stage of ``deep``;
    the extra blocks get a zero last batch norm (scale and shift 0), so their residual F(x)
    is 0 and, the input being the output of a ReLU, relu(0 + x) = x: they are identities.
    """
    deep.stem.load_state_dict(shallow.stem.state_dict())
    deep.head.load_state_dict(shallow.head.state_dict())
    for small, big in zip(shallow.stages, deep.stages, strict=True):
        for i, block in enumerate(big):
            if i < len(small):
                block.load_state_dict(small[i].state_dict())
            else:
                nn.init.zeros_(block.bn2.weight)
                nn.init.zeros_(block.bn2.bias)


def learning_rate(epoch: int, epochs: int) -> float:
    """He et al.'s schedule, scaled to ``epochs``: 0.1, divided by 10 after 60% and 80% of the
    epochs; the first epoch warms up at 0.01, as they do for their deepest net."""
    if epoch == 1:
        return 0.01
    if epoch <= 0.6 * epochs:
        return 0.1
    return 0.01 if epoch <= 0.8 * epochs else 0.001


def _train(model: nn.Module, train: Split, epochs: int, seed: int) -> list[dict]:
    """SGD, momentum 0.9, weight decay 1e-4, batch 128; per epoch the running training error."""
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for epoch in range(1, epochs + 1):
        lr = learning_rate(epoch, epochs)
        for group in opt.param_groups:
            group["lr"] = lr
        model.train()
        wrong, loss_sum = 0, 0.0
        for idx in batches(len(train), 128, gen):
            opt.zero_grad(set_to_none=True)
            logits = model(train.x[idx])
            loss = nn.functional.cross_entropy(logits, train.y[idx])
            loss.backward()
            opt.step()
            wrong += int((logits.argmax(1) != train.y[idx]).sum())
            loss_sum += float(loss.detach()) * len(idx)
        rows.append(
            {
                "epoch": epoch,
                "lr": lr,
                "running_train_error": wrong / len(train),
                "running_train_loss": loss_sum / len(train),
            }
        )
    return rows


def _published_checks() -> list[C.Check]:
    """The CIFAR-10 ResNets of Table 6 (3x32x32, widths 16/32/64), counted by summary."""
    out = []
    for depth, published in TABLE6_PARAMS_M.items():
        params = summary(CifarNet(depth, True, 16, 3, 10), (3, 32, 32)).total_params
        out.append(
            C.close(
                f"ResNet-{depth} for CIFAR-10: parameters (millions) by analysis.summary",
                params / 1e6,
                published,
                atol=0.005 if published < 1 else 0.05,
                source="He et al. (2016) Table 6 (rounded)",
                kind="published",
                fmt=".4g",
            )
        )
        out.append(
            C.close(
                f"ResNet-{depth} for CIFAR-10: parameters by analysis.summary",
                params,
                hand_count(depth, 16, 3, 10),
                source="hand count: 3x3 convs, BN scale and shift, fc",
                fmt="d",
            )
        )
    return out


def _figure(curves: list[dict], finals: list[dict], width: int) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4), layout="constrained")
    axes = fig.subplots(1, 3)
    depths = sorted({r["depth"] for r in finals})
    colours = dict(zip(depths, ("tab:blue", "tab:orange", "tab:red"), strict=False))
    top = max(r["running_train_error"] for r in curves)
    for ax, kind in zip(axes[:2], KINDS, strict=True):
        for depth in depths:
            sel = [r for r in curves if r["kind"] == kind and r["depth"] == depth]
            ax.plot(
                [r["epoch"] for r in sel],
                [100 * r["running_train_error"] for r in sel],
                "o-",
                color=colours[depth],
                label=f"{kind}-{depth}",
            )
        ax.set_yscale("log")
        ax.set_ylim(top=100 * top * 1.5)
        ax.set(xlabel="epoch", ylabel="training error (%)", title=f"{kind} nets: training error")
        ax.legend(fontsize=8)
    ax = axes[2]
    bar = 0.2
    for k, kind in enumerate(KINDS):
        sel = sorted((r for r in finals if r["kind"] == kind), key=lambda r: r["depth"])
        pos = [i + (k - 0.5) * 2 * bar for i in range(len(sel))]
        colour = ("tab:gray", "tab:green")[k]
        ax.bar(
            [p - bar / 2 for p in pos],
            [100 * r["train_error"] for r in sel],
            bar,
            color=colour,
            label=f"{kind}: train",
        )
        ax.bar(
            [p + bar / 2 for p in pos],
            [100 * r["val_error"] for r in sel],
            bar,
            color=colour,
            alpha=0.45,
            hatch="//",
            label=f"{kind}: val",
        )
    ax.set_xticks(range(len(depths)), [f"{d} layers" for d in depths])
    ax.set_yscale("log")
    ax.set(
        ylabel="error after training (%)",
        title=f"mnist5k 14x14, widths {width}/{2 * width}/{4 * width}",
    )
    ax.legend(fontsize=8)
    return fig


@register_experiment(
    name="degradation",
    section="#62 ResNet网络越来越深，准确率会不会提升？; #57 ResNet; #58 ResNet为什么不用Dropout?",
    claim="deeper plain nets train worse (higher training error: not overfitting); "
    "residual nets of the same depth and parameters do not",
    reference="He et al. (2016) Fig. 1, Fig. 6 and Table 6; the identity embedding (exact)",
    full_seconds=161.0,
)
def degradation(ctx: Context) -> Outcome:
    depths = ctx.pick((8, 20), (8, 20, 56))
    width = ctx.pick(4, 8)
    epochs = ctx.pick(1, 10)
    train, val = mnist5k(pool=2)
    if ctx.quick:
        train = Split(train.x[::4], train.y[::4])  # every class: the file is sorted by label
    curves: list[dict] = []
    finals: list[dict] = []
    checks: list[C.Check] = []
    jobs = [(d, kind) for d in depths for kind in KINDS]
    for depth, kind in ctx.track(jobs, "training plain and residual nets"):
        torch.manual_seed(ctx.torch_seed(depth))
        model = CifarNet(depth, False, width)
        if kind == "residual":
            plain_init = model.state_dict()
            model = CifarNet(depth, True, width)
            model.load_state_dict(plain_init)  # the same weights: the shortcuts differ
        params = summary(model, tuple(train.x.shape[1:])).total_params
        checks.append(
            C.close(
                f"{kind}-{depth}: parameters by analysis.summary",
                params,
                hand_count(depth, width),
                source="hand count (identity shortcuts have no parameters)",
                fmt="d",
            )
        )
        for row in _train(model, train, epochs, ctx.torch_seed(100 + depth)):
            curves.append({"kind": kind, "depth": depth, **row})
        train_loss, train_acc = evaluate(model, train)
        val_loss, val_acc = evaluate(model, val)
        finals.append(
            {
                "kind": kind,
                "depth": depth,
                "params": params,
                "train_error": 1 - train_acc,
                "val_error": 1 - val_acc,
                "train_loss": train_loss,
                "val_loss": val_loss,
            }
        )
    checks += _published_checks()
    # The notes' argument, exactly: the deeper residual net contains the shallower one.
    torch.manual_seed(ctx.torch_seed(1))
    shallow = CifarNet(depths[-2], True, width).double()
    deep = CifarNet(depths[-1], True, width).double()
    embed(shallow, deep)
    x = val.x[::16].double()  # 63 digits of every class (the split is sorted by label)
    with torch.no_grad():
        gap = float((shallow(x) - deep(x)).abs().max())
    checks.append(
        C.within(
            f"residual-{depths[-1]} with zero residuals in its extra blocks vs residual-"
            f"{depths[-2]}: max |output difference| (train mode, float64)",
            gap,
            0.0,
            0.0,
            source="exact: F(x) = 0 makes a block relu(0 + x) = x (the notes' identity mapping)",
            kind="exact",
        )
    )
    fin = {(r["kind"], r["depth"]): r for r in finals}
    deepest, mid = depths[-1], depths[-2]
    if not ctx.quick:
        checks += _training_checks(fin, deepest, mid)
    table = [
        {
            "net": f"{r['kind']}-{r['depth']}",
            "params": r["params"],
            "train error": r["train_error"],
            "val error": r["val_error"],
        }
        for r in finals
    ]
    shared = (
        f"Identity shortcuts add no parameters ({fin[('plain', deepest)]['params']:,} for both "
        f"{deepest}-layer nets, as counted by hand) and the two versions start from the same "
        f"weights. A residual block only has to learn F(x) = H(x) - x, and F = 0 is the "
        f"identity: the {deepest}-layer residual net with zero residuals in its extra blocks "
        f"computes exactly what the {mid}-layer one computes (max difference {gap:g})."
    )
    if ctx.quick:
        answer = (
            f"{shared} (Quick run: {epochs} epoch on {len(train):,} digits is too short to "
            f"compare training errors; the full run checks He et al.'s Fig. 1 and 6.)"
        )
    else:
        answer = (
            f"After {epochs} epochs the plain nets' training error is "
            + ", ".join(f"{fin[('plain', d)]['train_error']:.2%} ({d} layers)" for d in depths)
            + ", the residual nets' "
            + ", ".join(f"{fin[('residual', d)]['train_error']:.2%}" for d in depths)
            + f". Deeper does not help a plain net: the {deepest}-layer one is worse on its own "
            f"training digits than the {mid}-layer one is on unseen ones "
            f"({fin[('plain', mid)]['val_error']:.2%} validation error), so this is an "
            f"optimisation problem, not overfitting, and dropout (a regulariser) could only "
            f"make it worse; ResNet trains without it (He et al. use batch norm only). "
            f"{shared}"
        )
    return Outcome(
        rows=curves,
        figure=_figure(curves, finals, width),
        checks=checks,
        answer=answer,
        table=table,
        tables={"final": finals},
    )


def _training_checks(fin: dict, deepest: int, mid: int) -> list[C.Check]:
    plain_deep = fin[("plain", deepest)]["train_error"]
    return [
        C.within(
            f"plain-{deepest} minus plain-{mid} training error",
            plain_deep - fin[("plain", mid)]["train_error"],
            0.0,
            float("inf"),
            source="He et al. (2016) Fig. 1: the deeper plain net has higher training error",
        ),
        C.within(
            f"plain-{deepest} training error minus plain-{mid} validation error",
            plain_deep - fin[("plain", mid)]["val_error"],
            0.0,
            float("inf"),
            source="He et al. (2016) §1: not caused by overfitting",
        ),
        C.within(
            f"residual-{deepest} minus plain-{deepest} training error",
            fin[("residual", deepest)]["train_error"] - plain_deep,
            float("-inf"),
            0.0,
            source="He et al. (2016) Fig. 6: shortcuts remove the degradation",
        ),
        C.within(
            f"residual-{deepest} minus residual-{mid} training error",
            fin[("residual", deepest)]["train_error"] - fin[("residual", mid)]["train_error"],
            float("-inf"),
            0.005,
            source="He et al. (2016) Fig. 6: deeper residual nets train no worse (0.5 points)",
        ),
    ]
