"""Train a CNN built only from NumPy scratch layers on the embedded digits.

conv-BN-ReLU-maxpool twice, dropout, linear; scratch SGD with momentum; every forward and
backward is the hand-written NumPy code of ``cnnlab.scratch`` (no torch involved).
"""

from __future__ import annotations

import argparse

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
    from cnnlab.scratch import CrossEntropyLoss
    from cnnlab.scratch.digits import load_digits_arrays
    from cnnlab.scratch.digits_cnn import digits_cnn
    from cnnlab.scratch.module import positive_int
    from cnnlab.scratch.optim import SGD
    from cnnlab.scratch.training import fit

    data = load_digits_arrays()
    accounting = EpochAccounting(
        len(data.x_train), args.batch_size, positive_int("--epochs", args.epochs)
    )
    accounting.iterations_per_epoch  # noqa: B018 -- validates --batch-size before training
    rng = np.random.default_rng(args.seed)
    model = digits_cnn(width=args.width, dropout=args.dropout, rng=rng)
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
    with threadpool_limits(positive_int("--blas-threads", args.blas_threads), user_api="blas"):
        history = fit(
            model,
            CrossEntropyLoss(),
            optimizer,
            (data.x_train, data.y_train),
            (data.x_test, data.y_test),
            epochs=args.epochs,
            batch_size=args.batch_size,
            rng=rng,
            on_epoch=announce,
        )
    final = history.epochs[-1]
    print(
        f"final test accuracy {final.test_acc:.4f} after {accounting.total_iterations} "
        f"iterations in {time.perf_counter() - start:.1f}s"
    )
    return 0
