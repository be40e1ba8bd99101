"""Compaction of the landing zone: cold raw objects become one Parquet file per source and UTC day.

`archive/<source>/date=YYYY-MM-DD/part-0.parquet` (zstd) holds, per original object, its key, ETag, size,
LastModified and raw bytes (BLOB), so a restore is byte-exact; `manifest.json` beside it lists every object with the
sha256 of its bytes, the record count (decoded CTRs for ctr/) and the sha256 of the Parquet file.

Originals are deleted only after the archive was written, read back and verified object by object (sha256 of the
bytes in the Parquet against the bytes read from the landing zone, ETag unchanged at deletion time). Reruns are
idempotent: a day already archived is re-verified; late objects of an archived day are merged into it.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from cc_reporting.ingest.firehose import decode_ctr_object
from cc_reporting.resources.landing import LandingObject, LandingZone
from cc_reporting.settings import load_settings

SOURCES = ("ctr", "reports", "channels", "crm")
ARCHIVE_ROOT = "archive"
PART_NAME = "part-0.parquet"
MANIFEST_NAME = "manifest.json"
RESTORED_NAME = "restored.json"
MANIFEST_VERSION = 1

_CTR_DAY = re.compile(r"^ctr/(\d{4})/(\d{2})/(\d{2})/")
_LOCAL_ETAG = re.compile(r"^([0-9a-f]+)-([0-9a-f]+)$")

SCHEMA = pa.schema([
    ("key", pa.string()),
    ("etag", pa.string()),
    ("size", pa.int64()),
    ("last_modified", pa.timestamp("s", tz="UTC")),
    ("sha256", pa.string()),
    ("data", pa.large_binary()),
])


# -- settings (read at call time, from settings.py) ---------------------------------------------------------------
def hot_retention_days() -> int:
    """`CC_HOT_RETENTION_DAYS` (default 30): raw objects younger than this stay in the landing zone."""
    return load_settings().hot_retention_days


def restore_hold_days() -> int:
    """`CC_ARCHIVE_RESTORE_HOLD_DAYS` (default 7): a restored day is not archived again for this long."""
    return load_settings().archive_restore_hold_days


# -- helpers ------------------------------------------------------------------------------------------------
class ArchiveVerificationError(RuntimeError):
    """The archive of a day could not be read back identical to its originals; nothing was deleted."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def day_prefix(source: str, day: date) -> str:
    return f"{ARCHIVE_ROOT}/{source}/date={day:%Y-%m-%d}/"


def object_day(obj: LandingObject, instance_prefix: str = "") -> date:
    """The UTC day an object belongs to: the arrival-hour folder for Firehose objects, else its LastModified.
    `instance_prefix` is the Connect instance's landing folder the key starts with (CC_CONNECT_INSTANCES)."""
    match = _CTR_DAY.match(obj.key[len(instance_prefix):])
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    return obj.last_modified.astimezone(timezone.utc).date()


def count_records(source: str, data: bytes) -> int:
    """Decoded CTRs for ctr/; lines (JSON lines, CSV rows incl. header) for the other sources."""
    if source == "ctr":
        return len(decode_ctr_object(data).records)
    return len(data.splitlines())


@dataclass
class DayResult:
    source: str
    day: date
    status: str  # 'archived', 'merged', 'verified' (already archived, nothing new), 'failed', 'held'
    objects: int = 0  # objects in the archive of the day
    records: int = 0
    deleted: int = 0  # originals deleted by this run
    bytes_before: int = 0  # raw bytes of the originals compacted by this run
    bytes_after: int = 0  # size of the Parquet file
    verified: bool = False
    error: str | None = None


