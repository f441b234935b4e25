"""``cnnlab train --nproc-per-node N``: torchrun, started for the user on this machine.

The same as typing ``torchrun --standalone --nproc_per_node N -m cnnlab train ARGS``: PyTorch's
elastic launcher (``torch.distributed.run``) starts N processes, each running ``cnnlab train
ARGS`` with ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` set. Process 0 prints and writes; its exit
code (2 for bad input, 1 for a divergence, 130/143 after Ctrl-C/SIGTERM) is the launcher's.
torchrun's own log lines and failure report are left out: the worker already said what happened
in one line. A Ctrl-C reaches the launcher, which passes it on to every process once (each has
its own session), so that each saves and stops as in a single process.
"""

from __future__ import annotations

import logging
import os

from cnnlab.core.validate import positive_int

__all__ = ["launch"]

_LOGGERS = ("torch.distributed.run", "torch.distributed.elastic", "torch.distributed.launcher")


def launch(nproc_per_node: int, worker_args: list[str]) -> int:
    """Run ``python -m cnnlab train *worker_args`` in ``nproc_per_node`` processes; exit code.

    Args:
        nproc_per_node: processes on this machine (>= 1; one per GPU on CUDA).
        worker_args: the ``cnnlab train`` arguments of every process.

    Raises:
        InvalidArgument: ``nproc_per_node`` is not a positive integer.
    """
    from torch.distributed import run as torchrun
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    n = positive_int("nproc_per_node", nproc_per_node)
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    # torchrun would set 1 thread per process and warn; share the cores out instead.
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // n)))
    args = torchrun.parse_args(
        ["--standalone", f"--nproc-per-node={n}", "-m", "cnnlab", "train", *worker_args]
    )
    try:
        torchrun.run(args)
    except ChildFailedError as err:
        failure = err.failures.get(0) or err.get_first_failure()[1]  # process 0's, if it failed
        code = failure.exitcode
        return 128 - code if code < 0 else code  # killed by a signal: the shell's convention
    except SignalException as err:
        return 128 + int(err.sigval)
    return 0
