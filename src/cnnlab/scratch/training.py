"""A minimal training loop for scratch models: shuffle, forward, loss, backward, step.

A loss that becomes NaN or infinite stops the loop at once (:class:`TrainingDiverged`, naming the
epoch and iteration), as ``cnnlab train`` does, instead of training on through NaN.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cnnlab.core.accounting import EpochAccounting
from cnnlab.core.validate import positive_int
from cnnlab.scratch.module import Module


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; ``epoch`` and ``iteration`` say where (1-based).

    ``iteration`` is ``None`` when the evaluation after the epoch found it.
    """

    def __init__(self, value: float, epoch: int, iteration: int | None, iterations: int) -> None:
        where = (
            f"epoch {epoch}, iteration {iteration}/{iterations}"
            if iteration is not None
            else f"the evaluation after epoch {epoch}"
        )
        super().__init__(f"loss became {value} at {where}; stopped")
        self.epoch, self.iteration = epoch, iteration


@dataclass
class EpochResult:
    """One line of the training log."""

    epoch: int
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    seconds: float

    def describe(self) -> str:
        return (
            f"epoch {self.epoch:3d}  train loss {self.train_loss:.4f} acc {self.train_acc:.4f}  "
            f"test loss {self.test_loss:.4f} acc {self.test_acc:.4f}  ({self.seconds:.2f}s)"
        )


@dataclass
class History:
    """The accounting and every epoch's result."""

    accounting: EpochAccounting
    epochs: list[EpochResult] = field(default_factory=list)


def evaluate(
    model: Module, loss_fn, x: np.ndarray, y: np.ndarray, batch_size: int = 256
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` in eval mode (the mode is restored afterwards)."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        logits = model(x[start : start + batch_size])
        target = y[start : start + batch_size]
        total_loss += loss_fn(logits, target) * len(target)
        correct += int((logits.argmax(axis=1) == target).sum())
    model.train(was_training)
    return total_loss / len(x), correct / len(x)


def fit(
    model: Module,
    loss_fn,
    optimizer,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    epochs: int,
    batch_size: int,
    rng: np.random.Generator | int | None = 0,
    on_epoch: Callable[[EpochResult], None] | None = None,
) -> History:
    """Train with mini-batches: one iteration = one forward and one backward over a batch.

    Args:
        model: a scratch layer producing logits (N, classes).
        loss_fn: a scratch loss (``CrossEntropyLoss``) with ``forward`` and ``backward``.
        optimizer: anything with ``zero_grad()`` and ``step()`` over the model's parameters.
        train, test: ``(images, labels)`` pairs.
        epochs: passes over the training set.
        batch_size: samples per iteration; the last partial batch is kept.
        rng: Generator or seed for the shuffling.
        on_epoch: called with each epoch's result (e.g. to print it).

    Raises:
        ValueError: bad epochs or batch_size (via :class:`EpochAccounting`).
        TrainingDiverged: the training loss of an iteration, or the test loss, is not finite.
    """
    accounting = EpochAccounting(len(train[0]), batch_size, positive_int("epochs", epochs))
    per_epoch = accounting.iterations_per_epoch  # validates N and B before training
    generator = np.random.default_rng(rng)
    history = History(accounting)
    # Overflow on the way to a non-finite loss is reported once, by TrainingDiverged, not by a
    # RuntimeWarning from every layer it passes through.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, epochs + 1):
            result = _train_epoch(
                model, loss_fn, optimizer, train, test, batch_size, generator, epoch, per_epoch
            )
            history.epochs.append(result)
            if on_epoch is not None:
                on_epoch(result)
    return history


def _train_epoch(
    model: Module,
    loss_fn,
    optimizer,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    batch_size: int,
    generator: np.random.Generator,
    epoch: int,
    per_epoch: int,
) -> EpochResult:
    """One pass over the shuffled training set, then the evaluation on the test set."""
    x_train, y_train = train
    start_time = time.perf_counter()
    model.train()
    order = generator.permutation(len(x_train))
    total_loss, correct = 0.0, 0
    for iteration, start in enumerate(range(0, len(order), batch_size), 1):
        idx = order[start : start + batch_size]
        optimizer.zero_grad()
        logits = model(x_train[idx])
        loss = loss_fn(logits, y_train[idx])
        if not math.isfinite(loss):
            raise TrainingDiverged(loss, epoch, iteration, per_epoch)
        model.backward(loss_fn.backward())
        optimizer.step()
        total_loss += loss * len(idx)
        correct += int((logits.argmax(axis=1) == y_train[idx]).sum())
    test_loss, test_acc = evaluate(model, loss_fn, *test)
    if not math.isfinite(test_loss):
        raise TrainingDiverged(test_loss, epoch, None, per_epoch)
    return EpochResult(
        epoch,
        total_loss / len(order),
        correct / len(order),
        test_loss,
        test_acc,
        time.perf_counter() - start_time,
    )
