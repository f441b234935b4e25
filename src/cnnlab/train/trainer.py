"""The training loop behind ``cnnlab train`` (the shape of pytorch/examples' ImageNet script).

Every run directory holds ``config.json``, ``metrics.csv``, ``last.pt``, ``best.pt`` and
``curves.png``. Checkpoints carry the model, optimizer, scheduler and RNG states and the position
inside the epoch, so a resumed run -- even one stopped by Ctrl-C mid-epoch -- continues exactly
where the straight run would have been.
"""

from __future__ import annotations

import math
import random
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from torch import nn
from torch.utils.data import DataLoader

from cnnlab.core.accounting import EpochAccounting
from cnnlab.core.files import atomic_write_text
from cnnlab.data import DatasetBundle, load_dataset
from cnnlab.models import create_model, model_info
from cnnlab.optim import create_optimizer
from cnnlab.train.checkpoint import load_checkpoint, save_checkpoint
from cnnlab.train.config import TrainConfig
from cnnlab.train.input_check import check_input_size
from cnnlab.train.metrics import EpochMetrics, plot_curves, write_metrics_csv
from cnnlab.train.progress import epoch_progress
from cnnlab.train.sampler import EpochShuffleSampler
from cnnlab.train.state import (
    default_run_dir,
    lr_factor,
    resolve_device,
    rng_state,
    set_rng_state,
)


class TrainingInterrupted(Exception):
    """Training stopped on request (Ctrl-C); ``last.pt`` holds the state to resume from."""


class TrainingDiverged(Exception):
    """The loss became NaN or infinite; the last good checkpoint is left untouched."""


@dataclass
class _Running:
    """Sums over the part of the current epoch trained so far."""

    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    seconds: float = 0.0

    @property
    def loss(self) -> float:
        return self.loss_sum / max(self.seen, 1)

    @property
    def acc(self) -> float:
        return self.correct / max(self.seen, 1)


