"""A resumable shuffling sampler: epoch ``e``'s order depends only on ``(seed, e)``.

Because the order never depends on how many epochs ran in this process, a run resumed from a
checkpoint (even one written mid-epoch) sees exactly the batches a straight run would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class EpochShuffleSampler(Sampler[int]):
    """Shuffle ``num_samples`` indices with a generator seeded by ``(seed, epoch)``.

    Args:
        num_samples: size of the dataset.
        seed: the run's seed.

    ``set_epoch(epoch, skip)`` selects the epoch and how many leading samples (already trained
    on before an interruption) to skip.
    """

    def __init__(self, num_samples: int, seed: int) -> None:
        self.num_samples = num_samples
        self.seed = seed
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def order(self, epoch: int) -> list[int]:
        g = torch.Generator()
        g.manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.num_samples, generator=g).tolist()

    def __iter__(self) -> Iterator[int]:
        return iter(self.order(self.epoch)[self.skip :])

    def __len__(self) -> int:
        return max(self.num_samples - self.skip, 0)
