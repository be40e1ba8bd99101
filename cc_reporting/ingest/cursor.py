"""The landing sensors' cursor: which objects are new since the last tick.

S3's `LastModified` has 1-second resolution and objects can become visible slightly out of order, so the cursor
keeps the high-water mark *and* the (key, ETag) pairs seen within a short look-back before it. An object is new
when it is newer than the look-back window or inside it but unseen. An updated object (new ETag) is new again.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cc_reporting.resources.landing import LandingObject

DEFAULT_LOOKBACK_SECONDS = 60


@dataclass
class LandingCursor:
    high_water: datetime | None = None
    seen: dict[str, str] = field(default_factory=dict)  # key -> ETag, objects with LastModified in the look-back

    @classmethod
    def parse(cls, text: str | None) -> "LandingCursor":
        if not text:
            return cls()
        data = json.loads(text)
        high_water = datetime.fromisoformat(data["high_water"]) if data.get("high_water") else None
        return cls(high_water, dict(data.get("seen", {})))

    def serialize(self) -> str:
        return json.dumps({"high_water": self.high_water.isoformat() if self.high_water else None, "seen": self.seen},
                          sort_keys=True)


def next_batch(objects, cursor: LandingCursor, max_objects: int,
               lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS) -> tuple[list[LandingObject], LandingCursor]:
    """The oldest `max_objects` new objects, and the cursor after they are requested."""
    floor = cursor.high_water - timedelta(seconds=lookback_seconds) if cursor.high_water else None
    new = [
        o for o in objects
        if floor is None or o.last_modified > cursor.high_water
        or (o.last_modified >= floor and cursor.seen.get(o.key) != o.etag)
    ]
    new.sort(key=lambda o: (o.last_modified, o.key))
    batch = new[:max_objects]
    if not batch:
        return [], cursor
    high_water = max([o.last_modified for o in batch] + ([cursor.high_water] if cursor.high_water else []))
    keep_from = high_water - timedelta(seconds=lookback_seconds)
    seen = {k: e for k, e in cursor.seen.items()}
    seen.update({o.key: o.etag for o in batch})
    # Forget what fell out of the look-back window; the ledger still makes any re-request a no-op.
    recent = {o.key for o in objects if o.last_modified >= keep_from}
    seen = {k: e for k, e in seen.items() if k in recent}
    return batch, LandingCursor(high_water, seen)
