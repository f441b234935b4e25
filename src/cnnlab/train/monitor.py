"""The monitored validation score: which epoch is the best (``best.pt``), when to stop early.

``--monitor`` names a validation score (``val_acc`` by default for classification, ``val_loss``,
or a score another task adds); its direction comes from the task (accuracy up, loss down).
:class:`Monitor` keeps the best value (a strict improvement makes a new ``best.pt``);
:class:`EarlyStopping` stops the run after ``patience`` epochs in a row without an improvement
larger than ``min_delta`` (Keras's and Lightning's rule).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from cnnlab.core.validate import number, one_of, positive_int

__all__ = ["EarlyStopping", "Monitor"]

MODES = ("max", "min")


def _better(value: float, than: float | None, mode: str, delta: float = 0.0) -> bool:
    if than is None:
        return True
    return value - delta > than if mode == "max" else value + delta < than


@dataclass
class Monitor:
    """The best value so far of one score, and its epoch.

    Attributes:
        name: the score (``val_acc``).
        mode: ``"max"`` (higher is better) or ``"min"``.
        best: the best value so far (None before the first epoch).
        best_epoch: its epoch (0 before the first).
    """

    name: str
    mode: str
    best: float | None = None
    best_epoch: int = 0

    def __post_init__(self) -> None:
        one_of("mode", self.mode, MODES)

    def update(self, value: float, epoch: int) -> bool:
        """Record epoch ``epoch``'s value; whether it is strictly better than every earlier one."""
        if not _better(value, self.best, self.mode):
            return False
        self.best, self.best_epoch = value, epoch
        return True

    def state_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EarlyStopping:
    """Stop after ``patience`` epochs without an improvement of more than ``min_delta``.

    An epoch improves when its value beats the best so far by more than ``min_delta`` (up for
    ``mode="max"``, down for ``"min"``); the best is updated only then, and the count of epochs
    without improvement restarts at 0.

    Attributes:
        patience: epochs without improvement that stop the run (>= 1).
        mode: ``"max"`` or ``"min"``.
        min_delta: the smallest change that counts as an improvement (>= 0).
        best: the best value that counted.
        wait: epochs since then.
        stopped_epoch: the epoch after which the run stopped (0 while it runs).
    """

    patience: int
    mode: str
    min_delta: float = 0.0
    best: float | None = None
    wait: int = 0
    stopped_epoch: int = 0

    def __post_init__(self) -> None:
        self.patience = positive_int("early_stopping", self.patience)
        one_of("mode", self.mode, MODES)
        self.min_delta = number("min_delta", self.min_delta, minimum=0)

    def update(self, value: float, epoch: int) -> bool:
        """Record epoch ``epoch``'s value; whether the run should stop now."""
        if _better(value, self.best, self.mode, self.min_delta):
            self.best, self.wait = value, 0
        else:
            self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
        return self.stopped_epoch > 0

    def state_dict(self) -> dict[str, Any]:
        return asdict(self)
