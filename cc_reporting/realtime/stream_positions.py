"""What both agent-event sources share: record shape, retention, and how a read budget splits over shards."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

SHARD_END = "SHARD_END"
RETENTION = timedelta(hours=24)

Record = tuple[str, str, bytes]   # (shard id, sequence number, raw bytes)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def split_quota(budget: int, shards: list[str]) -> dict[str, int]:
    """`budget` records over `shards` as evenly as whole numbers allow, the first shards taking the remainder."""
    n = max(1, len(shards))
    base, extra = divmod(budget, n)
    return {s: base + (1 if i < extra else 0) for i, s in enumerate(shards)}
