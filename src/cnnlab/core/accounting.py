"""Epoch, iteration and batch size: the first section of the notes.

One *iteration* is one forward and one backward pass over a batch of ``batch_size`` samples;
one *epoch* is one pass over all training samples. With 1000 samples and a batch size of 10 an
epoch takes 100 iterations. When the last batch is incomplete it still counts as an iteration,
unless the loader drops it (``drop_last=True``).
"""

from __future__ import annotations

from dataclasses import dataclass


def _positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def iterations_per_epoch(num_samples: int, batch_size: int, drop_last: bool = False) -> int:
    """Number of iterations (batches) in one epoch.

    Math:
        ceil(N / B) when the last partial batch is kept, floor(N / B) when it is dropped.

    Args:
        num_samples: training samples N (>= 0).
        batch_size: samples per iteration B (> 0).
        drop_last: drop the last incomplete batch, as ``torch.utils.data.DataLoader`` does.

    Returns:
        The number of iterations, equal to ``len(DataLoader(...))``.

    Example:
        >>> iterations_per_epoch(1000, 10)
        100
        >>> iterations_per_epoch(1797, 64), iterations_per_epoch(1797, 64, drop_last=True)
        (29, 28)
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 0:
        raise ValueError(f"num_samples must be a non-negative integer, got {num_samples!r}")
    _positive_int("batch_size", batch_size)
    if drop_last:
        return num_samples // batch_size
    return -(-num_samples // batch_size)


@dataclass(frozen=True)
class EpochAccounting:
    """The bookkeeping the notes ask for before training starts."""

    num_samples: int
    batch_size: int
    epochs: int
    drop_last: bool = False

    @property
    def iterations_per_epoch(self) -> int:
        return iterations_per_epoch(self.num_samples, self.batch_size, self.drop_last)

    @property
    def total_iterations(self) -> int:
        return self.iterations_per_epoch * self.epochs

    def describe(self) -> str:
        rule = "floor" if self.drop_last else "ceil"
        return (
            f"training samples N={self.num_samples}, batch size B={self.batch_size}, "
            f"iterations/epoch = {rule}(N/B) = {self.iterations_per_epoch}, "
            f"epochs = {self.epochs}, total iterations = {self.total_iterations}"
        )
