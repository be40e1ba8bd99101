"""The landing sensors' cursor: which objects are new since the last tick.

S3's `LastModified` has 1-second resolution and objects can become visible slightly out of order, so the cursor
keeps the high-water mark and, for each second of a short look-back before it, where the sensor stopped in that
second (the last key requested, in key order) and a digest of the (key, ETag) pairs up to it. An object is new
when it is newer than the high-water mark, or inside the look-back and after its second's stop key, or in a second
whose digest no longer matches (an object appeared before the stop key, or one got a new ETag): then that second's
objects up to the stop key are requested again, and the ingestion ledger makes the unchanged ones a no-op. The
cursor therefore holds at most one entry per second of look-back, however many objects land.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cc_reporting.resources.landing import LandingObject

DEFAULT_LOOKBACK_SECONDS = 60


@dataclass
class LandingCursor:
    high_water: datetime | None = None
    # ISO second -> [last key requested in that second, digest of the second's (key, ETag) pairs up to it]
    seconds: dict[str, list[str]] = field(default_factory=dict)
    # Batch ids (run keys) requested and not yet ingested by a successful run: their objects are in the runs'
    # config in the Dagster instance, so the cursor grows by one id per unfinished batch, not per object.
    pending: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str | None) -> "LandingCursor":
        if not text:
            return cls()
        data = json.loads(text)
        high_water = datetime.fromisoformat(data["high_water"]) if data.get("high_water") else None
        # A cursor of the previous form ("seen": every key of the look-back) restarts the look-back window:
        # its seconds are requested again once and the ledger skips what it already holds.
        return cls(high_water, {k: list(v) for k, v in data.get("seconds", {}).items()},
                   list(data.get("pending", [])))

    def serialize(self) -> str:
        return json.dumps({"high_water": self.high_water.isoformat() if self.high_water else None,
                           "seconds": self.seconds, "pending": self.pending}, sort_keys=True)


def _second(o: LandingObject) -> str:
    return o.last_modified.replace(microsecond=0).isoformat()


def _digest(objects) -> str:
    return hashlib.sha256("\n".join(f"{o.key}\t{o.etag}" for o in objects).encode()).hexdigest()[:16]


def _by_second(objects) -> dict[str, list[LandingObject]]:
    seconds: dict[str, list[LandingObject]] = {}
    for o in sorted(objects, key=lambda o: o.key):
        seconds.setdefault(_second(o), []).append(o)
    return seconds


def _new_in_second(objects: list[LandingObject], entry: list[str] | None) -> list[LandingObject]:
    if entry is None:
        return objects
    stop_key, digest = entry
    upto = [o for o in objects if o.key <= stop_key]
    after = [o for o in objects if o.key > stop_key]
    return after if _digest(upto) == digest else upto + after


def next_batch(objects, cursor: LandingCursor, max_objects: int,
               lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS) -> tuple[list[LandingObject], LandingCursor]:
    """The oldest `max_objects` new objects, and the cursor after they are requested."""
    floor = cursor.high_water - timedelta(seconds=lookback_seconds) if cursor.high_water else None
    by_second = _by_second(objects)
    new = []
    for second, in_second in by_second.items():
        moment = in_second[0].last_modified.replace(microsecond=0)
        if floor is None or moment > cursor.high_water:
            new += in_second
        elif moment >= floor:
            new += _new_in_second(in_second, cursor.seconds.get(second))
    new.sort(key=lambda o: (o.last_modified.replace(microsecond=0), o.key))
    batch = new[:max_objects]
    if not batch:
        return [], cursor
    high_water = max([o.last_modified.replace(microsecond=0) for o in batch]
                     + ([cursor.high_water] if cursor.high_water else []))
    seconds = dict(cursor.seconds)
    # Every object of a second up to the batch's last key in it is now requested (the batch is a sorted prefix).
    for second, stop_key in {_second(o): o.key for o in batch}.items():
        seconds[second] = [stop_key, _digest([o for o in by_second[second] if o.key <= stop_key])]
    keep_from = high_water - timedelta(seconds=lookback_seconds)
    seconds = {s: e for s, e in seconds.items() if datetime.fromisoformat(s) >= keep_from}
    return batch, LandingCursor(high_water, seconds, list(cursor.pending))
