"""Train a CNN built only from NumPy scratch layers on the embedded digits.

conv-BN-ReLU-maxpool twice, dropout, linear (``cnnlab.scratch.tiny_cnn``); scratch SGD with
momentum; every forward and backward is the hand-written NumPy code of ``cnnlab.scratch`` (no torch
involved). A loss that becomes NaN or infinite stops the run (exit 1), as in ``cnnlab train``.
"""

from __future__ import annotations

import argparse
import sys

NAME = "scratch-train"
HELP = "train a NumPy-only CNN (cnnlab.scratch) on the digits with SGD + momentum"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epochs", type=int, default=15, help="passes over the training set (15)")
    p.add_argument("--batch-size", type=int, default=32, help="samples per iteration (32)")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate (0.05)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (0.9)")
    p.add_argument("--weight-decay", type=float, default=5e-4, help="L2 penalty (5e-4)")
    p.add_argument("--width", type=int, default=16, help="channels of the first conv (16)")
    p.add_argument("--dropout", type=float, default=0.25, help="dropout before the linear (0.25)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, dropout, shuffling (0)")
    p.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads (1: the matrices of 8x8 digits are too small to gain from more)",
    )


def run(args: argparse.Namespace) -> int:
    import time

    import numpy as np
    from threadpoolctl import threadpool_limits

    from cnnlab.core.accounting import EpochAccounting
    from cnnlab.core.validate import non_negative_int, number, positive_int
    from cnnlab.data.arrays import load_arrays
    from cnnlab.scratch import CrossEntropyLoss
    from cnnlab.scratch.optim import SGD
    from cnnlab.scratch.tiny_cnn import tiny_cnn
    from cnnlab.scratch.training import TrainingDiverged, fit

    # Library errors name the argument (``seed``); the command line shows the flag (``--seed``).
    seed = non_negative_int("seed", args.seed)
    blas_threads = positive_int("blas_threads", args.blas_threads)
    batch_size = positive_int("batch_size", args.batch_size)
    for name in ("lr", "momentum", "weight_decay"):
        number(name, getattr(args, name), minimum=0)
    data = load_arrays("digits")
    accounting = EpochAccounting(len(data.x_train), batch_size, positive_int("epochs", args.epochs))
    rng = np.random.default_rng(seed)
    _, chans, size, _ = data.x_train.shape
    model = tiny_cnn(
        width=args.width,
        dropout=args.dropout,
        num_classes=len(data.classes),
        in_chans=chans,
        image_size=size,
        rng=rng,
    )
    optimizer = SGD(
        model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay
    )
    n_params = sum(p.data.size for p in model.parameters())
    print(data.describe())
    print(f"model: {n_params} parameters, NumPy scratch layers only")
    print(model)
    start = time.perf_counter()

    def announce(result) -> None:
        print(result.describe(), flush=True)

    print(accounting.describe())
    try:
        with threadpool_limits(blas_threads, user_api="blas"):
            history = fit(
                model,
                CrossEntropyLoss(),
                optimizer,
                (data.x_train, data.y_train),
                (data.x_val, data.y_val),
                epochs=args.epochs,
                batch_size=batch_size,
                rng=rng,
                on_epoch=announce,
            )
    except TrainingDiverged as err:
        print(f"cnnlab {NAME}: error: {err} (try a lower --lr)", file=sys.stderr)
        return 1
    final = history.epochs[-1]
    print(
        f"final test accuracy {final.test_acc:.4f} after {accounting.total_iterations} "
        f"iterations in {time.perf_counter() - start:.1f}s"
    )
    return 0
