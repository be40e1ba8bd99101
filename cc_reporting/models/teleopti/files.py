"""The Teleopti files (teleopti-feed.md "Files"): one per interval and kind under `<outbox>/<kind>/`.

Names carry the interval start in UTC (`queue_stats_20260105_0900.csv`) so a DST fall-back day, whose local
wall times repeat an hour, never writes two intervals to one name; the `date`/`time` fields inside are local.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cc_reporting.models.teleopti.interval_stats import (
    AGENT_PERFORMANCE_COLUMNS,
    AGENT_QUEUE_STATS_COLUMNS,
    CONTACT_FILE_COLUMNS,
    QUEUE_STATS_COLUMNS,
)

INTERVAL = timedelta(minutes=15)


@dataclass(frozen=True)
class FileKind:
    kind: str
    table: str
    columns: list[str]
    order_by: str
    header: bool = False


QUEUE_STATS = FileKind("queue_stats", "teleopti_queue_stats", QUEUE_STATS_COLUMNS, "date, time, queue")
AGENT_QUEUE_STATS = FileKind("agent_queue_stats", "teleopti_agent_queue_stats", AGENT_QUEUE_STATS_COLUMNS,
                             "date, time, queue, agent_id")
AGENT_PERFORMANCE = FileKind("agent_performance", "teleopti_agent_performance", AGENT_PERFORMANCE_COLUMNS,
                             "date, time, agent_id")
CONTACTS = FileKind("contacts", "teleopti_contacts", CONTACT_FILE_COLUMNS, "InitiationTimestamp, ContactID",
                    header=True)


@dataclass(frozen=True)
class WrittenFile:
    interval_start: datetime
    kind: str
    path: Path
    remote_name: str  # `<kind>/<file name>`, the same layout on the SFTP target
    changed: bool


def format_number(value) -> str:
    """Integers without a decimal point; fractions with at most two decimals and no trailing zeros."""
    if value is None:
        return "0"
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text if text not in ("-0", "") else "0"
    return str(int(value))


def _stats_line(row) -> str:
    return ";".join(format_number(v) if isinstance(v, (int, float)) else ("" if v is None else str(v)) for v in row)


def render(con, kind: FileKind, interval_start: datetime) -> bytes:
    columns = ", ".join(f'"{c}"' for c in kind.columns)
    rows = con.execute(
        f"SELECT {columns} FROM {kind.table} WHERE interval_start = ? ORDER BY {kind.order_by}", [interval_start]
    ).fetchall()
    if not kind.header:
        return "".join(_stats_line(row) + "\n" for row in rows).encode("utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")  # RFC 4180 quoting where needed; null = empty field
    writer.writerow(kind.columns)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def file_name(kind: str, interval_start: datetime) -> str:
    return f"{kind}_{interval_start:%Y%m%d_%H%M}.csv"


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)  # readers see the old file or the new one, never half
    return True


def intervals(start: datetime, end: datetime) -> list[datetime]:
    out, t = [], start
    while t < end:
        out.append(t)
        t += INTERVAL
    return out


def write_files(con, kind: FileKind, start: datetime, end: datetime, outbox: str) -> list[WrittenFile]:
    """One file per 15-minute interval of the window, an empty one for a quiet interval."""
    written = []
    for interval_start in intervals(start, end):
        name = file_name(kind.kind, interval_start)
        path = Path(outbox) / kind.kind / name
        changed = _write_if_changed(path, render(con, kind, interval_start))
        written.append(WrittenFile(interval_start, kind.kind, path, f"{kind.kind}/{name}", changed))
    return written
