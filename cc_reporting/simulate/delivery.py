"""Deliveries: every file or batch the simulator lands, with the (simulated) time it is delivered.

Each output stream yields its deliveries in time order. A normal run performs them stream by stream as
fast as possible; a live run merges the streams by time and waits until each is due on a `SimClock`.
"""
from __future__ import annotations

import heapq
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable


@dataclass(order=True)
class Delivery:
    t: float  # epoch seconds when it lands
    stream: int  # tie-break between streams
    seq: int  # tie-break within a stream
    action: Callable[[], None] = field(compare=False)


class SimClock:
    """Simulated time of a live run.

    `speed=None`: the wall clock itself (a file lands at its own timestamp; a past start catches up at once).
    `speed=N`: a replay — the clock reads `start` when landing begins and then runs N× the wall clock, so
    files land N× as often as in production. Other threads may read `now()` (e.g. to drive schedules).
    With `end`, landing stops at that simulated time: deliveries due later are not made (a bounded load run).
    """

    def __init__(self, start: float, speed: float | None = None, end: float | None = None):
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive")
        self.start, self.speed, self.end = start, speed, end
        self.began: float | None = None  # wall time when landing began (replay only)
        self.max_late = 0.0  # worst wall-clock delay of a delivery past its due time (did the writer keep up?)
        self._cancelled = threading.Event()

    def begin(self) -> None:
        if self.began is None:
            self.began = time.time()

    def now(self) -> float:
        """Simulated epoch seconds now (`start` until landing begins)."""
        if self.speed is None:
            return time.time()
        if self.began is None:
            return self.start
        return self.start + (time.time() - self.began) * self.speed

    def wall(self, t: float) -> float:
        """Wall time at which simulated time `t` is due."""
        if self.speed is None:
            return t
        return (self.began if self.began is not None else time.time()) + (t - self.start) / self.speed

    def wait_until(self, t: float) -> bool:
        """Sleep until `t` is due; False when the run was cancelled meanwhile or `t` lies past `end`."""
        if self.end is not None and t > self.end:
            self.wait_until(self.end)  # the run lasts until `end` even when the last delivery came earlier
            return False
        delay = self.wall(t) - time.time()
        if delay <= 0:
            self.max_late = max(self.max_late, -delay)
        while delay > 0 and not self._cancelled.is_set():
            time.sleep(min(delay, 0.5))  # in slices, so a cancel is noticed within half a second
            delay = self.wall(t) - time.time()
        return not self._cancelled.is_set()

    def cancel(self) -> None:
        """Stop a live run after the delivery in progress (a load test that ended early)."""
        self._cancelled.set()


def perform(streams: list[Iterable[Delivery]], live: bool, on_done: Callable[[], None] | None = None,
            clock: SimClock | None = None) -> None:
    ordered = heapq.merge(*streams) if live else (d for s in streams for d in s)
    if live:
        clock = clock or SimClock(time.time())
        clock.begin()
    for d in ordered:
        if live and not clock.wait_until(d.t):
            return
        d.action()
        if on_done is not None:
            on_done()
