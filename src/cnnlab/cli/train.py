"""Train a model from the registry (a classifier on the embedded digits by default).

Writes config.json, metrics.csv, last.pt, best.pt and curves.png into the run directory.
Schedules are stepped every iteration (--scheduler, --warmup-epochs; options in epochs);
best.pt and --early-stopping follow --monitor. Ctrl-C or SIGTERM saves last.pt at the current
iteration and prints how to resume (exit 130 or 143); --resume RUN_DIR --epochs E continues to E
total epochs with the run's own configuration. A loss, validation loss or weight that turns NaN
or infinite stops the run without saving it. --nproc-per-node N runs N processes with PyTorch's
DistributedDataParallel (torchrun); `torchrun ... -m cnnlab train` works too.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import fields
from typing import Any

NAME = "train"
HELP = "train a model (digits by default): schedules, regularisation, resumable, DDP"


def _milestones(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected epochs separated by commas (30,60), got {text!r}"
        ) from None


def _kwarg(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` -> ``(KEY, VALUE)``: VALUE a Python literal (64, 0.5, True, 8,16,32), else
    the text itself (as timm's ``--model-kwargs``)."""
    import ast

    key, sep, value = text.partition("=")
    if not sep or not key.strip().isidentifier():
        raise argparse.ArgumentTypeError(
            f"expected KEY=VALUE (e.g. min_size=64 anchor_sizes=8,16,32,64,128), got {text!r}"
        )
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        parsed = value.strip()
    return key.strip(), parsed


