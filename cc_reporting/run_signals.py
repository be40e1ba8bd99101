"""SIGTERM and Ctrl-C for `cc-reporting run`: stop at the next step boundary, never inside a SQLite write."""
from __future__ import annotations

import os
import signal


class Stopped(BaseException):
    """SIGTERM or Ctrl-C: the run stops between (or inside) Dagster runs; a BaseException so no step swallows it."""

    def __init__(self, signo: int):
        super().__init__(signo)
        self.signo = signo


_wakeup: list[int] = []   # read end of the signal wake-up pipe, once stop_on_signals() ran


def stop_on_signals() -> None:
    """SIGTERM and Ctrl-C stop the run at the next step boundary (a step is at most one day of partitions).

    The handler itself only lets the C-level wake-up pipe record the signal number: raising from it could land
    inside a SQLite write of the Dagster instance and leave it unusable for marking the run canceled. While Dagster
    executes it installs its own handler, which interrupts the step; the pipe still records the signal, and
    `_raise_if_signalled` turns it into `Stopped` once that Dagster run returns. A signal that lands while Dagster
    is still creating a run (before its handler is in place) is handed to Dagster the way its own handler records
    one, so the run's first step stops at once instead of the whole run going on (a day's run on a loaded machine
    took minutes)."""
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    _wakeup[:] = [read]
    for signo in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signo, _record_for_dagster)


def _record_for_dagster(_signo, _frame) -> None:
    # What Dagster's capture handler does (dagster._utils.interrupts): the next step raises the interrupt.
    from dagster._utils import interrupts

    interrupts._received_interrupt["received"] = True


def _raise_if_signalled() -> None:
    if not _wakeup:
        return
    try:
        received = os.read(_wakeup[0], 512)
    except BlockingIOError:
        return
    for signo in received:
        if signo in (signal.SIGTERM, signal.SIGINT):
            raise Stopped(signo)
