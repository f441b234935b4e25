"""Setting up a run: everything checked first, then data, model, optimizer, schedule, loaders.

Everything that can be checked before work is checked first: the options, the output folder (a
file, under a file, not writable), and when resuming the checkpoint and its config. Only then do
the data and the model load. A fresh run's folder is claimed last, when nothing can fail any
more; with an empty ``config.out`` it is ``runs/MODEL-DATASET-TIME``, made unique (``-2``,
``-3``...) atomically. Under torchrun, process 0 alone checks and claims the folder.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from cnnlab.core.accounting import EpochAccounting
from cnnlab.core.files import create_unique_dir
from cnnlab.data import DatasetBundle
from cnnlab.models import create_model
from cnnlab.optim import create_optimizer
from cnnlab.train.config import TrainConfig
from cnnlab.train.distributed import Distributed, connect, launched_by_torchrun
from cnnlab.train.ema import WeightEMA
from cnnlab.train.input_check import check_input_size
from cnnlab.train.monitor import EarlyStopping, Monitor
from cnnlab.train.preflight import check_run, load_data, schedule_options
from cnnlab.train.regularisation import penalised_weights
from cnnlab.train.sampler import EpochBatchSampler, ShardSampler
from cnnlab.train.schedules import Scheduler, build_scheduler
from cnnlab.train.signals import ignore_stop_signals
from cnnlab.train.state import default_run_dir
from cnnlab.train.tasks import Task, get_task
from cnnlab.train.tasks.base import BatchTransform
from cnnlab.train.teacher import load_teacher

__all__ = ["Run", "build_schedule", "setup_run"]

# Validation batches hold at least this many samples (no gradients: memory allows more).
VAL_BATCH_MIN = 256


@dataclass
class Run:
    """The pieces of a set-up run (see :func:`setup_run`).

    ``model`` is the module whose weights are trained and saved; ``train_model`` is what the
    loop calls (the same module, or it wrapped in DistributedDataParallel and/or compiled).
    ``checkpoint`` is the state to resume from (None for a fresh run); ``teacher`` the frozen
    model of ``--teacher`` (None without).
    """

    config: TrainConfig
    device: torch.device
    dist: Distributed
    data: DatasetBundle
    task: Task
    model: nn.Module
    train_model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Scheduler
    scaler: torch.amp.GradScaler
    amp_dtype: torch.dtype
    ema: WeightEMA | None
    teacher: nn.Module | None
    batch_transform: BatchTransform | None
    l1_weights: list[nn.Parameter]
    monitor: Monitor
    early_stopping: EarlyStopping | None
    sampler: EpochBatchSampler
    train_loader: DataLoader
    val_loader: DataLoader
    accounting: EpochAccounting
    run_dir: Path
    checkpoint: dict[str, Any] | None


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def build_schedule(config: TrainConfig, optimizer: torch.optim.Optimizer, steps: int) -> Scheduler:
    """The run's scheduler over ``config.epochs`` epochs of ``steps`` iterations."""
    return build_scheduler(
        optimizer,
        config.scheduler,
        epochs=config.epochs,
        steps_per_epoch=steps,
        warmup_epochs=config.warmup_epochs,
        **schedule_options(config),
    )


def _check_batches(cfg: TrainConfig, n_train: int, dist: Distributed) -> EpochAccounting:
    accounting = EpochAccounting(n_train, cfg.batch_size, cfg.epochs, cfg.drop_last)
    if accounting.iterations_per_epoch == 0:
        raise ValueError(
            f"--batch-size {cfg.batch_size} with --drop-last leaves no iteration for "
            f"{n_train} training samples"
        )
    last = n_train % cfg.batch_size
    short = last and not cfg.drop_last and last < dist.world
    if dist.active and (cfg.batch_size < dist.world or short):
        raise ValueError(
            f"batch_size {cfg.batch_size} (the global batch, shared by {dist.world} processes) "
            f"leaves a process without samples in "
            + ("every batch" if cfg.batch_size < dist.world else f"the last batch of {last}")
            + "; choose a batch size that gives every process a sample, or --drop-last"
        )
    return accounting


