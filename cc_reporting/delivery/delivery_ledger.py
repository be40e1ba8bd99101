"""The delivery ledger: which content of which Teleopti file reached which SFTP target, and when.

A file is sent when the target's latest delivery of that name has another sha256 (new or changed content:
the receiver deletes and reloads the interval), and skipped when it is identical. Renamed files are recorded in
batches of `RECORD_BATCH` (one INSERT each: a single-row INSERT commits on its own, ~5 ms apiece), and whatever
completed is recorded before a failure propagates, so a failure mid-batch leaves the ledger holding exactly what
completed. Only a hard kill can lose the last unrecorded renames: those files are sent again, identical.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from cc_reporting.delivery.sftp import DeliveryError, TeleoptiSftp

OUTBOX_ONLY = "outbox only"
RECORD_BATCH = 64

LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS teleopti_delivery_ledger (
    interval_start TIMESTAMPTZ NOT NULL,
    kind VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,        -- relative to the target folder, e.g. queue_stats/queue_stats_20260105_0900.csv
    sha256 VARCHAR NOT NULL,
    bytes BIGINT NOT NULL,
    target VARCHAR NOT NULL,           -- sftp://user@host:port/dir
    delivered_at TIMESTAMPTZ NOT NULL  -- one row per delivery: a changed file adds a row, history stays
)
"""


@dataclass(frozen=True)
class DeliveryFile:
    interval_start: datetime
    kind: str
    path: Path
    remote_name: str  # `<kind>/<file name>`, relative to the target folder


@dataclass
class DeliveryReport:
    destination: str  # the ledger target, or "outbox only" when no SFTP is configured
    sent: list[DeliveryFile] = field(default_factory=list)
    skipped_identical: list[DeliveryFile] = field(default_factory=list)
    failed: list[DeliveryFile] = field(default_factory=list)
    error: str | None = None

    def metadata(self) -> dict:
        """Dagster output metadata: counts, and the names that changed hands or failed."""
        return {
            "destination": self.destination,
            "sent": len(self.sent),
            "skipped_identical": len(self.skipped_identical),
            "failed": len(self.failed),
            "sent_files": ", ".join(f.remote_name for f in self.sent[:50]),
            "failed_files": ", ".join(f.remote_name for f in self.failed[:50]),
            "error": self.error or "",
        }


def ensure_ledger(con) -> None:
    con.execute(LEDGER_DDL)


def _digest(path: Path) -> tuple[str, int]:
    data = Path(path).read_bytes()  # interval files are small
    return hashlib.sha256(data).hexdigest(), len(data)


def latest_sha256(con, target: str, names: list[str] | None = None) -> dict[str, str]:
    """file_name → sha256 of its latest delivery to `target` (what the receiver holds now), for `names` only when
    given (the cost then follows the batch, not the ledger's history)."""
    only = "AND file_name IN (SELECT unnest(?::VARCHAR[]))" if names is not None else ""
    rows = con.execute(
        f"""SELECT file_name, arg_max(sha256, delivered_at) FROM teleopti_delivery_ledger
            WHERE target = ? {only} GROUP BY file_name""",
        [target] + ([names] if names is not None else []),
    ).fetchall()
    return dict(rows)


def _record(con, target: str, done: list[tuple]) -> None:
    """One INSERT for the renamed files in `done` (file, remote name, sha256, bytes, renamed at), then empty it."""
    if not done:
        return
    files, names, shas, sizes, times = zip(*done)
    con.execute(
        """INSERT INTO teleopti_delivery_ledger
           SELECT unnest(?::TIMESTAMPTZ[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
                  unnest(?::BIGINT[]), ?, unnest(?::TIMESTAMPTZ[])""",
        [[f.interval_start for f in files], [f.kind for f in files], list(names), list(shas), list(sizes), target,
         list(times)])
    done.clear()


def deliver(con, sftp: TeleoptiSftp, files: list[DeliveryFile], *, raise_on_failure: bool = True) -> DeliveryReport:
    """Send the new or changed `files` to `sftp` over one connection, recording each in the ledger.

    With SFTP unconfigured nothing is sent (the outbox is the destination). A failed delivery raises
    `DeliveryError` (its `.report` holds the partial report) unless `raise_on_failure` is False."""
    if not sftp.configured:
        return DeliveryReport(destination=OUTBOX_ONLY)
    ensure_ledger(con)
    target = sftp.target
    report = DeliveryReport(destination=target)
    held = latest_sha256(con, target, [f.remote_name for f in files])
    todo: dict[str, tuple[DeliveryFile, str, int]] = {}
    for f in files:
        sha, size = _digest(f.path)
        if held.get(f.remote_name) == sha:
            report.skipped_identical.append(f)
        else:
            todo[f.remote_name] = (f, sha, size)
    unrecorded: list[tuple] = []
    try:
        try:
            for _, name in sftp.iter_upload([(f.path, name) for name, (f, _, _) in todo.items()]):
                f, sha, size = todo[name]
                unrecorded.append((f, name, sha, size, datetime.now(timezone.utc)))
                report.sent.append(f)
                if len(unrecorded) >= RECORD_BATCH:
                    _record(con, target, unrecorded)
        finally:
            _record(con, target, unrecorded)  # what completed, before any failure goes on
    except DeliveryError as exc:
        sent = {f.remote_name for f in report.sent}
        report.failed = [f for name, (f, _, _) in todo.items() if name not in sent]
        report.error = str(exc)
        if raise_on_failure:
            exc.report = report
            raise
    return report
