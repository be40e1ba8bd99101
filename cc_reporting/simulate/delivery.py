"""Deliveries: every file or batch the simulator lands, with the (simulated) time it is delivered.

Each output stream yields its deliveries in time order. A normal run performs them stream by stream as
fast as possible; a live run merges the streams by time and sleeps until each is due.
"""
from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable


@dataclass(order=True)
class Delivery:
    t: float  # epoch seconds when it lands
    stream: int  # tie-break between streams
    seq: int  # tie-break within a stream
    action: Callable[[], None] = field(compare=False)


def perform(streams: list[Iterable[Delivery]], live: bool, on_done: Callable[[], None] | None = None) -> None:
    ordered = heapq.merge(*streams) if live else (d for s in streams for d in s)
    for d in ordered:
        if live:
            wait = d.t - time.time()
            if wait > 0:
                time.sleep(wait)
        d.action()
        if on_done is not None:
            on_done()
