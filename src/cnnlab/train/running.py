"""The running sums of an epoch, kept on the training device so that no iteration waits for it.

Reading a value of a CUDA tensor in Python (``.item()``, ``float()``, ``if t:``) makes the host wait
for the GPU. The loop therefore adds each iteration's loss, the task's training counts (correct
predictions for classification) and "is the loss finite" into small device tensors and reads them
all at once, with one transfer, when the progress bar refreshes and at the end of the epoch. A
non-finite loss is still reported with the iteration it happened at: the first one is recorded on
the device too.
"""

from __future__ import annotations

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
    """Device-side accumulators that continue a :class:`Running`.

    The sums are float64, as the host's Python floats were, so that they (and a run resumed
    mid-epoch) do not depend on when they were read.

    Args:
        running: the sums so far (restored from a checkpoint when resuming mid-epoch).
        device: the training device.
        num_counts: how many training counts the task sums.
    """

    def __init__(self, running: Running, device: torch.device, num_counts: int) -> None:
        self.running = running
        counts = running.counts or [0.0] * num_counts
        self.loss_sum = torch.tensor(running.loss_sum, dtype=torch.float64, device=device)
        self.counts = torch.tensor(counts, dtype=torch.float64, device=device)
        self.bad_iteration = torch.tensor(-1, dtype=torch.int64, device=device)
        self.bad_value = torch.tensor(0.0, dtype=torch.float32, device=device)

    def add(self, loss: torch.Tensor, counts: torch.Tensor | None, n: int, iteration: int) -> None:
        """Add one iteration (``iteration`` counts from 1 within the epoch); nothing is read.

        Shape:
            loss: () -- the batch's mean loss; counts: (num_counts,) sums over the batch.
        """
        loss = loss.detach()
        self.loss_sum += loss.double() * n
        if counts is not None:
            self.counts += counts
        first = ~torch.isfinite(loss) & (self.bad_iteration < 0)
        self.bad_iteration.masked_fill_(first, iteration)
        self.bad_value = torch.where(first, loss.float(), self.bad_value)
        self.running.seen += n

    def read(self) -> Divergence | None:
        """Copy the sums into :attr:`running` (one transfer); the first non-finite loss, if any."""
        values = torch.cat(
            [
                self.loss_sum.reshape(1),
                self.counts,
                self.bad_iteration.double().reshape(1),
                self.bad_value.double().reshape(1),
            ]
        ).tolist()
        self.running.loss_sum = values[0]
        self.running.counts = values[1:-2]
        bad_iteration, bad_value = values[-2:]
        if bad_iteration < 0:
            return None
        return Divergence(bad_value, int(bad_iteration))
