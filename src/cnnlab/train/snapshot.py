"""What a checkpoint holds, and putting a run back exactly where its checkpoint left it.

A checkpoint (``last.pt``, ``best.pt``) is a dict of tensors and plain values:

- ``model``: the weights to use (the moving average with ``--ema``), what ``cnnlab eval``,
  ``predict`` and ``compress`` load; ``train_model`` and ``ema``: with ``--ema``, the trained
  weights and the average's update count;
- ``optimizer``, ``scheduler``, ``scaler``: their ``state_dict()``;
- ``epoch`` (finished epochs), ``step_in_epoch`` (optimizer steps into the next one),
  ``running`` (that part-epoch's sums), ``history`` (one flat dict per epoch);
- ``monitor`` (the best value of the monitored score and its epoch), ``early_stopping`` (its
  counters, or None), ``stopped_early``;
- ``rng`` (every global generator of process 0) and, under torchrun, ``rng_ranks`` (every
  process's), ``world_size``; ``config`` (the run's options, the truth when resuming).

Restoring sets every one of them, so that a resumed run -- even one stopped mid-epoch, with a
moving average, early stopping or MixUp drawing from the generators -- continues bit-identically
on the CPU. A schedule whose run now has more (or fewer) epochs is rebuilt for the new length
and replayed to the current step.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnlab.train.checkpoint import FORMAT
from cnnlab.train.history import EpochMetrics
from cnnlab.train.resume import load_weights_and_optimizer
from cnnlab.train.running import Running
from cnnlab.train.schedules import replay
from cnnlab.train.setup import build_schedule
from cnnlab.train.state import rng_state, set_rng_state

if TYPE_CHECKING:
    from cnnlab.train.trainer import Trainer

__all__ = ["capture", "restore"]


def capture(t: Trainer) -> dict[str, Any]:
    """The trainer's state as a checkpoint dict (a collective under torchrun: call it in every
    process; only process 0 writes it)."""
    rngs = t.dist.gather(rng_state())
    state: dict[str, Any] = {
        "model": t.eval_model.state_dict(),
        "optimizer": t.optimizer.state_dict(),
        "scheduler": t.scheduler.state_dict(),
        "scaler": t.scaler.state_dict(),
        "epoch": t.epoch,
        "step_in_epoch": t.step,
        "running": t.running.as_dict(),
        "monitor": t.monitor.state_dict(),
        "early_stopping": t.early_stopping.state_dict() if t.early_stopping else None,
        "stopped_early": t.stopped_early,
        "history": [row.as_dict() for row in t.history],
        "rng": rngs[0],
        "world_size": t.dist.world,
        "config": asdict(t.config),
    }
    if t.dist.active:
        state["rng_ranks"] = rngs
    if t.ema is not None:
        state["train_model"] = t.model.state_dict()
        state["ema"] = t.ema.state_dict()
    return state


def _restore_scheduler(t: Trainer, ckpt: dict[str, Any]) -> None:
    saved = ckpt.get("config", {})
    same_length = ckpt.get("format") == FORMAT and saved.get("epochs") == t.config.epochs
    if same_length:
        t.scheduler.load_state_dict(ckpt["scheduler"])
        return
    # Another length (or a schedule of the first format, stepped per epoch): rebuild the schedule
    # for this run's epochs from the base lr and step it to the current iteration.
    for group in t.optimizer.param_groups:
        group["lr"] = t.config.lr
        group.pop("initial_lr", None)
    t.scheduler = build_schedule(t.config, t.optimizer, t.accounting.iterations_per_epoch)
    done = t.epoch * t.accounting.iterations_per_epoch + t.step
    scores = [row.values[t.monitor.name] for row in t.history]
    replay(t.scheduler, done, scores)


def restore(t: Trainer, ckpt: dict[str, Any], path: Path) -> None:
    """Put the trainer in the state of ``ckpt`` (read from ``path``), or say why it cannot.

    Raises:
        ValueError: weights or optimizer state that do not fit, or a damaged checkpoint.
    """
    weights_key = "train_model" if t.ema is not None else "model"
    load_weights_and_optimizer(ckpt, path, t.model, t.optimizer, t.config, weights_key)
    try:
        if t.ema is not None:
            t.ema.load(ckpt["model"], ckpt["ema"])
        if ckpt.get("scaler"):
            t.scaler.load_state_dict(ckpt["scaler"])
        t.epoch = int(ckpt["epoch"])
        t.step = int(ckpt.get("step_in_epoch", 0))
        t.history = [EpochMetrics.from_dict(r) for r in ckpt.get("history", [])]
        running = Running.from_dict(ckpt.get("running", {}))
        if not t.dist.is_main:  # the saved sums are every process's: count them once
            running = Running(seconds=running.seconds, lr=running.lr)
        t.running = running
        _restore_monitor(t, ckpt)
        t.stopped_early = bool(ckpt.get("stopped_early", False))
        ranks = ckpt.get("rng_ranks")
        own = ranks[t.dist.rank] if ranks and len(ranks) == t.dist.world else ckpt["rng"]
        set_rng_state(own)
        _restore_scheduler(t, ckpt)
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError, IndexError) as err:
        raise ValueError(f"checkpoint {str(path)!r} is damaged: {err!r}"[:400]) from None


def _restore_monitor(t: Trainer, ckpt: dict[str, Any]) -> None:
    saved = ckpt.get("monitor")
    if saved is None:  # the first format tracked the best validation accuracy only
        best = float(ckpt.get("best_val_acc", -1.0))
        saved = {"best": best if best >= 0 else None}
        epochs = [r.epoch for r in t.history if r.values.get("val_acc") == best]
        saved["best_epoch"] = epochs[0] if epochs else 0
    t.monitor.best = saved["best"]
    t.monitor.best_epoch = int(saved["best_epoch"])
    stop = ckpt.get("early_stopping")
    if t.early_stopping is not None and stop:
        t.early_stopping.best = stop["best"]
        t.early_stopping.wait = int(stop["wait"])
        t.early_stopping.stopped_epoch = int(stop["stopped_epoch"])
