"""What a fresh run checks before any work: options, names, the output folder, memory.

A typo in ``--out`` or an edited ``config.json`` should cost nothing: these checks run before
the data or the model load, and each failure is one ``ValueError`` saying what was wrong.
:mod:`cnnlab.train.resume` holds the checks of a resumed run.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import torch

from cnnlab.core.files import check_output_dir
from cnnlab.core.validate import InvalidArgument
from cnnlab.data import DatasetBundle, load_dataset, parse_dataset_spec
from cnnlab.models import model_info
from cnnlab.optim import create_optimizer
from cnnlab.train.checkpoint import load_checkpoint
from cnnlab.train.config import TrainConfig
from cnnlab.train.resume import check_resume_config, existing_run_dir
from cnnlab.train.schedules import SCHEDULERS, build_scheduler
from cnnlab.train.state import default_run_dir, resolve_device
from cnnlab.train.tasks import get_task

# Config fields of the schedule options and the option names build_scheduler takes.
SCHEDULE_OPTIONS = {
    "step_size": "step_size",
    "milestones": "milestones",
    "gamma": "gamma",
    "min_lr": "min_lr",
    "plateau_patience": "patience",
}


def schedule_options(config: TrainConfig) -> dict[str, Any]:
    """The options of ``config.scheduler`` (names as :func:`build_scheduler` takes them).

    Raises:
        InvalidArgument: an option given (not its default) that the scheduler does not take.
    """
    taken = SCHEDULERS[config.scheduler].options
    defaults = TrainConfig()
    options: dict[str, Any] = {}
    for field, option in SCHEDULE_OPTIONS.items():
        value = getattr(config, field)
        if option in taken:
            if value is not None:
                options[option] = value
        elif value != getattr(defaults, field):
            takes = ", ".join(f for f, o in SCHEDULE_OPTIONS.items() if o in taken) or "none"
            raise InvalidArgument(
                field,
                f"{field} is not an option of scheduler {config.scheduler!r} (it takes {takes})",
            )
    if "mode" in taken:
        task = get_task(config.task)
        options["mode"] = task.monitors()[config.monitor_name]
    return options


def check_before_work(config: TrainConfig, *, custom_data: bool = False) -> torch.device:
    """Check the device, the dataset spec, the model, the optimizer, the schedule and the
    options that need something (a GPU, a package); return the device.

    ``custom_data``: the data is given as a bundle, ``config.dataset`` only names it.
    """
    device = resolve_device(config.device)
    if config.sync_bn and device.type != "cuda":
        raise InvalidArgument(
            "sync_bn",
            "sync_bn needs CUDA: PyTorch's SyncBatchNorm runs on GPUs only; drop it on the CPU",
        )
    if config.tensorboard:
        check_tensorboard()
    if not custom_data:
        parse_dataset_spec(config.dataset)
    info = model_info(config.model)
    task = get_task(config.task)
    if info.task != task.model_task:
        raise ValueError(
            f"model {config.model!r} is a {info.task} model; task {config.task!r} trains "
            f"{task.model_task} models"
        )
    # The optimizer's and the schedule's own checks, on a stand-in parameter.
    optimizer = create_optimizer(
        config.optimizer,
        [torch.zeros(1, requires_grad=True)],
        lr=config.lr,
        weight_decay=config.weight_decay,
    )
    build_scheduler(
        optimizer,
        config.scheduler,
        epochs=config.epochs,
        steps_per_epoch=1,
        warmup_epochs=config.warmup_epochs,
        **schedule_options(config),
    )
    return device


def check_tensorboard() -> None:
    """Raise a one-line ``ValueError`` if TensorBoard's writer cannot be imported."""
    try:
        importlib.import_module("torch.utils.tensorboard")
    except ImportError as err:
        raise InvalidArgument(
            "tensorboard",
            f"tensorboard needs the tensorboard package ({err}); install it with: "
            f"pip install 'cnnlab[tensorboard]'",
        ) from None


def check_run(
    config: TrainConfig,
    *,
    resume_from: str | Path | None = None,
    custom_data: bool = False,
    output: bool = True,
) -> tuple[torch.device, dict[str, Any] | None, Path | None]:
    """Every check of a run before work: what :func:`~cnnlab.train.setup.setup_run` (and the
    ``--nproc-per-node`` launcher, before it starts any process) does first.

    Validates ``config`` in place. With ``resume_from``, loads the checkpoint (as data) and
    checks that ``config`` matches its own config. With ``output``, checks the run folder can
    be written (process 0 of a distributed run; the others write nothing).

    Returns:
        ``(device, checkpoint, run_dir)``: the checkpoint is None for a fresh run; ``run_dir``
        is None for a fresh run without ``out`` (a default folder is claimed at the end).
    """
    checkpoint = None
    run_dir: Path | None = None
    if resume_from is not None:
        run_dir = existing_run_dir(resume_from)
        checkpoint = load_checkpoint(run_dir / "last.pt")
        check_resume_config(config, checkpoint, run_dir)
    config.validate()
    device = check_before_work(config, custom_data=custom_data)
    if output:
        if checkpoint is None:
            run_dir = check_new_run_dir(config)
        elif int(checkpoint["epoch"]) < config.epochs:  # something will be written
            check_output_dir("resume", run_dir)
    return device, checkpoint, run_dir


def check_new_run_dir(config: TrainConfig) -> Path | None:
    """The folder ``config.out`` names (``~`` expanded) if it can hold a new run.

    With an empty ``out`` the default folder's parent (``runs``) is checked and None returned:
    the folder itself is created, unique, once the run is set up.
    """
    if not config.out:
        check_output_dir("out", default_run_dir(config).parent)
        return None
    run_dir = check_output_dir("out", config.out)
    if (run_dir / "last.pt").exists():
        raise ValueError(
            f"run directory {str(run_dir)!r} already holds a run; continue it with "
            f"--resume {run_dir} or choose another --out"
        )
    return run_dir


def load_data(config: TrainConfig) -> DatasetBundle:
    """:func:`~cnnlab.data.load_dataset`, with running out of memory said in one line."""
    try:
        return load_dataset(
            config.dataset,
            config.image_size,
            config.val_fraction,
            skip_bad_images=config.skip_bad_images,
            task=config.task,
        )
    except (MemoryError, RuntimeError) as err:
        text = str(err)
        if not isinstance(err, MemoryError) and "can't allocate memory" not in text:
            raise
        asked = re.search(r"allocate (\d+) bytes", text)
        need = f" (it asked for {int(asked.group(1)) / 1e9:,.1f} GB at once)" if asked else ""
        size = f" at image size {config.image_size}" if config.image_size else ""
        raise ValueError(
            f"not enough memory to load {config.dataset}{size}{need}; try a smaller --image-size"
        ) from None