@dataclass
class CompactionReport:
    cutoff: date
    days: list[DayResult] = field(default_factory=list)
    pending: int = 0  # old objects kept because the ingestion ledger has not seen them yet

    @property
    def failed(self) -> list[DayResult]:
        return [d for d in self.days if d.status == "failed"]

    @property
    def verified(self) -> bool:
        return all(d.verified for d in self.days if d.status != "held")

    def totals(self) -> dict:
        done = [d for d in self.days if d.status in ("archived", "merged") or d.deleted]
        return {
            "days_archived": len(done),
            "objects": sum(d.deleted for d in done),
            "bytes_before": sum(d.bytes_before for d in done),
            "bytes_after": sum(d.bytes_after for d in done),
            "verified": self.verified,
            "failed_days": [f"{d.source}/{d.day}" for d in self.failed],
            "pending_not_ingested": self.pending,
        }


# -- reading an archive ---------------------------------------------------------------------------------------
def _exists(landing: LandingZone, key: str) -> bool:
    # List the folder, not the key: a local zone lists the files *below* a prefix.
    folder = key.rsplit("/", 1)[0] + "/"
    return any(o.key == key for o in landing.list(folder))


def read_manifest(landing: LandingZone, source: str, day: date) -> dict | None:
    key = day_prefix(source, day) + MANIFEST_NAME
    if not _exists(landing, key):
        return None
    return json.loads(landing.read(key))


def read_archive(landing: LandingZone, source: str, day: date, manifest: dict | None = None) -> dict[str, dict]:
    """key → row of a day's archive, checked against its manifest (Parquet sha256, every object's sha256)."""
    manifest = manifest if manifest is not None else read_manifest(landing, source, day)
    if manifest is None:
        raise ArchiveVerificationError(f"{day_prefix(source, day)}: no manifest")
    blob = landing.read(day_prefix(source, day) + PART_NAME)
    if sha256(blob) != manifest["parquet_sha256"]:
        raise ArchiveVerificationError(f"{day_prefix(source, day)}{PART_NAME}: sha256 differs from the manifest")
    rows = _parquet_rows(blob, f"{day_prefix(source, day)}{PART_NAME}")
    expected = {o["key"]: o for o in manifest["objects"]}
    if set(rows) != set(expected):
        raise ArchiveVerificationError(f"{day_prefix(source, day)}: objects differ from the manifest")
    for key, row in rows.items():
        if sha256(row["data"]) != expected[key]["sha256"] or len(row["data"]) != expected[key]["size"]:
            raise ArchiveVerificationError(f"{day_prefix(source, day)}: {key} differs from the manifest")
    return rows


def _parquet_rows(blob: bytes, name: str) -> dict[str, dict]:
    try:
        table = pq.read_table(io.BytesIO(blob))
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a failed verification
        raise ArchiveVerificationError(f"{name}: unreadable Parquet: {type(exc).__name__}: {exc}") from exc
    return {row["key"]: row for row in table.to_pylist()}


# -- writing ---------------------------------------------------------------------------------------------------
def _parquet_bytes(rows: list[dict]) -> bytes:
    table = pa.Table.from_pylist(sorted(rows, key=lambda r: r["key"]), schema=SCHEMA)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", row_group_size=1000)
    return sink.getvalue()


def _manifest(source: str, day: date, rows: list[dict], parquet: bytes) -> dict:
    objects = [{"key": r["key"], "etag": r["etag"], "size": r["size"],
                "last_modified": r["last_modified"].astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
                "records": r["records"], "sha256": r["sha256"]} for r in sorted(rows, key=lambda r: r["key"])]
    return {"version": MANIFEST_VERSION, "source": source, "date": f"{day:%Y-%m-%d}",
            "parquet": PART_NAME, "parquet_sha256": sha256(parquet), "parquet_size": len(parquet),
            "compression": "zstd", "objects_count": len(objects), "records": sum(o["records"] for o in objects),
            "bytes": sum(o["size"] for o in objects), "objects": objects}


