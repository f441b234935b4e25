"""How a run ends early: stopped on request, diverged, or its folder could not be written."""

from __future__ import annotations

__all__ = ["RunDirectoryError", "TrainingDiverged", "TrainingInterrupted"]


class TrainingInterrupted(Exception):
    """Training stopped on request (Ctrl-C, SIGTERM, :meth:`Trainer.request_stop`).

    ``last.pt`` holds the state to resume from; ``signum`` is the signal's number (None for a
    request from code).
    """

    def __init__(self, message: str, signum: int | None = None) -> None:
        super().__init__(message)
        self.signum = signum


class TrainingDiverged(Exception):
    """A loss, the validation loss or a weight became NaN or infinite; nothing of it was saved.

    The message says which, where, and what the run folder still holds.
    """


class RunDirectoryError(Exception):
    """A file of the run could not be written (folder turned read-only, disk full...).

    The previous checkpoint is untouched (writes are atomic); the message says what it holds.
    """
