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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from torch import nn
from torch.utils.data import DataLoader

from cnnlab.core.accounting import EpochAccounting
from cnnlab.core.files import atomic_write_text, check_output_dir, create_unique_dir
from cnnlab.data import DatasetBundle
from cnnlab.models import create_model
from cnnlab.optim import create_optimizer
from cnnlab.train.checkpoint import first_non_finite, load_checkpoint, save_checkpoint
from cnnlab.train.config import TrainConfig
from cnnlab.train.input_check import check_input_size
from cnnlab.train.metrics import EpochMetrics, plot_curves, write_metrics_csv
from cnnlab.train.preflight import check_before_work, check_new_run_dir, load_data
from cnnlab.train.progress import epoch_progress
from cnnlab.train.resume import (
    check_resume_config,
    existing_run_dir,
    load_weights_and_optimizer,
)
from cnnlab.train.running import DeviceSums, Running
from cnnlab.train.sampler import EpochShuffleSampler
from cnnlab.train.signals import StopSignals, ignore_stop_signals
from cnnlab.train.state import default_run_dir, lr_factor, rng_state, set_rng_state


class TrainingInterrupted(Exception):
    """Training stopped on request (Ctrl-C, SIGTERM, :meth:`Trainer.request_stop`).

    ``last.pt`` holds the state to resume from; ``signum`` is the signal's number (None for a
    request from code).
    """

    def __init__(self, message: str, signum: int | None = None) -> None:
        super().__init__(message)
        self.signum = signum


class TrainingDiverged(Exception):
    """A loss, the validation loss or a weight became NaN or infinite; nothing of it was saved.

    The message says which, where, and what the run folder still holds.
    """


class RunDirectoryError(Exception):
    """A file of the run could not be written (folder turned read-only, disk full...).

    The previous checkpoint is untouched (writes are atomic); the message says what it holds.
    """


_ADVICE = "(a lower learning rate usually helps)"