def compact_day(landing: LandingZone, source: str, day: date, objects: list[LandingObject]) -> DayResult:
    """Archive `objects` (the originals of one source and day), verify, then delete them. Never raises for a
    verification failure: the result says `failed` and the originals stay."""
    result = DayResult(source, day, status="archived")
    prefix = day_prefix(source, day)
    try:
        existing_manifest = read_manifest(landing, source, day)
        existing = read_archive(landing, source, day, existing_manifest) if existing_manifest else {}
        old_records = {o["key"]: o["records"] for o in (existing_manifest or {}).get("objects", [])}

        originals: dict[str, bytes] = {}
        merged: dict[str, dict] = {k: {**row, "records": old_records[k]} for k, row in existing.items()}
        for obj in objects:
            data = landing.read(obj.key)
            originals[obj.key] = data
            digest = sha256(data)
            if obj.key in merged and merged[obj.key]["sha256"] == digest:
                continue  # already archived (a previous run stopped before deleting it)
            merged[obj.key] = {"key": obj.key, "etag": obj.etag, "size": len(data), "last_modified": obj.last_modified,
                               "sha256": digest, "data": data, "records": count_records(source, data)}

        changed = set(merged) != set(existing) or any(existing[k]["sha256"] != merged[k]["sha256"] for k in existing)
        if changed:
            result.status = "merged" if existing else "archived"
            parquet = _parquet_bytes([{k: v for k, v in r.items() if k != "records"} for r in merged.values()])
            manifest = _manifest(source, day, list(merged.values()), parquet)
            landing.write(prefix + PART_NAME, parquet)
            # Read the Parquet back before the manifest makes the day count as archived.
            stored = landing.read(prefix + PART_NAME)
            _parquet_rows(stored, prefix + PART_NAME)  # readable at all
            if sha256(stored) != manifest["parquet_sha256"]:
                raise ArchiveVerificationError(f"{prefix}{PART_NAME}: the stored file differs from the one written")
            landing.write(prefix + MANIFEST_NAME, json.dumps(manifest, indent=1).encode())
        else:
            result.status = "verified"
            manifest = existing_manifest
        rows = read_archive(landing, source, day)  # the whole check, as restore will do it
        for key, data in originals.items():
            if key not in rows or sha256(rows[key]["data"]) != sha256(data) or rows[key]["data"] != data:
                raise ArchiveVerificationError(f"{prefix}: {key} is not in the archive byte for byte")
        result.verified = True
        result.objects, result.records = manifest["objects_count"], manifest["records"]
        result.bytes_after = manifest["parquet_size"]

        # Delete only originals whose ETag is still the archived one (nothing rewrote them meanwhile).
        current = {o.key: o.etag for o in _list_keys(landing, objects)}
        for obj in objects:
            if current.get(obj.key) == obj.etag:
                landing.delete(obj.key)
                result.deleted += 1
                result.bytes_before += obj.size
    except ArchiveVerificationError as exc:
        result.status, result.verified, result.error = "failed", False, str(exc)
    return result


def _list_keys(landing: LandingZone, objects: list[LandingObject]) -> Iterable[LandingObject]:
    prefixes = sorted({o.key.rsplit("/", 1)[0] + "/" if "/" in o.key else "" for o in objects})
    wanted = {o.key for o in objects}
    for prefix in prefixes:
        for obj in landing.list(prefix):
            if obj.key in wanted:
                yield obj


# -- planning and running --------------------------------------------------------------------------------------
def _held(landing: LandingZone, source: str, day: date, now: datetime) -> bool:
    key = day_prefix(source, day) + RESTORED_NAME
    if not _exists(landing, key):
        return False
    until = datetime.fromisoformat(json.loads(landing.read(key))["hold_until"].replace("Z", "+00:00"))
    return now < until


def plan(landing: LandingZone, now: datetime, retention_days: int,
         ingested: set[tuple[str, str]] | None = None) -> tuple[dict[tuple[str, date], list[LandingObject]], int]:
    """(source, day) → the objects to compact, and how many old objects wait for ingestion.

    A day is compacted once it lies wholly before `now - retention_days`. With `ingested` (key, ETag pairs from the
    ingestion ledger), objects the pipeline has not ingested yet stay in the landing zone."""
    cutoff = (now - timedelta(days=retention_days)).date()
    groups: dict[tuple[str, date], list[LandingObject]] = {}
    pending = 0
    for source, prefix in ((s, i.prefix) for s in SOURCES for i in load_settings().connect_instances):
        for obj in landing.list(prefix + source + "/"):
            day = object_day(obj, prefix)
            if day >= cutoff:
                continue
            if ingested is not None and (obj.key, obj.etag) not in ingested:
                pending += 1
                continue
            groups.setdefault((source, day), []).append(obj)
    return groups, pending


