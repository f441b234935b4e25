"""The training loop behind ``cnnlab train`` (the shape of pytorch/examples' ImageNet script).

Every run directory holds ``config.json``, ``metrics.csv``, ``last.pt``, ``best.pt`` and
``curves.png``. A step is: move the batch, MixUp/CutMix and input noise if asked, the task's loss
under autocast (plus the L1 penalty), backward through the GradScaler, gradient clipping, the
optimizer and then the lr schedule, the moving average of the weights. The loop reads nothing
from the device per iteration (the sums stay there until the progress bar refreshes) and prints
nothing itself (:class:`~cnnlab.train.console.ConsoleReport` does). The set-up is
:func:`~cnnlab.train.setup.setup_run`; the checkpoint's contents are
:mod:`~cnnlab.train.snapshot`'s.
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from rich.console import Console
from torch import nn

from cnnlab.core.files import atomic_write_text
from cnnlab.data import DatasetBundle
from cnnlab.train import snapshot
from cnnlab.train.checkpoint import first_non_finite, save_checkpoint
from cnnlab.train.config import TrainConfig
from cnnlab.train.console import ConsoleReport
from cnnlab.train.curves import plot_curves
from cnnlab.train.errors import RunDirectoryError, TrainingDiverged, TrainingInterrupted
from cnnlab.train.history import EpochMetrics, write_metrics_csv
from cnnlab.train.regularisation import add_input_noise, l1_penalty
from cnnlab.train.running import DeviceSums, Divergence, Running
from cnnlab.train.schedules import is_per_epoch
from cnnlab.train.setup import setup_run
from cnnlab.train.signals import StopSignals
from cnnlab.train.tensorboard import TensorBoardLog

__all__ = ["Trainer", "train"]

_ADVICE = "(a lower learning rate usually helps)"


class Trainer:
    """Train a registered model on a dataset spec (see :func:`~cnnlab.train.setup.setup_run`).

    Args:
        config: the run's options.
        resume_from: a run directory to continue from its ``last.pt``. The checkpoint's own
            config is the truth: ``config`` may differ from it only in epochs, device, workers,
            compile and tensorboard.
        console: where to print (a rich console; stdout by default).
        on_iteration: optional callback ``(trainer, epoch, step)`` after each optimizer step;
            it may call :meth:`request_stop`.
        data: a dataset bundle to train on instead of loading ``config.dataset``.
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
        data: DatasetBundle | None = None,
    ) -> None:
        self.on_iteration = on_iteration
        self._stop = False
        self._signum: int | None = None
        self._saved: tuple[int, int] | None = None  # (epoch, step) that last.pt holds
        self._best_saved: EpochMetrics | None = None  # the epoch that best.pt holds
        self._console = console
        run = setup_run(config, resume_from=resume_from, data=data)
        self.run = run
        self.config, self.device, self.dist, self.data = run.config, run.device, run.dist, run.data
        self.task, self.model, self.train_model = run.task, run.model, run.train_model
        self.optimizer, self.scheduler, self.scaler = run.optimizer, run.scheduler, run.scaler
        self.ema, self.monitor, self.early_stopping = run.ema, run.monitor, run.early_stopping
        self.sampler, self.accounting, self.run_dir = run.sampler, run.accounting, run.run_dir
        self.report = ConsoleReport(console, enabled=self.dist.is_main)
        self.epoch = 0  # finished epochs
        self.step = 0  # optimizer steps done in the current epoch
        self.running = Running()
        self.history: list[EpochMetrics] = []
        self.stopped_early = False
        if run.checkpoint is not None:
            snapshot.restore(self, run.checkpoint, self.run_dir / "last.pt")
            self._saved = (self.epoch, self.step)
            if (self.run_dir / "best.pt").exists():
                best = [r for r in self.history if r.epoch == self.monitor.best_epoch]
                self._best_saved = best[0] if best else None
        run.checkpoint = None  # not kept in memory

    @property
    def eval_model(self) -> nn.Module:
        """The model validation uses: the moving average with ``--ema``, else the trained one."""
        return self.ema.module if self.ema is not None else self.model

    # ------------------------------------------------------------------ stopping
    def request_stop(self) -> None:
        """Stop after the current iteration, saving ``last.pt`` (what Ctrl-C does)."""
        self._stop = True

    def _on_signal(self, signum: int) -> None:
        self._signum = signum
        self._stop = True

    def _stop_agreed(self) -> bool:
        """Whether to stop now: any process asked (every process stops at the same step)."""
        return self.dist.any(self._stop) if self.dist.active else self._stop

    def on_disk(self) -> str:
        """What the run folder holds to resume from, in words (for messages after a stop)."""
        if self._saved is None:
            return "no checkpoint of this run was saved"
        epoch, step = self._saved
        where = f"epoch {epoch + 1} up to iteration {step}" if step else f"the end of epoch {epoch}"
        text = f"{self.run_dir / 'last.pt'} holds {where}"
        best = self._best_saved
        if best is not None:
            value = best.values[self.monitor.name]
            text += f", {self.run_dir / 'best.pt'} holds epoch {best.epoch}"
            text += f" ({self.monitor.name.replace('_', ' ')} {value:.4f})"
        return text

    def _check_weights(self, where: str) -> None:
        models = [self.model] + ([self.ema.module] if self.ema is not None else [])
        for model in models:
            bad = first_non_finite(model.state_dict())
            if bad is not None:
                raise TrainingDiverged(
                    f"weight {bad} is not finite {where}; stopped without saving it; "
                    f"{self.on_disk()} {_ADVICE}"
                )

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

        A run that already has that many epochs, or that stopped early, changes nothing on disk.

        Raises:
            TrainingInterrupted: after Ctrl-C, SIGTERM or :meth:`request_stop`, with ``last.pt``
                saved at the current iteration.
            TrainingDiverged: a loss, the validation loss or a weight became NaN or infinite;
                nothing of it was saved.
            RunDirectoryError: a file of the run could not be written.
        """
        cfg = self.config
        if self.epoch >= cfg.epochs or self.stopped_early:
            why = (
                f"stopped early after epoch {self.epoch}"
                if self.stopped_early
                else f"already has {self.epoch} finished epoch(s) and {cfg.epochs} were asked for"
            )
            self.report.print(
                f"{self.run_dir} {why}: nothing to do"
                + ("" if self.stopped_early else " (give more epochs to train on)")
            )
            return self.history
        if self.dist.is_main:
            with self._writing(self.run_dir / "config.json", "before training"):
                self.run_dir.mkdir(parents=True, exist_ok=True)
                atomic_write_text(self.run_dir / "config.json", cfg.to_json() + "\n")
        self.report.header(self)
        board = TensorBoardLog(self.run_dir) if cfg.tensorboard and self.dist.is_main else None
        try:
            with StopSignals(self._on_signal):
                while self.epoch < cfg.epochs and not self.stopped_early:
                    if not self._stop_agreed():  # every process decides together
                        self._train_epoch()
                    if self._stop_agreed():
                        where = f"at epoch {self.epoch + 1}, iteration {self.step}"
                        self._check_weights(where)
                        self._save(where, best=False)
                        raise TrainingInterrupted(self._interrupt_message(), self._signum)
                    self._finish_epoch(board)
        finally:
            if board is not None:
                board.close()
        if self.stopped_early:
            self.report.stopped_early(self)
        self.report.footer(self)
        return self.history

    def _train_epoch(self) -> None:
        cfg = self.config
        self.train_model.train()
        self.sampler.set_epoch(self.epoch, skip=self.step)
        self.run.train_loader.generator.manual_seed(cfg.seed * 1_000_003 + self.epoch)
        total = self.accounting.iterations_per_epoch
        if self.step >= total:
            return
        sums = DeviceSums(self.running, self.device, len(self.task.train_scores))
        start = last_read = time.perf_counter()
        description = f"epoch {self.epoch + 1}/{cfg.epochs}"
        with self.report.epoch_bar(description, total, self.step) as bar:
            for done_here, batch in enumerate(self.run.train_loader, start=1):
                self._train_step(batch, sums)
                now = time.perf_counter()
                shown = None
                if now - last_read >= self.refresh_seconds:
                    last_read = now
                    self._read(sums, check=not self.dist.active)
                    shown = {"loss": self.running.loss}
                    shown.update(self.task.train_values(self.running.counts, self.running.seen))
                bar.update(done_here / max(now - start, 1e-9), shown)
                if self.on_iteration is not None:
                    self.on_iteration(self, self.epoch, self.step)
                if self._stop_agreed():
                    self._stop = True
                    break
        self.running.seconds += time.perf_counter() - start
        self._read(sums, check=True)

    def _train_step(self, batch: object, sums: DeviceSums) -> None:
        cfg, run = self.config, self.run
        inputs, targets = self.task.to_device(batch, self.device, channels_last=cfg.channels_last)
        n = self.task.batch_size(targets)
        if run.batch_transform is not None:
            inputs, targets = run.batch_transform(inputs, targets)
        if cfg.input_noise:
            inputs = add_input_noise(inputs, cfg.input_noise)
        with self._autocast():
            loss, outputs = self.task.loss(self.train_model, inputs, targets)
        objective = loss
        if self.dist.active:  # DDP averages gradients: weigh each process by its share
            objective = loss * (n * self.dist.world / self.sampler.global_size(self.step))
        if cfg.l1:
            objective = objective + cfg.l1 * l1_penalty(run.l1_weights)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(objective).backward()
        if cfg.clip_grad_norm is not None:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip_grad_norm)
        self.scaler.step(self.optimizer)  # skips steps with inf gradients (AMP): normal
        self.scaler.update()
        self.running.lr = self.optimizer.param_groups[0]["lr"]
        if not is_per_epoch(self.scheduler):
            self.scheduler.step()
        if self.ema is not None:
            self.ema.update(self.model)
        self.step += 1
        sums.add(loss, self.task.train_counts(outputs, targets), n, self.step)

    def _autocast(self) -> torch.autocast:
        """float16 (CUDA) or bfloat16 (CPU) autocast with ``--amp``; a no-op without."""
        return torch.autocast(self.device.type, dtype=self.run.amp_dtype, enabled=self.config.amp)

    def _read(self, sums: DeviceSums, check: bool) -> None:
        """Bring the epoch's sums to the host; with ``check``, stop if a loss was not finite.

        Under torchrun the check is made by every process at once (at the end of an epoch or
        at a stop), so that all of them stop together.
        """
        bad = sums.read()
        if not check:
            return
        if self.dist.active:
            found = [d for d in self.dist.gather(bad) if d is not None]
            bad = found[0] if found else None
        if bad is not None:
            self._diverged(bad)

    def _diverged(self, bad: Divergence) -> None:
        raise TrainingDiverged(
            f"loss became {bad.value} at epoch {self.epoch + 1}, iteration {bad.iteration}; "
            f"stopped without saving anything of it; {self.on_disk()} {_ADVICE}"
        )

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """The validation loss and the task's scores (``val_loss``, ``val_acc``...), with the
        evaluated model (the moving average with ``--ema``) in eval mode, every validation
        sample counted once over all processes."""
        model = self.eval_model
        model.eval()
        meter = self.task.meter()
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        seen = 0
        for batch in self.run.val_loader:
            inputs, targets = self.task.to_device(
                batch, self.device, channels_last=self.config.channels_last
            )
            n = self.task.batch_size(targets)
            with self._autocast():
                loss, outputs = self.task.loss(model, inputs, targets)
            loss_sum += loss.double() * n
            self.task.update(meter, outputs, targets)
            seen += n
        count = torch.tensor(float(seen), dtype=torch.float64, device=self.device)
        totals = self.dist.sum(torch.stack([loss_sum, count]))
        self.task.sync(meter, self.dist.sum)
        total, count = totals.tolist()
        scores = {f"val_{k}": v for k, v in self.task.values(meter).items()}
        return {"val_loss": total / max(count, 1), **scores}

    def _epoch_values(self) -> dict[str, float]:
        """The epoch's training values, summed over every process."""
        r = self.running
        if self.dist.active:
            vector = torch.tensor([r.loss_sum, *r.counts, float(r.seen)], dtype=torch.float64)
            vector = self.dist.sum(vector.to(self.device)).tolist()
            r = Running(vector[0], vector[1:-1], int(vector[-1]), r.seconds, r.lr)
        train = {"train_loss": r.loss}
        train.update({f"train_{k}": v for k, v in self.task.train_values(r.counts, r.seen).items()})
        return train

    def _finish_epoch(self, board: TensorBoardLog | None) -> None:
        start = time.perf_counter()
        train = self._epoch_values()
        val = self.evaluate()
        epoch = self.epoch + 1
        where = f"after epoch {epoch}"
        if not math.isfinite(val["val_loss"]):
            raise TrainingDiverged(
                f"validation loss became {val['val_loss']} {where}; stopped without saving that "
                f"epoch; {self.on_disk()} {_ADVICE}"
            )
        self._check_weights(where)
        values = {**train, **val}
        row = EpochMetrics(
            epoch=epoch,
            values={c: values[c] for c in self.task.columns()},
            lr=self.running.lr,
            seconds=round(self.running.seconds + time.perf_counter() - start, 3),
        )
        score = row.values[self.monitor.name]
        if is_per_epoch(self.scheduler):
            self.scheduler.step(score)
        self.epoch += 1
        self.step = 0
        self.running = Running(lr=self.running.lr)
        self.history.append(row)
        is_best = self.monitor.update(score, epoch)
        if self.early_stopping is not None and self.early_stopping.update(score, epoch):
            self.stopped_early = True
        self._save(where, best=is_best)
        if self.dist.is_main:
            self._write_epoch_files(where, board)
        self.report.epoch_line(row, self.config.epochs, is_best)

    def _save(self, where: str, best: bool) -> None:
        """Write ``last.pt`` (and ``best.pt``) from process 0; every process must call this."""
        state = snapshot.capture(self)
        if not self.dist.is_main:
            return
        with self._writing(self.run_dir / "last.pt", where):
            save_checkpoint(self.run_dir / "last.pt", state)
        self._saved = (self.epoch, self.step)
        if best:
            with self._writing(self.run_dir / "best.pt", where):
                save_checkpoint(self.run_dir / "best.pt", state)
            self._best_saved = self.history[-1]

    def _write_epoch_files(self, where: str, board: TensorBoardLog | None) -> None:
        with self._writing(self.run_dir / "metrics.csv", where):
            write_metrics_csv(self.run_dir / "metrics.csv", self.history)
        with self._writing(self.run_dir / "curves.png", where):
            title = f"{self.config.model} on {self.data.name}"
            plot_curves(self.run_dir / "curves.png", self.history, title=title)
            self.task.write_figures(self.eval_model, self.run_dir, self.device)
        if board is not None:
            with self._writing(self.run_dir, where):
                board.add(self.history[-1])

    def _interrupt_message(self) -> str:
        by = f" ({signal.Signals(self._signum).name})" if self._signum is not None else ""
        where = (
            f"epoch {self.epoch + 1}, iteration {self.step}/{self.accounting.iterations_per_epoch}"
        )
        return (
            f"interrupted{by} at {where}; saved {self.run_dir / 'last.pt'}. Resume with: "
            f"cnnlab train --resume {self.run_dir}"
        )


def train(config: TrainConfig, **kwargs: object) -> list[EpochMetrics]:
    """Build a :class:`Trainer` and run it; see its arguments."""
    return Trainer(config, **kwargs).fit()  # type: ignore[arg-type]
