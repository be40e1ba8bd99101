"""The landing sensors' cursor: which objects are new since the last tick, in a few kilobytes however many land.

Objects are requested in (LastModified second, key) order and the cursor keeps where that order stopped
(`position`). Anything after it is new. Before it, S3's 1-second `LastModified` and objects becoming visible
slightly out of order mean an object can still appear (or get a new ETag) in a second the sensor already passed;
within the look-back (60 s before the position) the cursor finds exactly those:

- `seconds`: for each second of the look-back that has requested objects, a fingerprint (a digest of its
  requested (key, ETag) pairs): a second whose listing gives the same fingerprint holds nothing new;
- `sketch`: a fixed-size sketch of every requested object of the look-back (set_sketch.py); subtracting a sketch of
  what is listed now names the objects that are new there, one by one, so each is requested once.

Only a difference too large for the sketch (dozens of late objects in one tick) is handled coarsely: the changed
seconds are requested again whole and the ingestion ledger makes the unchanged objects a no-op. An object that
becomes visible more than the look-back after its `LastModified` is not seen. The cursor is constant in size:
one fingerprint per second of look-back, one sketch, one position, and the ids of batches not yet ingested
(`pending`, bounded by the sensor).
"""
from __future__ import annotations

import bisect
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cc_reporting.ingest.set_sketch import SetSketch, element_id
from cc_reporting.resources.landing import LandingObject

DEFAULT_LOOKBACK_SECONDS = 60


@dataclass
class LandingCursor:
    high_water: datetime | None = None  # the second of the last requested object, in (second, key) order
    position_key: str = ""              # ... and its key: everything up to here has been requested
    seconds: dict[str, str] = field(default_factory=dict)  # ISO second -> fingerprint of its requested objects
    sketch: SetSketch | None = None     # None: a cursor of an earlier form, whose requests cannot be named
    # Batch ids (run keys) requested and not yet ingested by a successful run: their objects are in the runs'
    # config in the Dagster instance, so the cursor grows by one id per unfinished batch, not per object.
    pending: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str | None) -> "LandingCursor":
        if not text:
            return cls(sketch=SetSketch())
        data = json.loads(text)
        high_water = datetime.fromisoformat(data["high_water"]) if data.get("high_water") else None
        if "sketch" not in data:
            # An earlier form ([stop key, digest] per second): keep its position; the look-back's seconds no
            # longer match and are requested again once, which the ledger makes a no-op.
            stop = data.get("seconds", {}).get(high_water.isoformat()) if high_water else None
            return cls(high_water, stop[0] if stop else "", {}, None, list(data.get("pending", [])))
        seconds = {(high_water - timedelta(seconds=int(back))).isoformat(): fingerprint
                   for back, fingerprint in data["seconds_back"].items()}
        return cls(high_water, data["position_key"], seconds, SetSketch.parse(data["sketch"]),
                   list(data.get("pending", [])))

    def serialize(self) -> str:
        # Seconds are written as how far they lie before the high-water mark: 61 ISO timestamps would be 1.5 KB.
        back = {str(int((self.high_water - datetime.fromisoformat(second)).total_seconds())): fingerprint
                for second, fingerprint in self.seconds.items()}
        return json.dumps({"high_water": self.high_water.isoformat() if self.high_water else None,
                           "position_key": self.position_key, "seconds_back": back,
                           "sketch": (self.sketch or SetSketch()).serialize(), "pending": self.pending},
                          sort_keys=True)


def _second(o: LandingObject) -> datetime:
    return o.last_modified.replace(microsecond=0) if o.last_modified.microsecond else o.last_modified


def _id(o: LandingObject) -> int:
    return element_id(f"{o.key}\t{o.etag}\t{_second(o).isoformat()}")


def _fingerprints(objects) -> dict[str, str]:
    """Per second, a digest of its objects' (key, ETag) pairs; `objects` in (second, key) order."""
    by_second: dict[datetime, list[str]] = {}
    for o in objects:
        by_second.setdefault(_second(o), []).append(f"{o.key}\t{o.etag}")
    return {second.isoformat(): hashlib.sha256("\n".join(pairs).encode()).hexdigest()[:16]
            for second, pairs in by_second.items()}


def _order(o: LandingObject):
    return _second(o), o.key


def _late(passed: list[LandingObject], listed: dict[str, str], cursor: LandingCursor,
          sketch_of_passed: SetSketch) -> list[LandingObject]:
    """Objects at or before the position that were not requested yet (or changed since)."""
    changed = {s for s in listed.keys() | cursor.seconds.keys() if listed.get(s) != cursor.seconds.get(s)}
    suspects = [o for o in passed if _second(o).isoformat() in changed]
    found = sketch_of_passed.difference(cursor.sketch) if cursor.sketch else None
    if found is None:  # too many differences to name: the changed seconds again, the ledger skips what it holds
        return suspects
    return [o for o in suspects if _id(o) in found[0]]


def next_batch(objects, cursor: LandingCursor, max_objects: int,
               lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS) -> tuple[list[LandingObject], LandingCursor]:
    """The objects to request now and the cursor once they are: every late object of the look-back (few; see
    the module) and the next `max_objects` after the position."""
    objects = sorted(objects, key=_order)
    passed, ahead = [], objects
    if cursor.high_water is not None:
        floor = cursor.high_water - timedelta(seconds=lookback_seconds)
        cut = bisect.bisect_right(objects, (cursor.high_water, cursor.position_key), key=_order)
        passed, ahead = objects[bisect.bisect_left(objects, (floor, ""), key=_order):cut], objects[cut:]
    listed = _fingerprints(passed)
    late, fresh = [], ahead[:max_objects]
    if listed == cursor.seconds and cursor.sketch is not None:
        sketch = SetSketch([list(cell) for cell in cursor.sketch.cells])  # it holds exactly `passed`
    else:
        sketch = SetSketch.of(_id(o) for o in passed)
        late = _late(passed, listed, cursor, sketch)
    if not late and not fresh:
        return [], cursor
    last = fresh[-1] if fresh else None
    high_water, position_key = (_second(last), last.key) if last else (cursor.high_water, cursor.position_key)
    keep_from = high_water - timedelta(seconds=lookback_seconds)
    # Now requested: `passed` (late ones included) and `fresh`, less what falls out of the look-back.
    for o in fresh:
        sketch.toggle(_id(o), 1)
    leaving = [o for o in passed + fresh if _second(o) < keep_from]
    for o in leaving:
        sketch.toggle(_id(o), -1)
    requested = [o for o in passed + fresh if _second(o) >= keep_from]
    return late + fresh, LandingCursor(high_water, position_key, _fingerprints(requested), sketch,
                                       list(cursor.pending))