def archived_days(landing: LandingZone, source: str | None = None) -> list[tuple[str, date]]:
    out = []
    for obj in landing.list(ARCHIVE_ROOT + "/" + (source + "/" if source else "")):
        parts = obj.key.split("/")
        if len(parts) == 4 and parts[3] == MANIFEST_NAME and parts[2].startswith("date="):
            out.append((parts[1], date.fromisoformat(parts[2][5:])))
    return out


def compact(landing: LandingZone, now: datetime | None = None, retention_days: int | None = None,
            ingested: set[tuple[str, str]] | None = None, reverify: bool = False) -> CompactionReport:
    """Compact every cold (source, day) of the landing zone. `reverify` also re-reads every archived day that
    had nothing new (a full audit); otherwise a rerun with nothing to do reads nothing but listings."""
    now = now or datetime.now(timezone.utc)
    retention_days = hot_retention_days() if retention_days is None else retention_days
    groups, pending = plan(landing, now, retention_days, ingested)
    report = CompactionReport(cutoff=(now - timedelta(days=retention_days)).date(), pending=pending)
    for (source, day), objects in sorted(groups.items()):
        if _held(landing, source, day, now):
            report.days.append(DayResult(source, day, status="held", objects=len(objects)))
            continue
        report.days.append(compact_day(landing, source, day, objects))
    if reverify:
        done = {(d.source, d.day) for d in report.days}
        for source, day in archived_days(landing):
            if (source, day) not in done:
                report.days.append(compact_day(landing, source, day, []))
    return report


# -- restore ---------------------------------------------------------------------------------------------------
def _local_mtime_ns(landing: LandingZone, etag: str) -> int | None:
    """A local zone's ETag is `<size hex>-<mtime_ns hex>`: restoring that mtime restores the ETag too."""
    if landing.uri.startswith("s3://"):
        return None
    match = _LOCAL_ETAG.match(etag)
    return int(match[2], 16) if match else None


def restore_day(landing: LandingZone, day: date | str, sources: Iterable[str] = SOURCES,
                now: datetime | None = None) -> dict[str, int]:
    """Put an archived day's objects back under their original keys, byte-identically (verified against the
    manifest first). Locally the original mtime (and so the ETag) is restored too; on S3 LastModified is the
    restore time. The day is then held from re-archiving for `CC_ARCHIVE_RESTORE_HOLD_DAYS`.
    Returns source → objects restored (objects already present with the same bytes are left alone)."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    now = now or datetime.now(timezone.utc)
    restored: dict[str, int] = {}
    for source in sources:
        manifest = read_manifest(landing, source, day)
        if manifest is None:
            continue
        rows = read_archive(landing, source, day, manifest)
        present = {o.key for o in _list_keys(landing, [LandingObject(k, "", 0, now) for k in rows])}
        count = 0
        for key, row in sorted(rows.items()):
            if key in present and sha256(landing.read(key)) == row["sha256"]:
                continue
            landing.write(key, row["data"])
            mtime_ns = _local_mtime_ns(landing, row["etag"])
            if mtime_ns is None and not landing.uri.startswith("s3://"):
                mtime_ns = int(row["last_modified"].timestamp()) * 1_000_000_000
            if mtime_ns is not None:
                os.utime(landing._local(key), ns=(mtime_ns, mtime_ns))
            count += 1
        hold = {"restored_at": now.isoformat(), "hold_until": (now + timedelta(days=restore_hold_days())).isoformat(),
                "objects": count}
        landing.write(day_prefix(source, day) + RESTORED_NAME, json.dumps(hold).encode())
        restored[source] = count
    return restored
