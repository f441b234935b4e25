"""PyTorch's DistributedDataParallel, as ``torchrun`` starts it: one process per device.

``torchrun --standalone --nproc_per_node N -m cnnlab train ...`` sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` for every process it starts; :func:`connect`
reads them and joins the process group (gloo on the CPU, NCCL on CUDA, each process on its own
GPU ``cuda:LOCAL_RANK``). Without them a run is a single process and every method here is the
identity, so the loop is written once.

Decisions that every process must take at the same iteration (stop after Ctrl-C, stop because a
loss diverged) travel as small CPU tensors over a gloo group: they never wait for a GPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["Distributed", "connect", "launched_by_torchrun"]


def launched_by_torchrun() -> bool:
    """Whether this process was started by ``torchrun`` with more than one process in all."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


@dataclass
class Distributed:
    """This process's place in the run, and the few collectives the loop needs.

    Attributes:
        rank: this process (0 writes and prints).
        world: processes in all (1: not distributed).
        local_rank: this process on its machine (its GPU index).
    """

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    control: Any = None  # the gloo group of host-side decisions (None: the default group)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over processes (in place; the tensor itself when alone)."""
        if self.active:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is true in any process (a CPU all-reduce: no GPU synchronisation)."""
        if not self.active:
            return flag
        value = torch.tensor([int(flag)], dtype=torch.int32)
        dist.all_reduce(value, op=dist.ReduceOp.MAX, group=self.control)
        return bool(value[0])

    def gather(self, obj: Any) -> list[Any]:
        """Every process's ``obj`` (picklable), in rank order."""
        if not self.active:
            return [obj]
        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, obj, group=self.control)
        return out

    def broadcast(self, obj: Any) -> Any:
        """Process 0's ``obj`` in every process."""
        if not self.active:
            return obj
        box = [obj if self.is_main else None]
        dist.broadcast_object_list(box, src=0, group=self.control)
        return box[0]


def connect(device: torch.device) -> tuple[Distributed, torch.device]:
    """Join the process group torchrun set up (if any); return it and this process's device.

    Args:
        device: the run's device (``cuda`` becomes ``cuda:LOCAL_RANK`` under torchrun).

    Raises:
        ValueError: torchrun's variables are incomplete, or more processes than GPUs on CUDA.
    """
    if not launched_by_torchrun():
        return Distributed(), device
    try:
        rank = int(os.environ["RANK"])
        world = int(os.environ["WORLD_SIZE"])
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    except (KeyError, ValueError) as err:
        raise ValueError(
            f"distributed run without a valid {err} variable; start it with torchrun"
        ) from None
    if device.type == "cuda":
        count = torch.cuda.device_count()
        if local_rank >= count:
            raise ValueError(
                f"process {local_rank} of this machine has no GPU: {count} visible; "
                f"give --nproc-per-node at most {count}"
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend)
    control = dist.new_group(backend="gloo") if backend != "gloo" else None
    return Distributed(rank, world, local_rank, control), device
