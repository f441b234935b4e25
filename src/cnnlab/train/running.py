"""The running sums of an epoch, kept on the training device so that no iteration waits for it.

Reading a value of a CUDA tensor in Python (``.item()``, ``float()``, ``if t:``) makes the host wait
for the GPU. The loop therefore adds each iteration's loss, correct count and "is the loss
finite" into small device tensors and reads them all at once, with one transfer, when the
progress bar refreshes and at the end of the epoch. A non-finite loss is still reported with the
iteration it happened at: the first one is recorded on the device too.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Running:
    """Sums over the part of the current epoch trained so far (what a checkpoint stores)."""

    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    seconds: float = 0.0

    @property
    def loss(self) -> float:
        return self.loss_sum / max(self.seen, 1)

    @property
    def acc(self) -> float:
        return self.correct / max(self.seen, 1)


@dataclass
class Divergence:
    """The first non-finite training loss of an epoch: its value and iteration (1-based)."""

    value: float
    iteration: int


class DeviceSums:
    """Device-side accumulators that continue a :class:`Running`.

    The loss sum is float64, as the host's Python float was, so that the sums (and a run resumed
    mid-epoch) do not depend on when they were read.

    Args:
        running: the sums so far (restored from a checkpoint when resuming mid-epoch).
        device: the training device.
    """

    def __init__(self, running: Running, device: torch.device) -> None:
        self.running = running
        self.loss_sum = torch.tensor(running.loss_sum, dtype=torch.float64, device=device)
        self.correct = torch.tensor(running.correct, dtype=torch.int64, device=device)
        self.bad_iteration = torch.tensor(-1, dtype=torch.int64, device=device)
        self.bad_value = torch.tensor(0.0, dtype=torch.float32, device=device)

    def add(
        self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor, iteration: int
    ) -> None:
        """Add one iteration (``iteration`` counts from 1 within the epoch); nothing is read.

        Shape:
            loss: () -- the batch's mean loss; logits: (N, classes); y: (N,)
        """
        loss = loss.detach()
        n = y.shape[0]
        self.loss_sum += loss.double() * n
        self.correct += (logits.detach().argmax(1) == y).sum()
        first = ~torch.isfinite(loss) & (self.bad_iteration < 0)
        self.bad_iteration.masked_fill_(first, iteration)
        self.bad_value = torch.where(first, loss.float(), self.bad_value)
        self.running.seen += n

    def read(self) -> Divergence | None:
        """Copy the sums into :attr:`running` (one transfer); the first non-finite loss, if any."""
        values = [self.loss_sum, self.correct, self.bad_iteration, self.bad_value]
        loss_sum, correct, bad_iteration, bad_value = torch.stack(
            [v.double() for v in values]
        ).tolist()
        self.running.loss_sum = loss_sum
        self.running.correct = int(correct)
        if bad_iteration < 0:
            return None
        return Divergence(bad_value, int(bad_iteration))