class _KwargsAction(argparse.Action):
    """Collect ``KEY=VALUE`` pairs into one dict (a later key wins)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        setattr(namespace, self.dest, {**getattr(namespace, self.dest, {}), **dict(values)})


# Flags whose values are given as text and turned into a config field: name -> (type, help).
_VALUES: dict[str, tuple[Any, str]] = {
    "model": (
        str,
        "registry name (default: the task's and the dataset's, e.g. digits_cnn, lenet5 for "
        "mnist5k)",
    ),
    "dataset": (
        str,
        "digits | mnist5k | scenes | imagefolder:PATH | mnist:PATH | cifar10:PATH | "
        "segfolder:PATH | multilabel:PATH | coco:PATH (default {dataset}); mnist5k's defaults: "
        "lenet5, --weight-decay 5e-4, --scheduler cosine, --label-smoothing 0.1, --epochs 10",
    ),
    "task": (
        str,
        "classification | segmentation | multilabel | detection (default {task}); the other "
        "tasks start from their recipe on the digit scenes (see docs/training.md)",
    ),
    "epochs": (int, "total epochs (default {epochs})"),
    "batch_size": (int, "samples per step, all processes together (default {batch_size})"),
    "lr": (float, "learning rate (default {lr})"),
    "optimizer": (str, "one of the notes' twelve (default {optimizer})"),
    "weight_decay": (float, "L2 penalty, the optimizer's weight_decay (default 0)"),
    "scheduler": (
        str,
        "none | step | multistep | cosine | exponential | onecycle | plateau, stepped every "
        "iteration (plateau: every epoch, on --monitor) (default none)",
    ),
    "warmup_epochs": (int, "linear warmup from 1%% of --lr over these epochs (default 0)"),
    "step_size": (int, "step: epochs between drops (default a third of the run)"),
    "milestones": (_milestones, "multistep: epochs of the drops, e.g. 30,60"),
    "gamma": (float, "step/multistep/plateau factor (0.1); exponential: per epoch (0.9)"),
    "min_lr": (float, "cosine: the final lr (default 0)"),
    "plateau_patience": (int, "plateau: epochs without improvement before a drop (default 10)"),
    "label_smoothing": (float, "default 0"),
    "augment": (
        str,
        "none | flip | crop | standard | autoaugment | randaugment | trivialaugment (default none)",
    ),
    "random_erasing": (float, "probability of random erasing per training image (default 0)"),
    "pca_lighting": (float, "std of AlexNet's PCA lighting noise (default 0)"),
    "elastic": (float, "segmentation: U-Net's elastic deformation, std in pixels (default 0)"),
    "mixup": (float, "MixUp's Beta alpha, e.g. 0.2; the loss on soft targets (default 0)"),
    "cutmix": (float, "CutMix's Beta alpha, e.g. 1.0 (default 0)"),
    "teacher": (str, "distil from this trained run (its best.pt): Hinton et al.'s soft targets"),
    "distill_alpha": (float, "--teacher: weight of the soft term, 1 - it on the labels (0.5)"),
    "distill_temperature": (float, "--teacher: softmax temperature T; the term is times T^2 (4)"),
    "l1": (float, "L1 penalty LAMBDA * sum|w| on weights, not biases or norm layers"),
    "input_noise": (float, "add Gaussian noise of this std to training inputs"),
    "clip_grad_norm": (float, "clip the gradients' global L2 norm to this value"),
    "ema": (
        float,
        "keep an exponential moving average of the weights with this decay, e.g. "
        "0.999; validation, best.pt and eval use it",
    ),
    "monitor": (str, "val_acc (default) | val_loss: what best.pt and early stopping follow"),
    "early_stopping": (int, "stop after PATIENCE epochs without improvement of --monitor"),
    "min_delta": (float, "early stopping: the smallest change that counts (default 0)"),
    "image_size": (int, "resize images to N x N"),
    "val_fraction": (float, "validation share where the dataset has no split (default 0.2)"),
    "seed": (int, "default {seed}"),
    "out": (str, "run directory (default runs/MODEL-DATASET-TIME)"),
    "device": (str, "auto (CUDA if available) | cpu | cuda"),
    "workers": (int, "DataLoader worker processes (default 0)"),
}
_METAVARS = {
    "early_stopping": "PATIENCE",
    "ema": "DECAY",
    "out": "RUN_DIR",
    "l1": "LAMBDA",
    "mixup": "ALPHA",
    "cutmix": "ALPHA",
    "input_noise": "SIGMA",
    "clip_grad_norm": "MAX",
    "random_erasing": "P",
    "pca_lighting": "STD",
    "teacher": "RUN_DIR",
    "distill_alpha": "A",
    "distill_temperature": "T",
}
_FLAGS = {
    "drop_last": "drop the last incomplete batch of each epoch",
    "skip_bad_images": "leave out image files that cannot be decoded (counted) instead of stopping",
    "amp": "mixed precision: float16 autocast + GradScaler on CUDA, bfloat16 autocast on the CPU",
    "channels_last": "channels-last memory format for the model and its inputs",
    "compile": "torch.compile the model",
    "sync_bn": "SyncBatchNorm across processes (CUDA only)",
    "tensorboard": "also write TensorBoard event files into the run directory",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    from cnnlab.train.config import TrainConfig

    d = vars(TrainConfig())
    S = argparse.SUPPRESS
    for name, (kind, text) in _VALUES.items():
        flag = "--" + name.replace("_", "-")
        metavar = _METAVARS.get(name)
        p.add_argument(flag, type=kind, default=S, metavar=metavar, help=text.format(**d))
    p.add_argument(
        "--model-kwargs",
        nargs="+",
        type=_kwarg,
        action=_KwargsAction,
        default=S,
        metavar="KEY=VALUE",
        help="options of the model's constructor, e.g. min_size=64 anchor_sizes=8,16,32,64,128 "
        "(saved with the run; see docs/training.md)",
    )
    p.add_argument(  # the name issue 16 gives it
        "--distill-t",
        dest="distill_temperature",
        type=float,
        default=S,
        metavar="T",
        help="same as --distill-temperature",
    )
    for name, text in _FLAGS.items():
        p.add_argument("--" + name.replace("_", "-"), action="store_true", default=S, help=text)
    p.add_argument(
        "--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its last.pt"
    )
    p.add_argument(
        "--nproc-per-node",
        type=int,
        default=None,
        metavar="N",
        help="run N processes with DistributedDataParallel (torchrun; gloo on the CPU, NCCL on "
        "CUDA); each step still sees --batch-size samples in all",
    )


def _worker_args(args: argparse.Namespace, given: dict[str, Any]) -> list[str]:
    """The command line of each process the launcher starts (everything but the launcher's)."""
    out: list[str] = []
    for name, value in given.items():
        flag = "--" + name.replace("_", "-")
        if name in _FLAGS:
            out.append(flag)
        elif isinstance(value, dict):
            out += [flag, *(f"{k}={v!r}" for k, v in value.items())] if value else []
        elif isinstance(value, list):
            out += [flag, ",".join(str(v) for v in value)]
        else:
            out += [flag, str(value)]
    if args.resume is not None:
        out += ["--resume", args.resume]
    return out


def run(args: argparse.Namespace) -> int:
    from cnnlab.train.config import RESUMABLE, TrainConfig
    from cnnlab.train.resume import existing_run_dir

    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    if args.resume is not None:
        run_dir = existing_run_dir(args.resume)
        extra = sorted(set(given) - set(RESUMABLE))
        if extra:
            flags = ", ".join("--" + k.replace("_", "-") for k in extra)
            raise ValueError(
                f"--resume continues with the run's own config; only "
                f"{', '.join('--' + k for k in RESUMABLE)} may be given, not {flags}"
            )
        config = TrainConfig.load(run_dir / "config.json")
        for key, value in given.items():
            setattr(config, key, value)
    else:
        run_dir = None
        from cnnlab.train.recipes import recipe

        config = recipe(given.get("task", "classification"), **given)
    if args.nproc_per_node is not None:
        from cnnlab.core.validate import positive_int

        n = positive_int("nproc_per_node", args.nproc_per_node)
        if n > 1:
            return _launch(n, config, run_dir, _worker_args(args, given))
    return _train(config, run_dir)


def _launch(n: int, config: Any, run_dir: Any, worker_args: list[str]) -> int:
    from cnnlab.train.launch import launch
    from cnnlab.train.preflight import check_run

    check_run(config, resume_from=run_dir)  # bad input is one line here, before any process
    return launch(n, worker_args)


def _train(config: Any, run_dir: Any) -> int:
    from cnnlab.train import RunDirectoryError, Trainer, TrainingDiverged, TrainingInterrupted

    main = os.environ.get("RANK", "0") == "0"  # under torchrun, process 0 alone says things
    try:
        trainer = Trainer(config, resume_from=run_dir)
    except ValueError:
        if main:
            raise
        return 2
    try:
        trainer.fit()
    except TrainingInterrupted as stop:
        if main:
            print(f"cnnlab train: {stop}", file=sys.stderr)
        return 128 + (stop.signum or signal.SIGINT)
    except (TrainingDiverged, RunDirectoryError) as err:
        if main:
            print(f"cnnlab train: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:  # a second Ctrl-C or SIGTERM: stopped at once
        signum = getattr(err, "signum", signal.SIGINT)
        if main:
            print(f"cnnlab train: interrupted before saving; {trainer.on_disk()}", file=sys.stderr)
        return 128 + signum
    return 0
