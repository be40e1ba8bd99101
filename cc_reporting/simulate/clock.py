"""Time helpers: the simulator counts in integer epoch seconds (contacts) and milliseconds (agent events).

Formatting is the hot path (millions of timestamps), so it avoids `datetime` per call: the date part is
cached per day and the clock part is plain arithmetic.
"""
from __future__ import annotations

from datetime import datetime, timezone

_DAYS: dict[int, str] = {}


def _day(day: int) -> str:
    text = _DAYS.get(day)
    if text is None:
        text = datetime.fromtimestamp(day * 86400, tz=timezone.utc).strftime("%Y-%m-%d")
        _DAYS[day] = text
    return text


def _parts(t: int) -> tuple[str, int, int, int]:
    """Epoch seconds → (`YYYY-MM-DD`, hour, minute, second), with the day string cached."""
    day, rest = divmod(t, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return _day(day), h, m, s


def iso_s(t: int) -> str:
    """Epoch seconds → `2026-01-05T09:05:02Z` (CTR format)."""
    d, h, m, s = _parts(t)
    return f"{d}T{h:02d}:{m:02d}:{s:02d}Z"


def iso_ms(ms: int) -> str:
    """Epoch milliseconds → `2026-01-05T09:05:02.123Z` (agent-event format)."""
    t, frac = divmod(ms, 1000)
    d, h, m, s = _parts(t)
    return f"{d}T{h:02d}:{m:02d}:{s:02d}.{frac:03d}Z"


def key_time(t: int) -> str:
    """Epoch seconds → `2026-01-05-09-05-02` (Firehose object names)."""
    d, h, m, s = _parts(t)
    return f"{d}-{h:02d}-{m:02d}-{s:02d}"


def hour_folder(t: int) -> str:
    """Epoch seconds → `2026/01/05/09`."""
    day, rest = divmod(t, 86400)
    return f"{_day(day).replace('-', '/')}/{rest // 3600:02d}"


def hour_stamp(t: int) -> str:
    """Epoch seconds → `2026-01-05-09` (agent-event spool file names)."""
    day, rest = divmod(t, 86400)
    return f"{_day(day)}-{rest // 3600:02d}"


def date_of(t: int) -> str:
    return _day(t // 86400)


def to_epoch(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("start must be a timezone-aware UTC datetime")
    return int(value.astimezone(timezone.utc).timestamp())


def from_epoch(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=timezone.utc)
