"""The Teleopti files (docs/teleopti-feed.md §7): one per interval and kind under `<outbox>/<kind>/`, and with
several Connect instances one set per instance under `<outbox>/<instance>/<kind>/` (docs/instances.md).

Names carry the interval start in UTC (`queue_stats_20260105_0900.csv`) so a DST fall-back day, whose local
wall times repeat an hour, never writes two intervals to one name; the `date`/`time` fields inside are local.
Every field of every kind goes through `csv_cell`, the one quoting rule of the project's CSV output.
"""
from __future__ import annotations

import errno
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg

from cc_reporting.delivery.temp_files import sweep_stale
from cc_reporting.models.teleopti.csv_rule import csv_cell, csv_line, format_number  # noqa: F401 (also read as F.*)
from cc_reporting.models.teleopti.interval_stats import (
    AGENT_PERFORMANCE_COLUMNS,
    AGENT_QUEUE_STATS_COLUMNS,
    CONTACT_FILE_COLUMNS,
    QUEUE_STATS_COLUMNS,
)
from cc_reporting.models.teleopti.window_render import render_window
from cc_reporting.settings import DEFAULT_INSTANCE, ConnectInstance

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
    remote_name: str  # `[<instance>/]<kind>/<file name>`: the outbox's layout, the same on the SFTP target
    changed: bool
    instance: str = DEFAULT_INSTANCE.name


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


def write_files(con, kind: FileKind, start: datetime, end: datetime, outbox: str,
                instances: tuple[ConnectInstance, ...] = (DEFAULT_INSTANCE,)) -> list[WrittenFile]:
    """Every Connect instance's files of the window (the instance's own rows only), each in its own folder:
    `<outbox>/<instance>/<kind>/`; the unconfigured default instance keeps `<outbox>/<kind>/`."""
    several = len(instances) > 1
    return [file for instance in instances
            for file in _write_instance_files(con, kind, start, end, outbox, instance, several)]


def _write_instance_files(con, kind: FileKind, start: datetime, end: datetime, outbox: str,
                          instance: ConnectInstance, several: bool) -> list[WrittenFile]:
    """One file per 15-minute interval of the window, an empty one for a quiet interval; only changed content is
    written. The window's rows come from one statement (`render_window`), in interval order."""
    relative = f"{instance.subfolder}/{kind.kind}" if instance.subfolder else kind.kind
    folder = Path(outbox) / relative
    sweep_stale(folder, f"{TEMP_PREFIX}*")  # a crash's leftovers (failed writes remove their own)
    header = csv_line(kind.columns, kind.separator) if kind.header else ""
    bodies = render_window(con, kind, start, end, instance.name if several else None)
    pending = next(bodies, None)
    written = []
    for interval_start in intervals(start, end):
        body = ""
        if pending is not None and pending[0] == interval_start:
            body, pending = pending[1], next(bodies, None)
        name = file_name(kind.kind, interval_start)
        path = folder / name
        changed = _write_if_changed(path, (header + body).encode("utf-8"))
        written.append(WrittenFile(interval_start, kind.kind, path, f"{relative}/{name}", changed, instance.name))
    return written
