"""The running sums of an epoch, kept on the training device so that no iteration waits for it.

Reading a value of a CUDA tensor in Python (``.item()``, ``float()``, ``if t:``) makes the host wait
for the GPU. The loop therefore keeps each iteration's loss and the task's training counts
(correct predictions for classification) as the device tensors the step made, and reads them all
at once, with one transfer, when the progress bar refreshes and at the end of the epoch. A
non-finite loss is still reported with the iteration it happened at.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

__all__ = ["DeviceSums", "Divergence", "Running"]


@dataclass
class Running:
    """Sums over the part of the current epoch trained so far (what a checkpoint stores).

    Attributes:
        loss_sum: sum of per-sample losses (batch mean times batch size).
        counts: the task's summed training counts (classification: correct predictions).
        seen: samples trained on.
        seconds: training time of the epoch so far.
        lr: learning rate of the last iteration (of the first parameter group).
    """

    loss_sum: float = 0.0
    counts: list[float] = field(default_factory=list)
    seen: int = 0
    seconds: float = 0.0
    lr: float = 0.0

    @property
    def loss(self) -> float:
        return self.loss_sum / max(self.seen, 1)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Running:
        """Read :meth:`as_dict` (and the first format, which kept ``correct``)."""
        data = dict(data)
        if "correct" in data:
            data["counts"] = [float(data.pop("correct"))]
        return cls(**data)


@dataclass
class Divergence:
    """The first non-finite training loss of an epoch: its value and iteration (1-based)."""

    value: float
    iteration: int


class DeviceSums:
    """The epoch's per-iteration losses and counts, kept as device tensors until read.

    ``add`` only keeps references to tensors the step computed anyway (no device work, no
    transfer); ``read`` stacks them, brings them to the host in one transfer and adds them, in
    float64 and in iteration order, to the :class:`Running` sums, so the sums (and a run resumed
    mid-epoch) do not depend on when they were read.

    Args:
        running: the sums so far (restored from a checkpoint when resuming mid-epoch).
        num_counts: how many training counts the task sums.
    """

    def __init__(self, running: Running, num_counts: int) -> None:
        self.running = running
        if not running.counts:
            running.counts = [0.0] * num_counts
        self._losses: list[torch.Tensor] = []
        self._counts: list[torch.Tensor] = []
        self._sizes: list[int] = []
        self._first_iteration = 1  # the iteration of the first pending loss
        self.divergence: Divergence | None = None

    def add(self, loss: torch.Tensor, counts: torch.Tensor | None, n: int, iteration: int) -> None:
        """Add one iteration (``iteration`` counts from 1 within the epoch); nothing is read.

        Shape:
            loss: () -- the batch's mean loss; counts: (num_counts,) or () sums over the batch.
        """
        if not self._losses:
            self._first_iteration = iteration
        self._losses.append(loss.detach())
        if counts is not None:
            self._counts.append(counts.detach())
        self._sizes.append(n)
        self.running.seen += n

    def read(self) -> Divergence | None:
        """Add the pending iterations to :attr:`running` (one transfer); the first non-finite
        loss of the epoch, if any."""
        if self._losses:
            pending = [torch.stack(self._losses).double()]
            if self._counts:
                pending.append(torch.stack(self._counts).double().reshape(-1))
            values = torch.cat(pending).tolist()
            losses, counts = values[: len(self._sizes)], values[len(self._sizes) :]
            r = self.running
            for i, (loss, n) in enumerate(zip(losses, self._sizes, strict=True)):
                if self.divergence is None and not math.isfinite(loss):
                    self.divergence = Divergence(loss, self._first_iteration + i)
                r.loss_sum += loss * n
            k = len(r.counts)
            for i in range(0, len(counts), k or 1):
                r.counts = [a + b for a, b in zip(r.counts, counts[i : i + k], strict=True)]
            self._losses, self._counts, self._sizes = [], [], []
        return self.divergence
