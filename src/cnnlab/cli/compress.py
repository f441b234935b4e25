"""Compress a trained run and measure what it costs: size, MACs, CPU latency, accuracy.

RUN_DIR is a `cnnlab train` run directory (config.json and best.pt or last.pt). Methods:
fold-bn (batch norms merged into the convs), ptq-int8 (static int8, PyTorch's PT2E flow for x86,
calibrated on training images), dynamic-int8 (int8 linear layers, torchao), prune (remove the
weakest conv channels, then fine-tune), prune-unstructured (zero the smallest weights, then
fine-tune), lowrank (truncated SVD of the linear layers). Fine-tuning uses the run's optimizer
and learning rate. --amount is the share pruned or of singular values dropped (default 0.5).
--all runs every method and draws accuracy against size and latency. Each compressed model is
saved as OUT/METHOD.pt (tensors only; read it back with cnnlab.compress.load_compressed), with
report.md and report.json. Latency is the median CPU time at batch 1 and 32.
"""

from __future__ import annotations

import argparse

NAME = "compress"
HELP = "shrink a trained run (BN folding, int8, pruning, low rank): size, latency, accuracy"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", help="a cnnlab train run directory")
    p.add_argument(
        "--method",
        default=None,
        help="fold-bn | ptq-int8 | dynamic-int8 | prune | prune-unstructured | lowrank",
    )
    p.add_argument("--all", action="store_true", help="every method, one table and one figure")
    p.add_argument(
        "--amount",
        type=float,
        default=None,
        help="share of channels/weights pruned or singular values dropped, in [0, 1) (0.5)",
    )
    p.add_argument("--out", metavar="DIR", default=None, help="default RUN_DIR/compressed")
    p.add_argument(
        "--finetune-epochs", type=int, default=3, help="epochs after pruning (default 3)"
    )
    p.add_argument(
        "--finetune-lr", type=float, default=None, help="default: the run's learning rate"
    )
    p.add_argument(
        "--calibration-images",
        type=int,
        default=256,
        help="training images that calibrate int8 (default 256)",
    )
    p.add_argument(
        "--repeats", type=int, default=10, help="timed runs per latency, median (default 10)"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch CPU threads (0: torch's default; 1 gives steadier times on a busy machine)",
    )


def run(args: argparse.Namespace) -> int:
    import torch

    from cnnlab.compress import METHODS, compress_run
    from cnnlab.core.validate import non_negative_int

    if args.all and args.method:
        raise ValueError("give --method NAME or --all, not both")
    if not args.all and not args.method:
        raise ValueError(f"give --method ({' | '.join(METHODS)}) or --all")
    methods = list(METHODS) if args.all else [args.method]
    if non_negative_int("threads", args.threads):
        torch.set_num_threads(args.threads)
    report, out = compress_run(
        args.run_dir,
        methods,
        amount=args.amount,
        out=args.out,
        finetune_epochs=args.finetune_epochs,
        finetune_lr=args.finetune_lr,
        calibration_images=args.calibration_images,
        repeats=args.repeats,
        log=lambda line: print(line, flush=True),
    )
    print()
    print(report.describe())
    print(report.to_markdown())
    for row in report.rows[1:]:
        print(f"  {row.method}: {row.detail}")
    figure = " and comparison.png" if len(methods) > 1 else ""
    print(f"wrote {out} (one .pt per method, report.md, report.json{figure})")
    return 0
