"""The project's partitions, defined once: 15- and 30-minute UTC windows from `CC_PARTITIONS_START`.

Keys are `YYYY-MM-DD-HH:MM` (UTC); each 30-minute window is exactly two 15-minute windows.
"""
from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg

from cc_reporting.settings import load_settings

PARTITION_KEY_FORMAT = "%Y-%m-%d-%H:%M"


def partitions_start() -> datetime:
    text = load_settings().partitions_start
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


fifteen_minute_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="*/15 * * * *", start=partitions_start(), fmt=PARTITION_KEY_FORMAT, timezone="UTC"
)
thirty_minute_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="*/30 * * * *", start=partitions_start(), fmt=PARTITION_KEY_FORMAT, timezone="UTC"
)

# Business days are local (CC_REPORT_TIMEZONE): a DST day is 23 or 25 hours, and its 92 or 100 intervals map onto it.
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=partitions_start().strftime("%Y-%m-%d"), timezone=load_settings().report_timezone
)


def partition_range(now: datetime | None = None, minutes: int = 15) -> tuple[datetime, datetime]:
    """[CC_PARTITIONS_START, start of the current `minutes` window): the intervals that have a partition key.

    Dagster has no key before the start, nor for a window that has not ended yet."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    end = now.replace(minute=now.minute - now.minute % minutes, second=0, microsecond=0)
    # The definitions' own start (read at import), so the range is exactly the keys Dagster accepts.
    return fifteen_minute_partitions.start.astimezone(timezone.utc), end


def clamp_window(start: datetime, end: datetime, now: datetime | None = None) -> tuple[datetime, datetime] | None:
    """The part of the UTC window [start, end) inside the partition range; None when nothing is left."""
    first, last = partition_range(now)
    start, end = max(start, first), min(end, last)
    return (start, end) if start < end else None
