"""The Teleopti files (teleopti-feed.md "Files"): one per interval and kind under `<outbox>/<kind>/`.

Names carry the interval start in UTC (`queue_stats_20260105_0900.csv`) so a DST fall-back day, whose local
wall times repeat an hour, never writes two intervals to one name; the `date`/`time` fields inside are local.
Every field of every kind goes through `csv_cell`, the one quoting rule of the project's CSV output.
"""
from __future__ import annotations

import errno
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg

from cc_reporting.delivery.temp_files import sweep_stale
from cc_reporting.models.teleopti.interval_stats import (
    AGENT_PERFORMANCE_COLUMNS,
    AGENT_QUEUE_STATS_COLUMNS,
    CONTACT_FILE_COLUMNS,
    QUEUE_STATS_COLUMNS,
)

INTERVAL = timedelta(minutes=15)
TEMP_PREFIX = ".tmp-"  # mkstemp's prefix for our files; stale ones are swept by the next write


@dataclass(frozen=True)
class FileKind:
    kind: str
    table: str
    columns: list[str]
    order_by: str
    header: bool = False
    separator: str = ";"


QUEUE_STATS = FileKind("queue_stats", "teleopti_queue_stats", QUEUE_STATS_COLUMNS, "date, time, queue")
AGENT_QUEUE_STATS = FileKind("agent_queue_stats", "teleopti_agent_queue_stats", AGENT_QUEUE_STATS_COLUMNS,
                             "date, time, queue, agent_id")
AGENT_PERFORMANCE = FileKind("agent_performance", "teleopti_agent_performance", AGENT_PERFORMANCE_COLUMNS,
                             "date, time, agent_id")
CONTACTS = FileKind("contacts", "teleopti_contacts", CONTACT_FILE_COLUMNS, "InitiationTimestamp, ContactID",
                    header=True, separator=",")


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


# What a spreadsheet runs as a formula (OWASP "CSV injection"): = + - @, and TAB/CR that some strip first.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Text that is a plain number (a phone number `+4677…`, `-1`): a spreadsheet reads it as that number, no formula.
_NUMBER_TEXT = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def csv_cell(value, separator: str) -> str:
    """One field of a `separator`-separated file, safe to split and to open in a spreadsheet.

    Numbers are never altered (`format_number`; a negative number stays `-1`); null is an empty field. Text
    starting with a formula prefix gets a leading `'`, unless it is a plain number; text holding the separator,
    `"`, CR or LF is then quoted RFC 4180 style (inner quotes doubled), so a name can neither shift nor split a row.
    """
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return format_number(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES) and not _NUMBER_TEXT.fullmatch(text):
        text = "'" + text
    if separator in text or any(c in text for c in '"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def csv_line(values, separator: str) -> str:
    return separator.join(csv_cell(v, separator) for v in values) + "\n"


def render(con, kind: FileKind, interval_start: datetime) -> bytes:
    columns = ", ".join(f'"{c}"' for c in kind.columns)
    rows = con.execute(
        f"SELECT {columns} FROM {kind.table} WHERE interval_start = ? ORDER BY {kind.order_by}", [interval_start]
    ).fetchall()
    lines = [csv_line(kind.columns, kind.separator)] if kind.header else []
    lines += [csv_line(row, kind.separator) for row in rows]
    return "".join(lines).encode("utf-8")


def file_name(kind: str, interval_start: datetime) -> str:
    return f"{kind}_{interval_start:%Y%m%d_%H%M}.csv"


def _write_error(path: Path, exc: OSError) -> dg.Failure:
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    reason = "disk full" if full else (exc.strerror or str(exc))
    return dg.Failure(description=f"cannot write Teleopti file {path}: {reason} "
                                  f"({errno.errorcode.get(exc.errno, exc.errno)}); the previous file is unchanged",
                      allow_retries=full)


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)  # readers see the old file or the new one, never half
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise _write_error(path, exc) from None
    return True


def intervals(start: datetime, end: datetime) -> list[datetime]:
    out, t = [], start
    while t < end:
        out.append(t)
        t += INTERVAL
    return out


def write_files(con, kind: FileKind, start: datetime, end: datetime, outbox: str) -> list[WrittenFile]:
    """One file per 15-minute interval of the window, an empty one for a quiet interval."""
    sweep_stale(Path(outbox) / kind.kind, f"{TEMP_PREFIX}*")  # a crash's leftovers (failed writes remove their own)
    written = []
    for interval_start in intervals(start, end):
        name = file_name(kind.kind, interval_start)
        path = Path(outbox) / kind.kind / name
        changed = _write_if_changed(path, render(con, kind, interval_start))
        written.append(WrittenFile(interval_start, kind.kind, path, f"{kind.kind}/{name}", changed))
    return written
