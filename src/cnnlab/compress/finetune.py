"""A few epochs of fine-tuning after pruning, on the run's training data (CPU, seeded)."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from cnnlab.core.validate import non_negative_int, number, positive_int
from cnnlab.optim import create_optimizer


def finetune(
    model: nn.Module,
    train: Dataset,
    *,
    epochs: int = 3,
    optimizer: str = "adam",
    lr: float = 1e-4,
    batch_size: int = 64,
    seed: int = 0,
    masks: dict[str, torch.Tensor] | None = None,
) -> list[float]:
    """Train ``model`` in place with cross-entropy; return the mean training loss per epoch.

    Args:
        model: the pruned model (left in eval mode).
        train: (image, label) pairs.
        epochs: passes over ``train`` (0 skips fine-tuning).
        optimizer: one of the notes' optimizer names (:func:`cnnlab.optim.create_optimizer`).
        lr: learning rate, typically a tenth of the run's.
        batch_size: images per step.
        seed: shuffling and dropout seed.
        masks: ``{layer name: 0/1 mask}``; pruned weights are set back to zero after every
            step, so unstructured sparsity survives fine-tuning.
    """
    epochs = non_negative_int("epochs", epochs)
    batch_size = positive_int("batch_size", batch_size)
    lr = number("lr", lr, minimum=0)
    losses: list[float] = []
    if epochs == 0:
        return losses
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator)
    opt = create_optimizer(optimizer, model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(epochs):
            model.train()
            total, seen = 0.0, 0
            for x, y in loader:
                loss = criterion(model(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if masks:
                    with torch.no_grad():
                        for name, mask in masks.items():
                            model.get_submodule(name).weight.mul_(mask)
                total += loss.item() * len(y)
                seen += len(y)
            losses.append(total / max(seen, 1))
    model.eval()
    return losses