class Trainer:
    """Train a registered classifier on a dataset spec.

    Args:
        config: the run's options.
        resume_from: a run directory to continue from its ``last.pt``.
        console: where to print (a rich console; stdout by default).
        on_iteration: optional callback ``(trainer, epoch, step)`` after each optimizer step;
            it may call :meth:`request_stop`.
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        resume_from: str | Path | None = None,
        console: Console | None = None,
        on_iteration: Callable[[Trainer, int, int], None] | None = None,
    ) -> None:
        self.config = config.validate()
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.on_iteration = on_iteration
        self._stop = False
        self.device = resolve_device(config.device)
        if config.amp and self.device.type != "cuda":
            raise ValueError("--amp (float16 autocast) needs a CUDA device; drop --amp on CPU")

        checkpoint = None
        if resume_from is not None:
            self.run_dir = Path(resume_from)
            checkpoint = load_checkpoint(self.run_dir / "last.pt")
        else:
            self.run_dir = Path(config.out) if config.out else default_run_dir(config)
            if (self.run_dir / "last.pt").exists():
                raise ValueError(
                    f"run directory {str(self.run_dir)!r} already holds a run; continue it with "
                    f"--resume {self.run_dir} or choose another --out"
                )
        config.out = str(self.run_dir)

        self._seed_everything(config.seed)
        self.data: DatasetBundle = load_dataset(
            config.dataset,
            config.image_size,
            config.val_fraction,
            skip_bad_images=config.skip_bad_images,
        )
        info = model_info(config.model)
        if info.task != "classification":
            raise ValueError(
                f"model {config.model!r} is a {info.task} model; cnnlab train trains classifiers"
            )
        input_size = (self.data.in_chans, *self.data.image_size)
        check_input_size(config.model, self.data.num_classes, input_size)
        self.model: nn.Module = create_model(
            config.model, num_classes=self.data.num_classes, in_chans=self.data.in_chans
        ).to(self.device)
        self.optimizer = create_optimizer(
            config.optimizer,
            self.model.parameters(),
            lr=config.lr,
            weight_decay=config.weight_decay,
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lr_factor(config.scheduler, config.epochs)
        )
        self.scaler = torch.amp.GradScaler("cuda", enabled=config.amp)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)

        self.sampler = EpochShuffleSampler(len(self.data.train), config.seed)
        pin = self.device.type == "cuda"
        # Loaders draw their workers' base seed from a generator; give them their own (re-seeded
        # per epoch) so that creating an iterator never moves the global RNG that dropout uses.
        self.loader_generator = torch.Generator()
        self.train_loader = DataLoader(
            self.data.train,
            batch_size=config.batch_size,
            sampler=self.sampler,
            drop_last=config.drop_last,
            num_workers=config.workers,
            pin_memory=pin,
            generator=self.loader_generator,
        )
        self.val_loader = DataLoader(
            self.data.val,
            batch_size=max(config.batch_size, 256),
            shuffle=False,
            num_workers=config.workers,
            pin_memory=pin,
            generator=torch.Generator(),
        )
        self.accounting = EpochAccounting(
            len(self.data.train), config.batch_size, config.epochs, config.drop_last
        )
        if self.accounting.iterations_per_epoch == 0:
            raise ValueError(
                f"--batch-size {config.batch_size} with --drop-last leaves no iteration for "
                f"{len(self.data.train)} training samples"
            )

        self.epoch = 0  # finished epochs
        self.step = 0  # optimizer steps done in the current epoch
        self.running = _Running()
        self.history: list[EpochMetrics] = []
        self.best_val_acc = -1.0
        if checkpoint is not None:
            self._restore(checkpoint)

    # ------------------------------------------------------------------ state
    @staticmethod
    def _seed_everything(seed: int) -> None:
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)

    def _state(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": self.epoch,
            "step_in_epoch": self.step,
            "running": asdict(self.running),
            "best_val_acc": self.best_val_acc,
            "history": [asdict(r) for r in self.history],
            "rng": rng_state(),
            "config": asdict(self.config),
        }

    def _restore(self, ckpt: dict[str, Any]) -> None:
        path = self.run_dir / "last.pt"
        try:
            self.model.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
        except (RuntimeError, ValueError, KeyError) as err:
            first = str(err).strip().splitlines()[0]
            raise ValueError(
                f"checkpoint {str(path)!r} does not fit model {self.config.model!r} / optimizer "
                f"{self.config.optimizer!r}: {first}"
            ) from None
        self.scheduler.load_state_dict(ckpt["scheduler"])
        # The lr follows the schedule of the (possibly new) total epoch count.
        factor = lr_factor(self.config.scheduler, self.config.epochs)(self.scheduler.last_epoch)
        for group, base in zip(self.optimizer.param_groups, self.scheduler.base_lrs, strict=True):
            group["lr"] = base * factor
        if ckpt.get("scaler"):
            self.scaler.load_state_dict(ckpt["scaler"])
        self.epoch = int(ckpt["epoch"])
        self.step = int(ckpt.get("step_in_epoch", 0))
        self.running = _Running(**ckpt.get("running", {}))
        self.best_val_acc = float(ckpt.get("best_val_acc", -1.0))
        self.history = [EpochMetrics(**r) for r in ckpt.get("history", [])]
        set_rng_state(ckpt["rng"])

    def request_stop(self) -> None:
        """Stop after the current iteration, saving ``last.pt`` (what Ctrl-C does)."""
        self._stop = True

    # ------------------------------------------------------------------ loop
    def fit(self) -> list[EpochMetrics]:
        """Train to ``config.epochs`` total epochs; return the metrics history.

        Raises:
            TrainingInterrupted: after Ctrl-C or :meth:`request_stop`, with ``last.pt`` saved.
            TrainingDiverged: the loss became NaN or infinite.
        """
        self.run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.run_dir / "config.json", self.config.to_json() + "\n")
        self._print_header()
        previous = self._install_sigint()
        try:
            while self.epoch < self.config.epochs:
                self._train_epoch()
                if self._stop:
                    self._save_last()
                    raise TrainingInterrupted(self._interrupt_message())
                self._finish_epoch()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        self._print_footer()
        return self.history

    def _install_sigint(self) -> Any:
        try:
            previous = signal.getsignal(signal.SIGINT)

            def handler(signum: int, frame: Any) -> None:
                if self._stop:  # second Ctrl-C: stop now
                    raise KeyboardInterrupt
                self._stop = True

            signal.signal(signal.SIGINT, handler)
            return previous
        except ValueError:  # not the main thread: no signal handling
            return None

    def _train_epoch(self) -> None:
        cfg = self.config
        self.model.train()
        self.sampler.set_epoch(self.epoch, skip=self.step * cfg.batch_size)
        self.loader_generator.manual_seed(cfg.seed * 1_000_003 + self.epoch)
        total = self.accounting.iterations_per_epoch
        if self.step >= total:
            return
        start = time.perf_counter()
        with epoch_progress(self.console) as progress:
            task = progress.add_task(
                f"epoch {self.epoch + 1}/{cfg.epochs}",
                total=total,
                completed=self.step,
                loss=self.running.loss,
                acc=self.running.acc,
                ips=0.0,
            )
            for done_here, (x, y) in enumerate(self.train_loader, start=1):
                x = x.to(self.device, non_blocking=True)
                y = y.to(self.device, non_blocking=True)
                with torch.autocast(self.device.type, dtype=torch.float16, enabled=cfg.amp):
                    logits = self.model(x)
                    loss = self.criterion(logits, y)
                value = loss.item()
                if not math.isfinite(value):
                    raise TrainingDiverged(
                        f"loss became {value} at epoch {self.epoch + 1}, iteration "
                        f"{self.step + 1}; stopped. The last good checkpoint "
                        f"{self.run_dir / 'last.pt'} is intact (try a lower --lr)"
                    )
                self.optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
                n = y.shape[0]
                self.running.loss_sum += value * n
                self.running.correct += int((logits.argmax(1) == y).sum().item())
                self.running.seen += n
                self.step += 1
                elapsed = time.perf_counter() - start
                progress.update(
                    task,
                    advance=1,
                    loss=self.running.loss,
                    acc=self.running.acc,
                    ips=done_here / max(elapsed, 1e-9),
                )
                if self.on_iteration is not None:
                    self.on_iteration(self, self.epoch, self.step)
                if self._stop:
                    break
        self.running.seconds += time.perf_counter() - start

    @torch.no_grad()
    def evaluate(self) -> tuple[float, float]:
        """Validation loss and accuracy (fraction) with the model in eval mode."""
        self.model.eval()
        loss_sum, correct, seen = 0.0, 0, 0
        for x, y in self.val_loader:
            x, y = x.to(self.device), y.to(self.device)
            with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.config.amp):
                logits = self.model(x)
                loss_sum += self.criterion(logits, y).item() * y.shape[0]
            correct += int((logits.argmax(1) == y).sum().item())
            seen += y.shape[0]
        return loss_sum / max(seen, 1), correct / max(seen, 1)

    def _finish_epoch(self) -> None:
        start = time.perf_counter()
        val_loss, val_acc = self.evaluate()
        lr = self.optimizer.param_groups[0]["lr"]
        row = EpochMetrics(
            epoch=self.epoch + 1,
            train_loss=self.running.loss,
            train_acc=self.running.acc,
            val_loss=val_loss,
            val_acc=val_acc,
            lr=lr,
            seconds=round(self.running.seconds + time.perf_counter() - start, 3),
        )
        self.scheduler.step()
        self.epoch += 1
        self.step = 0
        self.running = _Running()
        self.history.append(row)
        is_best = val_acc > self.best_val_acc
        if is_best:
            self.best_val_acc = val_acc
        self._save_last()
        if is_best:
            save_checkpoint(self.run_dir / "best.pt", self._state())
        write_metrics_csv(self.run_dir / "metrics.csv", self.history)
        plot_curves(
            self.run_dir / "curves.png",
            self.history,
            title=f"{self.config.model} on {self.data.name}",
        )
        self.console.print(
            f"epoch {row.epoch:>3}/{self.config.epochs} | train loss {row.train_loss:.4f} "
            f"acc {row.train_acc:.4f} | val loss {row.val_loss:.4f} acc {row.val_acc:.4f} | "
            f"lr {row.lr:.2e} | {row.seconds:.1f}s" + ("  *best*" if is_best else "")
        )

    def _save_last(self) -> None:
        save_checkpoint(self.run_dir / "last.pt", self._state())

    def _interrupt_message(self) -> str:
        where = (
            f"epoch {self.epoch + 1}, iteration {self.step}/{self.accounting.iterations_per_epoch}"
        )
        return (
            f"interrupted at {where}; saved {self.run_dir / 'last.pt'}. Resume with: "
            f"cnnlab train --resume {self.run_dir}"
        )

    # ------------------------------------------------------------------ text
    def _print_header(self) -> None:
        n_params = sum(p.numel() for p in self.model.parameters())
        cfg = self.config
        self.console.print(
            f"model {cfg.model} ({n_params:,} parameters) | data {self.data.describe()}"
        )
        self.console.print(
            f"device {self.device} | optimizer {cfg.optimizer} lr {cfg.lr:g} weight decay "
            f"{cfg.weight_decay:g} | scheduler {cfg.scheduler} | seed {cfg.seed}"
        )
        self.console.print(self.accounting.describe())
        if self.epoch or self.step:
            self.console.print(
                f"resuming {self.run_dir} after {self.epoch} finished epoch(s)"
                + (f" and {self.step} iteration(s)" if self.step else "")
            )
        self.console.print(f"run directory: {self.run_dir}")

    def _print_footer(self) -> None:
        if not self.history:
            return
        best = max(self.history, key=lambda r: r.val_acc)
        self.console.print(
            f"done: best val acc {best.val_acc:.4f} at epoch {best.epoch}; "
            f"checkpoints {self.run_dir / 'last.pt'}, {self.run_dir / 'best.pt'}; "
            f"metrics {self.run_dir / 'metrics.csv'}; curves {self.run_dir / 'curves.png'}"
        )


def train(config: TrainConfig, **kwargs: Any) -> list[EpochMetrics]:
    """Build a :class:`Trainer` and run it; see its arguments."""
    return Trainer(config, **kwargs).fit()
