"""The ingestion loop every landing source shares: skip what the ledger holds, read, quarantine what cannot be
read, stage the rest and write the ledger in one transaction per chunk (bounded memory, crash-safe)."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from cc_reporting.ingest import ledger
from cc_reporting.resources.landing import LandingObject, LandingZone

# Per transaction: bodies, their text, Arrow and DuckDB copies (64 MB chunks peaked at 1 GB).
CHUNK_BYTES = 16 * 1024 * 1024
READ_THREADS = 8  # object reads are latency-bound on S3: overlap them


@dataclass
class Parsed:
    items: list  # what the source's merge function stages
    error: str | None = None  # set: the object (or part of it) goes to quarantine with this reason


@dataclass
class IngestReport:
    objects_seen: int = 0
    objects_skipped: int = 0
    objects_ingested: int = 0
    objects_partial: int = 0
    objects_quarantined: int = 0
    records: int = 0
    quarantined: list[dict] = field(default_factory=list)  # key, reason, quarantine_key
    merge_stats: dict = field(default_factory=dict)

    def add_stats(self, stats: dict) -> None:
        for name, value in stats.items():
            self.merge_stats[name] = self.merge_stats.get(name, 0) + value


def _chunks(objects: list[LandingObject]):
    chunk, size = [], 0
    for obj in objects:
        if chunk and size + obj.size > CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(obj)
        size += obj.size
    if chunk:
        yield chunk


def ingest_objects(
    con,
    landing: LandingZone,
    source: str,
    objects: list[LandingObject],
    parse: Callable[[LandingObject, bytes], Parsed],
    merge: Callable[[object, list, str, datetime], dict],
    run_id: str,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest `objects` of one source. `merge(con, items, batch_id, ingested_at)` stages the parsed items."""
    ledger.ensure_ledger(con)
    report = IngestReport(objects_seen=len(objects))
    done = ledger.already_ingested(con, source, objects)
    todo = sorted((o for o in objects if (o.key, o.etag) not in done), key=lambda o: (o.last_modified, o.key))
    report.objects_skipped = len(objects) - len(todo)
    for chunk in _chunks(todo):
        ingested_at = datetime.now(timezone.utc)
        items, entries = [], []
        with ThreadPoolExecutor(READ_THREADS) as pool:
            bodies = list(pool.map(lambda o: landing.read(o.key), chunk))
        for obj, data in zip(chunk, bodies):
            parsed = parse(obj, data)
            entry = {"key": obj.key, "etag": obj.etag, "size": obj.size, "records": len(parsed.items)}
            if parsed.error is None:
                entry["status"] = "ingested"
                report.objects_ingested += 1
            else:
                entry["status"] = "partial" if parsed.items else "quarantined"
                entry["error"] = parsed.error
                entry["quarantine_key"] = landing.quarantine(obj.key, data, parsed.error)
                report.quarantined.append({"key": obj.key, "reason": parsed.error, "status": entry["status"]})
                if parsed.items:
                    report.objects_partial += 1
                else:
                    report.objects_quarantined += 1
            items.extend(parsed.items)
            entries.append(entry)
            report.records += len(parsed.items)
        con.execute("BEGIN TRANSACTION")
        try:
            if items:
                report.add_stats(merge(con, items, f"{run_id}:{uuid.uuid4().hex[:8]}", ingested_at))
            ledger.record(con, source, entries, run_id, ingested_at)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        if progress:
            progress(len(chunk))
    return report
