"""The small explicit training loop the experiments share, and the digits and mnist5k as tensors.

Kept deliberately plain (no trainer, no callbacks): the experiments that train show every step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Split:
    """Inputs and labels of one split.

    Shape:
        x: (N, 1, 8, 8) for the digits, (N, 1, 28, 28) for mnist5k (standardised with training
            statistics); y: (N,).
    """

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)


def digits(dtype: torch.dtype = torch.float32) -> tuple[Split, Split]:
    """scikit-learn's 8x8 digits as ``(train, val)``: cnnlab's fixed stratified 80/20 split."""
    from cnnlab.data import load_dataset

    bundle = load_dataset("digits")
    out = []
    for part in (bundle.train, bundle.val):
        x, y = part.tensors  # type: ignore[attr-defined]
        out.append(Split(x.to(dtype), y))
    return out[0], out[1]


def mnist5k(dtype: torch.dtype = torch.float32, pool: int = 1) -> tuple[Split, Split]:
    """The 5,000 MNIST digits as ``(train, val)``: cnnlab's fixed stratified 4,000/1,000 split.

    Args:
        dtype: dtype of the images.
        pool: average-pool the standardised 28x28 images by ``pool`` x ``pool`` (2: 14x14),
            which makes convolutions ``pool**2`` times cheaper.

    Shape:
        x: (N, 1, 28 // pool, 28 // pool); y: (N,).
    """
    from cnnlab.data.arrays import load_arrays

    data = load_arrays("mnist5k")
    out = []
    for x, y in ((data.x_train, data.y_train), (data.x_val, data.y_val)):
        images = torch.from_numpy(x)
        if pool > 1:
            images = nn.functional.avg_pool2d(images, pool)
        out.append(Split(images.to(dtype), torch.from_numpy(y)))
    return out[0], out[1]


def batches(
    n: int, batch_size: int, generator: torch.Generator, shuffle: bool = True
) -> Iterator[torch.Tensor]:
    """Index tensors of one epoch: a random permutation cut into batches (the last may be short)."""
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    yield from order.split(batch_size)


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: Split,
    batch_size: int,
    generator: torch.Generator,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> list[float]:
    """One epoch of mini-batch training; returns the loss of every step."""
    loss_fn = loss_fn or nn.functional.cross_entropy
    model.train()
    losses = []
    for idx in batches(len(data), batch_size, generator):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(data.x[idx]), data.y[idx])
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses


@torch.no_grad()
def evaluate(model: nn.Module, data: Split) -> tuple[float, float]:
    """``(mean cross-entropy, accuracy)`` of ``model`` in eval mode on ``data``."""
    model.eval()
    logits = model(data.x)
    loss = float(nn.functional.cross_entropy(logits, data.y))
    acc = float((logits.argmax(1) == data.y).float().mean())
    return loss, acc
