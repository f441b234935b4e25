"""What a compressed model costs: bytes on disk, CPU latency, validation accuracy."""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from cnnlab.core.validate import positive_int


def saved_bytes(obj: Any) -> int:
    """The size of ``torch.save(obj)`` in bytes (what the file on disk takes)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getbuffer().nbytes


def latency_ms(
    model: Callable[[torch.Tensor], Any],
    example: torch.Tensor,
    *,
    repeats: int = 10,
    warmup: int = 2,
) -> float:
    """Median wall time of ``model(example)`` in milliseconds (inference mode, after warm-up)."""
    repeats = positive_int("repeats", repeats)
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            model(example)
        for _ in range(repeats):
            start = time.perf_counter()
            model(example)
            times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


@torch.no_grad()
def accuracy(
    model: Callable[[torch.Tensor], torch.Tensor], data: Dataset, batch_size: int = 256
) -> float:
    """Top-1 accuracy (fraction) of ``model`` on ``(image, label)`` pairs."""
    if isinstance(model, nn.Module):
        model.eval()
    correct = seen = 0
    for x, y in DataLoader(data, batch_size=batch_size, shuffle=False):
        correct += int((model(x).argmax(1) == y).sum())
        seen += len(y)
    if seen == 0:
        raise ValueError("the validation set is empty; nothing to measure accuracy on")
    return correct / seen


def parameter_count(model: nn.Module, *, nonzero: bool = False) -> int:
    """The number of parameter values (only the non-zero ones with ``nonzero=True``)."""
    if nonzero:
        return sum(int(torch.count_nonzero(p)) for p in model.parameters())
    return sum(p.numel() for p in model.parameters())
