"""What a fresh run checks before any work: options, names, the output folder, memory.

A typo in ``--out`` or an edited ``config.json`` should cost nothing: these checks run before
the data or the model load, and each failure is one ``ValueError`` saying what was wrong.
:mod:`cnnlab.train.resume` holds the checks of a resumed run.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from cnnlab.core.files import check_output_dir
from cnnlab.data import DatasetBundle, load_dataset, parse_dataset_spec
from cnnlab.models import model_info
from cnnlab.optim import create_optimizer
from cnnlab.train.config import TrainConfig
from cnnlab.train.state import default_run_dir, resolve_device


def check_before_work(config: TrainConfig) -> torch.device:
    """Check the device, the dataset spec, the model and the optimizer; return the device."""
    device = resolve_device(config.device)
    if config.amp and device.type != "cuda":
        raise ValueError("--amp (float16 autocast) needs a CUDA device; drop --amp on CPU")
    parse_dataset_spec(config.dataset)
    info = model_info(config.model)
    if info.task != "classification":
        raise ValueError(
            f"model {config.model!r} is a {info.task} model; cnnlab train trains classifiers"
        )
    # The optimizer's own checks of its name and hyperparameters, on a stand-in parameter.
    create_optimizer(
        config.optimizer,
        [torch.zeros(1, requires_grad=True)],
        lr=config.lr,
        weight_decay=config.weight_decay,
    )
    return device


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
