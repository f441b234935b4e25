"""What ``cnnlab train`` prints: the run's header, a progress bar per epoch, a line per epoch.

The loop (:mod:`cnnlab.train.trainer`) prints nothing itself; it hands this class what happened.
Under torchrun only process 0 prints (the others get a silent console).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cnnlab.train.history import EpochMetrics

if TYPE_CHECKING:
    from cnnlab.train.trainer import Trainer

__all__ = ["ConsoleReport", "EpochBar"]


def _split_values(values: dict[str, float], split: str) -> str:
    parts = []
    for name, value in values.items():
        kind, _, score = name.partition("_")
        if kind == split:
            parts.append(f"{score} {value:.4f}")
    return " ".join(parts)


@dataclass
class EpochBar:
    """One epoch's progress bar (a no-op where the console is not a terminal)."""

    progress: Progress
    task: TaskID

    def update(self, ips: float, shown: dict[str, float] | None = None) -> None:
        """One more iteration; ``shown`` updates the loss and score figures."""
        fields: dict[str, Any] = {"ips": ips}
        if shown:
            fields["text"] = " ".join(f"{k} {v:.4f}" for k, v in shown.items())
        self.progress.update(self.task, advance=1, **fields)


class ConsoleReport:
    """Prints a run's progress on a rich console.

    Args:
        console: where to print (stdout by default).
        enabled: False for a silent report (torchrun processes other than 0).
    """

    def __init__(self, console: Console | None = None, enabled: bool = True) -> None:
        self.console = console or Console(highlight=False, soft_wrap=True)
        if not enabled:
            self.console = Console(quiet=True)

    def print(self, text: str) -> None:
        self.console.print(text)

    def header(self, t: Trainer) -> None:
        cfg = t.config
        n_params = sum(p.numel() for p in t.model.parameters())
        self.print(f"model {cfg.model} ({n_params:,} parameters) | data {t.data.describe()}")
        schedule = cfg.scheduler
        if cfg.warmup_epochs:
            schedule += f" after {cfg.warmup_epochs} warmup epoch(s)"
        self.print(
            f"device {t.device} | optimizer {cfg.optimizer} lr {cfg.lr:g} weight decay "
            f"{cfg.weight_decay:g} | scheduler {schedule} | seed {cfg.seed}"
        )
        extras = [
            f"{name} {value:g}"
            for name, value in (
                ("l1", cfg.l1),
                ("input noise", cfg.input_noise),
                ("label smoothing", cfg.label_smoothing),
                ("clip grad norm", cfg.clip_grad_norm or 0),
                ("ema", cfg.ema or 0),
            )
            if value
        ]
        extras += [name for name in ("amp", "channels_last", "compile") if getattr(cfg, name)]
        if t.dist.active:
            extras.append(
                f"{t.dist.world} processes (DistributedDataParallel, "
                f"{cfg.batch_size} samples per step in all)"
            )
        stop = (
            f"; early stopping after {cfg.early_stopping} epoch(s) without improvement"
            + (f" > {cfg.min_delta:g}" if cfg.min_delta else "")
            if cfg.early_stopping
            else ""
        )
        self.print(f"monitor {t.monitor.name} ({t.monitor.mode}){stop}")
        if extras:
            self.print("with " + ", ".join(extras))
        self.print(t.accounting.describe())
        if t.epoch or t.step:
            self.print(
                f"resuming {t.run_dir} after {t.epoch} finished epoch(s)"
                + (f" and {t.step} iteration(s)" if t.step else "")
            )
        self.print(f"run directory: {t.run_dir}")

    @contextmanager
    def epoch_bar(self, description: str, total: int, completed: int) -> Iterator[EpochBar]:
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[text]}"),
            TextColumn("{task.fields[ips]:.1f} it/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not self.console.is_terminal,
        )
        with progress:
            task = progress.add_task(
                description, total=total, completed=completed, text="", ips=0.0
            )
            yield EpochBar(progress, task)

    def epoch_line(self, row: EpochMetrics, epochs: int, is_best: bool) -> None:
        self.print(
            f"epoch {row.epoch:>3}/{epochs} | train {_split_values(row.values, 'train')} | "
            f"val {_split_values(row.values, 'val')} | lr {row.lr:.2e} | {row.seconds:.1f}s"
            + ("  *best*" if is_best else "")
        )

    def stopped_early(self, t: Trainer) -> None:
        stop = t.early_stopping
        assert stop is not None
        self.print(
            f"early stopping after epoch {stop.stopped_epoch}: {t.monitor.name} has not improved "
            f"by more than {stop.min_delta:g} for {stop.patience} epoch(s)"
        )

    def footer(self, t: Trainer) -> None:
        if not t.history:
            return
        best = t.monitor
        self.print(
            f"done: best {best.name} {best.best:.4f} at epoch {best.best_epoch}; "
            f"checkpoints {t.run_dir / 'last.pt'}, {t.run_dir / 'best.pt'}; "
            f"metrics {t.run_dir / 'metrics.csv'}; curves {t.run_dir / 'curves.png'}"
        )
