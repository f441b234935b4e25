"""Ctrl-C and SIGTERM during training: the first asks for a clean stop, a second stops at once.

``docker stop``, Slurm's pre-emption and systemd send SIGTERM; a person at a terminal sends
SIGINT. Both get the same treatment: the first one sets a flag that the training loop reads after
each iteration (it then saves ``last.pt`` and says how to resume), a second one raises
:class:`StopNow` wherever the program is. The shell convention for the exit code is
``128 + signal number``: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def ignore_stop_signals(worker_id: int) -> None:
    """``worker_init_fn`` for DataLoader workers: leave SIGINT and SIGTERM to the main process.

    A terminal's Ctrl-C and Slurm's SIGTERM reach every process of the group; a worker that
    died of it would make the main process fail on its next batch instead of stopping cleanly.
    The main process shuts its workers down itself when it stops.
    """
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


class StopNow(KeyboardInterrupt):
    """A second stop signal: leave at once. ``signum`` is the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopSignals:
    """Context manager that routes SIGINT and SIGTERM to ``request(signum)`` while it is active.

    ``request`` is called for the first signal; any later one raises :class:`StopNow`. Outside the
    main thread (where Python cannot install handlers) it does nothing. The previous handlers are
    restored on exit.
    """

    def __init__(self, request: Callable[[int], None]) -> None:
        self.request = request
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            raise StopNow(signum)
        self.received = signum
        self.request(signum)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.getsignal(signum)
                signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)
        self._previous.clear()
