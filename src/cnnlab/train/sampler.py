"""Resumable batches: epoch ``e``'s order depends only on ``(seed, e)``; processes share each batch.

Because the order never depends on how many epochs ran in this process, a run resumed from a
checkpoint (even one written mid-epoch) sees exactly the batches a straight run would have seen.
Under DistributedDataParallel every *global* batch of ``batch_size`` samples (the one a single
process would train on) is split across the processes, so a step of N processes sees exactly the
samples of the single-process step; validation samples are shared out once each, without the
padding of ``torch.utils.data.DistributedSampler``.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

__all__ = ["EpochBatchSampler", "ShardSampler", "share"]


def share(count: int, rank: int, world: int) -> tuple[int, int]:
    """``[start, stop)`` of process ``rank``'s part of ``count`` items split in ``world`` parts.

    Contiguous parts whose sizes differ by at most one, the larger ones first (as
    ``torch.tensor_split``).
    """
    base, extra = divmod(count, world)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


class EpochBatchSampler(Sampler[list[int]]):
    """Batches of a permutation seeded by ``(seed, epoch)``; this process's share of each.

    Args:
        num_samples: size of the dataset.
        batch_size: the global batch size (all processes together).
        seed: the run's seed.
        drop_last: drop the last incomplete global batch.
        rank: this process.
        world: processes in all.

    ``set_epoch(epoch, skip)`` selects the epoch and how many leading global batches (already
    trained on before an interruption) to skip.
    """

    def __init__(
        self,
        num_samples: int,
        batch_size: int,
        seed: int,
        drop_last: bool = False,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.seed = seed
        self.drop_last = drop_last
        self.rank, self.world = rank, world
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def order(self, epoch: int) -> list[int]:
        """The epoch's permutation of every sample (the same in every process)."""
        g = torch.Generator()
        g.manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.num_samples, generator=g).tolist()

    def num_batches(self) -> int:
        """Global batches per epoch."""
        full, rest = divmod(self.num_samples, self.batch_size)
        return full + (rest > 0 and not self.drop_last)

    def global_size(self, index: int) -> int:
        """Samples in global batch ``index`` (0-based) of every process together."""
        return min(self.batch_size, self.num_samples - index * self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        order = self.order(self.epoch)
        for index in range(self.skip, self.num_batches()):
            batch = order[index * self.batch_size : (index + 1) * self.batch_size]
            start, stop = share(len(batch), self.rank, self.world)
            yield batch[start:stop]

    def __len__(self) -> int:
        return max(self.num_batches() - self.skip, 0)


class ShardSampler(Sampler[int]):
    """This process's contiguous share of ``num_samples`` indices, each index in one process."""

    def __init__(self, num_samples: int, rank: int = 0, world: int = 1) -> None:
        self.start, self.stop = share(num_samples, rank, world)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.start, self.stop))

    def __len__(self) -> int:
        return self.stop - self.start