class Trainer:
    """Train a registered classifier on a dataset spec.

    Everything that can be checked before work is checked first: the options, the output folder
    (a file, under a file, not writable), and when resuming the checkpoint and its config. Only
    then do the data and the model load. A fresh run's folder is created here; with an empty
    ``config.out`` it is ``runs/MODEL-DATASET-TIME``, made unique (``-2``, ``-3``...) atomically.

    Args:
        config: the run's options.
        resume_from: a run directory to continue from its ``last.pt``. The checkpoint's own
            config is the truth: ``config`` may differ from it only in epochs, device and
            workers.
        console: where to print (a rich console; stdout by default).
        on_iteration: optional callback ``(trainer, epoch, step)`` after each optimizer step;
            it may call :meth:`request_stop`.
    """

    # How often (seconds) the loop reads its device-side sums: the progress bar's numbers and
    # the non-finite loss check. Between reads no iteration waits for the device.
    refresh_seconds = 0.5

    def __init__(
        self,
        config: TrainConfig,
        *,
        resume_from: str | Path | None = None,
        console: Console | None = None,
        on_iteration: Callable[[Trainer, int, int], None] | None = None,
    ) -> None:
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.on_iteration = on_iteration
        self._stop = False
        self._signum: int | None = None
        self._saved: tuple[int, int] | None = None  # (epoch, step) that last.pt holds
        self._best_saved: EpochMetrics | None = None  # the epoch that best.pt holds

        checkpoint = None
        if resume_from is not None:
            self.run_dir = existing_run_dir(resume_from)
            checkpoint = load_checkpoint(self.run_dir / "last.pt")
            check_resume_config(config, checkpoint, self.run_dir)
        self.config = cfg = config.validate()
        self.device = check_before_work(cfg)
        if checkpoint is None:
            self.run_dir = check_new_run_dir(cfg)  # None: a default folder, created at the end
        elif int(checkpoint["epoch"]) < cfg.epochs:  # something will be written
            check_output_dir("resume", self.run_dir)

        self._seed_everything(cfg.seed)
        self.data: DatasetBundle = load_data(cfg)
        input_size = (self.data.in_chans, *self.data.image_size)
        check_input_size(cfg.model, self.data.num_classes, input_size)
        self.model: nn.Module = create_model(
            cfg.model, num_classes=self.data.num_classes, in_chans=self.data.in_chans
        ).to(self.device)
        self.optimizer = create_optimizer(
            cfg.optimizer, self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lr_factor(cfg.scheduler, cfg.epochs)
        )
        self.scaler = torch.amp.GradScaler("cuda", enabled=cfg.amp)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)

        self.sampler = EpochShuffleSampler(len(self.data.train), cfg.seed)
        pin = self.device.type == "cuda"
        # Loaders draw their workers' base seed from a generator; give them their own (re-seeded
        # per epoch) so that creating an iterator never moves the global RNG that dropout uses.
        self.loader_generator = torch.Generator()
        self.train_loader = DataLoader(
            self.data.train,
            batch_size=cfg.batch_size,
            sampler=self.sampler,
            drop_last=cfg.drop_last,
            num_workers=cfg.workers,
            pin_memory=pin,
            generator=self.loader_generator,
            worker_init_fn=ignore_stop_signals,
        )
        self.val_loader = DataLoader(
            self.data.val,
            batch_size=max(cfg.batch_size, 256),
            shuffle=False,
            num_workers=cfg.workers,
            pin_memory=pin,
            generator=torch.Generator(),
            worker_init_fn=ignore_stop_signals,
        )
        self.accounting = EpochAccounting(
            len(self.data.train), cfg.batch_size, cfg.epochs, cfg.drop_last
        )
        if self.accounting.iterations_per_epoch == 0:
            raise ValueError(
                f"--batch-size {cfg.batch_size} with --drop-last leaves no iteration for "
                f"{len(self.data.train)} training samples"
            )

        self.epoch = 0  # finished epochs
        self.step = 0  # optimizer steps done in the current epoch
        self.running = Running()
        self.history: list[EpochMetrics] = []
        self.best_val_acc = -1.0
        if checkpoint is not None:
            self._restore(checkpoint)
        elif self.run_dir is None:  # claimed once nothing can fail: no empty folder is left
            self.run_dir = create_unique_dir(default_run_dir(cfg))
        cfg.out = str(self.run_dir)

    def _check_weights(self, where: str) -> None:
        bad = first_non_finite(self.model.state_dict())
        if bad is not None:
            raise TrainingDiverged(
                f"weight {bad} is not finite {where}; stopped without saving it; "
                f"{self.on_disk()} {_ADVICE}"
            )

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
        load_weights_and_optimizer(ckpt, path, self.model, self.optimizer, self.config)
        try:
            self.scheduler.load_state_dict(ckpt["scheduler"])
            if ckpt.get("scaler"):
                self.scaler.load_state_dict(ckpt["scaler"])
            self.epoch = int(ckpt["epoch"])
            self.step = int(ckpt.get("step_in_epoch", 0))
            self.running = Running(**ckpt.get("running", {}))
            self.best_val_acc = float(ckpt.get("best_val_acc", -1.0))
            self.history = [EpochMetrics(**r) for r in ckpt.get("history", [])]
            set_rng_state(ckpt["rng"])
        except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"checkpoint {str(path)!r} is damaged: {err!r}"[:400]) from None
        # The lr follows the schedule of the (possibly new) total epoch count.
        factor = lr_factor(self.config.scheduler, self.config.epochs)(self.scheduler.last_epoch)
        for group, base in zip(self.optimizer.param_groups, self.scheduler.base_lrs, strict=True):
            group["lr"] = base * factor
        self._saved = (self.epoch, self.step)
        if (self.run_dir / "best.pt").exists():
            best = [r for r in self.history if r.val_acc == self.best_val_acc]
            self._best_saved = best[0] if best else None

    def request_stop(self) -> None:
        """Stop after the current iteration, saving ``last.pt`` (what Ctrl-C does)."""
        self._stop = True

    def _on_signal(self, signum: int) -> None:
        self._signum = signum
        self._stop = True

    def on_disk(self) -> str:
        """What the run folder holds to resume from, in words (for messages after a stop)."""
        if self._saved is None:
            return "no checkpoint of this run was saved"
        epoch, step = self._saved
        where = f"epoch {epoch + 1} up to iteration {step}" if step else f"the end of epoch {epoch}"
        text = f"{self.run_dir / 'last.pt'} holds {where}"
        best = self._best_saved
        if best is not None:
            text += f", {self.run_dir / 'best.pt'} holds epoch {best.epoch}"
            text += f" (val acc {best.val_acc:.4f})"
        return text

    @contextmanager
    def _writing(self, path: Path, where: str) -> Iterator[None]:
        """Turn a failed write (read-only folder, full disk) into :class:`RunDirectoryError`."""
        try:
            yield
        except (OSError, RuntimeError) as err:  # torch.save reports a failed write as either
            lines = str(err).strip().splitlines()
            reason = getattr(err, "strerror", None) or (lines[0] if lines else repr(err))
            raise RunDirectoryError(
                f"cannot write {path}: {reason}; stopped {where} without saving it; "
                f"{self.on_disk()}"
            ) from None

    # ------------------------------------------------------------------ loop
    def fit(self) -> list[EpochMetrics]:
        """Train to ``config.epochs`` total epochs; return the metrics history.

        A run that already has that many epochs changes nothing on disk.

        Raises:
            TrainingInterrupted: after Ctrl-C, SIGTERM or :meth:`request_stop`, with ``last.pt``
                saved at the current iteration.
            TrainingDiverged: a loss, the validation loss or a weight became NaN or infinite;
                nothing of it was saved.
            RunDirectoryError: a file of the run could not be written.
        """
        cfg = self.config
        if self.epoch >= cfg.epochs:
            self.console.print(
                f"{self.run_dir} already has {self.epoch} finished epoch(s) and {cfg.epochs} "
                f"were asked for: nothing to do (give more epochs to train on)"
            )
            return self.history
        with self._writing(self.run_dir / "config.json", "before training"):
            self.run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.run_dir / "config.json", cfg.to_json() + "\n")
        self._print_header()
        with StopSignals(self._on_signal):
            while self.epoch < cfg.epochs:
                if not self._stop:
                    self._train_epoch()
                if self._stop:
                    where = f"at epoch {self.epoch + 1}, iteration {self.step}"
                    self._check_weights(where)
                    self._save_last(where)
                    raise TrainingInterrupted(self._interrupt_message(), self._signum)
                self._finish_epoch()
        self._print_footer()
        return self.history

    def _train_epoch(self) -> None:
        cfg = self.config
        self.model.train()
        self.sampler.set_epoch(self.epoch, skip=self.step * cfg.batch_size)
        self.loader_generator.manual_seed(cfg.seed * 1_000_003 + self.epoch)
        total = self.accounting.iterations_per_epoch
        if self.step >= total:
            return
        sums = DeviceSums(self.running, self.device)
        start = last_read = time.perf_counter()
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
                self.optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)  # skips steps with inf gradients (AMP): normal
                self.scaler.update()
                self.step += 1
                sums.add(loss, logits, y, self.step)
                now = time.perf_counter()
                shown = {}
                if now - last_read >= self.refresh_seconds:
                    last_read = now
                    self._read(sums)
                    shown = {"loss": self.running.loss, "acc": self.running.acc}
                progress.update(task, advance=1, ips=done_here / max(now - start, 1e-9), **shown)
                if self.on_iteration is not None:
                    self.on_iteration(self, self.epoch, self.step)
                if self._stop:
                    break
        self.running.seconds += time.perf_counter() - start
        self._read(sums)

    def _read(self, sums: DeviceSums) -> None:
        """Bring the epoch's sums to the host; stop if a training loss was not finite."""
        bad = sums.read()
        if bad is not None:
            raise TrainingDiverged(
                f"loss became {bad.value} at epoch {self.epoch + 1}, iteration {bad.iteration}; "
                f"stopped without saving anything of it; {self.on_disk()} {_ADVICE}"
            )

    @torch.no_grad()
    def evaluate(self) -> tuple[float, float]:
        """Validation loss and accuracy (fraction) with the model in eval mode."""
        self.model.eval()
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        correct = torch.zeros((), dtype=torch.int64, device=self.device)
        seen = 0
        for x, y in self.val_loader:
            x, y = x.to(self.device), y.to(self.device)
            with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.config.amp):
                logits = self.model(x)
                loss_sum += self.criterion(logits, y).double() * y.shape[0]
            correct += (logits.argmax(1) == y).sum()
            seen += y.shape[0]
        total, hits = torch.stack([loss_sum, correct.double()]).tolist()
        return total / max(seen, 1), hits / max(seen, 1)

    def _finish_epoch(self) -> None:
        start = time.perf_counter()
        val_loss, val_acc = self.evaluate()
        epoch = self.epoch + 1
        where = f"after epoch {epoch}"
        if not math.isfinite(val_loss):
            raise TrainingDiverged(
                f"validation loss became {val_loss} {where}; stopped without saving that "
                f"epoch; {self.on_disk()} {_ADVICE}"
            )
        self._check_weights(where)
        row = EpochMetrics(
            epoch=epoch,
            train_loss=self.running.loss,
            train_acc=self.running.acc,
            val_loss=val_loss,
            val_acc=val_acc,
            lr=self.optimizer.param_groups[0]["lr"],
            seconds=round(self.running.seconds + time.perf_counter() - start, 3),
        )
        self.scheduler.step()
        self.epoch += 1
        self.step = 0
        self.running = Running()
        self.history.append(row)
        is_best = val_acc > self.best_val_acc
        if is_best:
            self.best_val_acc = val_acc
        self._save_last(where)
        if is_best:
            with self._writing(self.run_dir / "best.pt", where):
                save_checkpoint(self.run_dir / "best.pt", self._state())
            self._best_saved = row
        with self._writing(self.run_dir / "metrics.csv", where):
            write_metrics_csv(self.run_dir / "metrics.csv", self.history)
        with self._writing(self.run_dir / "curves.png", where):
            title = f"{self.config.model} on {self.data.name}"
            plot_curves(self.run_dir / "curves.png", self.history, title=title)
        self.console.print(
            f"epoch {row.epoch:>3}/{self.config.epochs} | train loss {row.train_loss:.4f} "
            f"acc {row.train_acc:.4f} | val loss {row.val_loss:.4f} acc {row.val_acc:.4f} | "
            f"lr {row.lr:.2e} | {row.seconds:.1f}s" + ("  *best*" if is_best else "")
        )

    def _save_last(self, where: str) -> None:
        with self._writing(self.run_dir / "last.pt", where):
            save_checkpoint(self.run_dir / "last.pt", self._state())
        self._saved = (self.epoch, self.step)

    def _interrupt_message(self) -> str:
        by = f" ({signal.Signals(self._signum).name})" if self._signum is not None else ""
        where = (
            f"epoch {self.epoch + 1}, iteration {self.step}/{self.accounting.iterations_per_epoch}"
        )
        return (
            f"interrupted{by} at {where}; saved {self.run_dir / 'last.pt'}. Resume with: "
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
