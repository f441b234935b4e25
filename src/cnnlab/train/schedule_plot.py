"""A figure of every learning-rate schedule of :func:`~cnnlab.train.build_scheduler`.

Each curve is the lr the optimizer holds at each iteration of a run, read from torch's scheduler
objects exactly as the training loop steps them (per iteration; ``plateau`` once per epoch on a
validation loss). ``plateau`` is shown on a made-up loss that stops improving after a third of the
run (stated in the panel's title). docs/img/schedules.png is this function's output.
"""

from __future__ import annotations

from pathlib import Path

import torch
from matplotlib.figure import Figure

from cnnlab.core.files import atomic_write
from cnnlab.train.schedules import SCHEDULERS, build_scheduler, is_per_epoch

__all__ = ["lr_curve", "plot_schedules"]


def lr_curve(
    name: str,
    *,
    epochs: int,
    steps_per_epoch: int,
    lr: float = 0.1,
    warmup_epochs: int = 0,
    losses: list[float] | None = None,
    **options: object,
) -> list[float]:
    """The lr of every iteration of a run with schedule ``name`` (SGD with momentum 0.9).

    Args:
        losses: the validation loss after each epoch, for ``plateau`` (default: one that falls
            for a third of the run, then stays flat).
    """
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr, momentum=0.9)
    scheduler = build_scheduler(
        optimizer,
        name,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        warmup_epochs=warmup_epochs,
        **options,
    )
    if losses is None:
        losses = [max(1.0 - e / (epochs / 3), 0.0) + 0.1 for e in range(epochs)]
    lrs = []
    for epoch in range(epochs):
        for _ in range(steps_per_epoch):
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if not is_per_epoch(scheduler):
                scheduler.step()
        if is_per_epoch(scheduler):
            scheduler.step(losses[epoch])
    return lrs


def plot_schedules(
    path: str | Path, *, epochs: int = 30, steps_per_epoch: int = 20, lr: float = 0.1
) -> Path:
    """Write one panel per schedule (and cosine with a warmup) into the PNG ``path``."""
    panels: list[tuple[str, list[float]]] = []
    for name in SCHEDULERS:
        title = name + (" (loss flat after epoch 10)" if name == "plateau" else "")
        extra = {"patience": 3} if name == "plateau" else {}
        panels.append(
            (title, lr_curve(name, epochs=epochs, steps_per_epoch=steps_per_epoch, lr=lr, **extra))
        )
    warm = lr_curve(
        "cosine", epochs=epochs, steps_per_epoch=steps_per_epoch, lr=lr, warmup_epochs=3
    )
    panels.append(("cosine after 3 warmup epochs", warm))
    fig = Figure(figsize=(12, 6), layout="constrained")
    axes = fig.subplots(2, 4, sharex=True, sharey=True)
    epoch_axis = [i / steps_per_epoch for i in range(epochs * steps_per_epoch)]
    for ax, (title, lrs) in zip(axes.flat, panels, strict=True):
        ax.plot(epoch_axis, lrs, lw=1.5)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel("learning rate")
    fig.suptitle(
        f"cnnlab train --scheduler NAME (lr {lr}, {epochs} epochs of {steps_per_epoch} "
        "iterations; defaults of each schedule)"
    )
    out = Path(path)
    atomic_write(out, lambda f: fig.savefig(f, format="png", dpi=90))
    return out
