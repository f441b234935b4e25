"""Train a classifier from the model registry (the embedded digits dataset by default).

Writes config.json, metrics.csv, last.pt, best.pt and curves.png into the run directory.
Ctrl-C or SIGTERM saves last.pt at the current iteration and prints how to resume (exit 130 or
143); --resume RUN_DIR --epochs E continues to E total epochs with the run's own configuration.
A loss, validation loss or weight that turns NaN or infinite stops the run without saving it.
"""

from __future__ import annotations

import argparse
import signal
import sys
from dataclasses import fields

NAME = "train"
HELP = "train a classifier (digits by default); resumable, with metrics and plots"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from cnnlab.train.config import DEVICES, SCHEDULERS, TrainConfig

    d = TrainConfig()
    S = argparse.SUPPRESS
    p.add_argument(
        "--model", default=S, help=f"registry name (default {d.model}); see `cnnlab models`"
    )
    p.add_argument(
        "--dataset",
        default=S,
        help=f"digits | imagefolder:PATH | mnist:PATH | cifar10:PATH (default {d.dataset})",
    )
    p.add_argument("--epochs", type=int, default=S, help=f"total epochs (default {d.epochs})")
    p.add_argument("--batch-size", type=int, default=S, help=f"default {d.batch_size}")
    p.add_argument("--lr", type=float, default=S, help=f"learning rate (default {d.lr})")
    p.add_argument(
        "--optimizer", default=S, help=f"one of the notes' twelve (default {d.optimizer})"
    )
    p.add_argument("--weight-decay", type=float, default=S, help="L2 penalty (default 0)")
    p.add_argument(
        "--scheduler", choices=SCHEDULERS, default=S, help="lr schedule per epoch (default none)"
    )
    p.add_argument("--label-smoothing", type=float, default=S, help="default 0")
    p.add_argument("--image-size", type=int, default=S, help="resize images to N x N")
    p.add_argument(
        "--val-fraction",
        type=float,
        default=S,
        help="validation share where the dataset has no split (default 0.2)",
    )
    p.add_argument(
        "--drop-last",
        action="store_true",
        default=S,
        help="drop the last incomplete batch of each epoch",
    )
    p.add_argument(
        "--skip-bad-images",
        action="store_true",
        default=S,
        help="leave out image files that cannot be decoded (counted) instead of stopping",
    )
    p.add_argument("--seed", type=int, default=S, help=f"default {d.seed}")
    p.add_argument(
        "--out",
        metavar="RUN_DIR",
        default=S,
        help="run directory (default runs/MODEL-DATASET-TIME)",
    )
    p.add_argument("--device", choices=DEVICES, default=S, help="default auto (CUDA if available)")
    p.add_argument("--amp", action="store_true", default=S, help="float16 autocast (CUDA)")
    p.add_argument("--workers", type=int, default=S, help="DataLoader worker processes (default 0)")
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        default=None,
        help="continue the run in RUN_DIR from its last.pt",
    )


def run(args: argparse.Namespace) -> int:
    from cnnlab.train import RunDirectoryError, Trainer, TrainingDiverged, TrainingInterrupted
    from cnnlab.train.config import RESUMABLE, TrainConfig
    from cnnlab.train.resume import existing_run_dir

    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    if args.resume is not None:
        run_dir = existing_run_dir(args.resume)
        extra = sorted(set(given) - set(RESUMABLE))
        if extra:
            flags = ", ".join("--" + k.replace("_", "-") for k in extra)
            raise ValueError(
                f"--resume continues with the run's own config; only --epochs, "
                f"--device and --workers may be given, not {flags}"
            )
        config = TrainConfig.load(run_dir / "config.json")
        for key, value in given.items():
            setattr(config, key, value)
        trainer = Trainer(config, resume_from=run_dir)
    else:
        trainer = Trainer(TrainConfig(**given))
    try:
        trainer.fit()
    except TrainingInterrupted as stop:
        print(f"cnnlab train: {stop}", file=sys.stderr)
        return 128 + (stop.signum or signal.SIGINT)
    except (TrainingDiverged, RunDirectoryError) as err:
        print(f"cnnlab train: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:  # a second Ctrl-C or SIGTERM: stopped at once
        signum = getattr(err, "signum", signal.SIGINT)
        print(f"cnnlab train: interrupted before saving; {trainer.on_disk()}", file=sys.stderr)
        return 128 + signum
    return 0