def _loaders(
    cfg: TrainConfig, data: DatasetBundle, dist: Distributed, device: torch.device
) -> tuple[EpochBatchSampler, DataLoader, DataLoader]:
    pin = device.type == "cuda"
    collate = getattr(data, "collate_fn", None)
    sampler = EpochBatchSampler(
        len(data.train), cfg.batch_size, cfg.seed, cfg.drop_last, dist.rank, dist.world
    )
    # Loaders draw their workers' base seed from a generator; give them their own (re-seeded
    # per epoch) so that creating an iterator never moves the global RNG that dropout uses.
    train_loader = DataLoader(
        data.train,
        batch_sampler=sampler,
        num_workers=cfg.workers,
        pin_memory=pin,
        generator=torch.Generator(),
        worker_init_fn=ignore_stop_signals,
        collate_fn=collate,
    )
    val_loader = DataLoader(
        data.val,
        batch_size=max(cfg.batch_size, VAL_BATCH_MIN),
        sampler=ShardSampler(len(data.val), dist.rank, dist.world),
        num_workers=cfg.workers,
        pin_memory=pin,
        generator=torch.Generator(),
        worker_init_fn=ignore_stop_signals,
        collate_fn=collate,
    )
    return sampler, train_loader, val_loader


def _wrap(cfg: TrainConfig, model: nn.Module, dist: Distributed, device: torch.device) -> nn.Module:
    """The module the loop calls: DistributedDataParallel under torchrun, compiled if asked."""
    train_model = model
    if dist.active:
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        train_model = DistributedDataParallel(model, device_ids=ids)
    if cfg.compile:
        train_model = torch.compile(train_model)
    return train_model


def setup_run(
    config: TrainConfig,
    *,
    resume_from: str | Path | None = None,
    data: DatasetBundle | None = None,
) -> Run:
    """Check, then build every piece of a run (see the module docstring).

    Args:
        config: the run's options (validated here).
        resume_from: a run directory whose ``last.pt`` to continue; its own config is the
            truth: ``config`` may differ from it only in :data:`~cnnlab.train.config.RESUMABLE`.
        data: a dataset bundle to train on instead of loading ``config.dataset`` (which then
            only names it).

    Raises:
        ValueError: the first problem found, before anything is written.
    """
    # Under torchrun only process 0 checks the folder it will write (its RANK is in the env).
    main = not launched_by_torchrun() or os.environ.get("RANK", "0") == "0"
    device, checkpoint, run_dir = check_run(
        config, resume_from=resume_from, custom_data=data is not None, output=main
    )
    cfg = config
    dist, device = connect(device)

    _seed_everything(cfg.seed)
    if data is None:
        data = load_data(cfg)
    check_input_size(
        cfg.model, data.num_classes, (data.in_chans, *data.image_size), **cfg.model_kwargs
    )
    task = get_task(cfg.task)(data, label_smoothing=cfg.label_smoothing)
    accounting = _check_batches(cfg, len(data.train), dist)
    model = create_model(
        cfg.model, num_classes=data.num_classes, in_chans=data.in_chans, **cfg.model_kwargs
    )
    task.bind(model)
    if cfg.sync_bn and dist.active:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = model.to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = create_optimizer(
        cfg.optimizer, model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay
    )
    scheduler = build_schedule(cfg, optimizer, accounting.iterations_per_epoch)
    cuda_amp = cfg.amp and device.type == "cuda"
    monitor_name = cfg.monitor_name
    mode = task.monitors()[monitor_name]
    early = (
        EarlyStopping(cfg.early_stopping, mode, cfg.min_delta)
        if cfg.early_stopping is not None
        else None
    )
    sampler, train_loader, val_loader = _loaders(cfg, data, dist, device)
    ema = WeightEMA(model, cfg.ema) if cfg.ema is not None else None
    train_model = _wrap(cfg, model, dist, device)

    if dist.is_main and run_dir is None:  # claimed once nothing can fail: no empty folder left
        run_dir = create_unique_dir(default_run_dir(cfg))
    run_dir = Path(dist.broadcast(str(run_dir) if dist.is_main else None))
    cfg.out = str(run_dir)
    return Run(
        config=cfg,
        device=device,
        dist=dist,
        data=data,
        task=task,
        model=model,
        train_model=train_model,
        optimizer=optimizer,
        scheduler=scheduler,
        scaler=torch.amp.GradScaler("cuda", enabled=cuda_amp),
        amp_dtype=torch.float16 if device.type == "cuda" else torch.bfloat16,
        ema=ema,
        teacher=load_teacher(cfg.teacher, data, device) if cfg.teacher else None,
        batch_transform=task.batch_transform(cfg.mixup, cfg.cutmix),
        l1_weights=penalised_weights(model) if cfg.l1 else [],
        monitor=Monitor(monitor_name, mode),
        early_stopping=early,
        sampler=sampler,
        train_loader=train_loader,
        val_loader=val_loader,
        accounting=accounting,
        run_dir=run_dir,
        checkpoint=checkpoint,
    )
