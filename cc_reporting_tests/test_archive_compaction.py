"""Compaction of a simulated landing zone older than the hot retention: archive + manifest, verification before
deletion, idempotent reruns, restore byte for byte, and the `landing_archive` asset."""
import io
import json
from datetime import date, datetime, timedelta, timezone

import dagster as dg
import pyarrow.parquet as pq
import pytest

from cc_reporting.archive import compaction
from cc_reporting.archive.compaction import SOURCES, compact, hashlib, restore_day
from cc_reporting.ingest.firehose import decode_ctr_object
from cc_reporting.ingest.ledger import ensure_ledger, record
from cc_reporting.resources.landing import LandingZone
from cc_reporting.simulate import simulate

DAY = datetime(2026, 1, 5, tzinfo=timezone.utc)


def future(days: int = 31) -> datetime:
    """A `now` after which everything just simulated (reports/crm/channels are dated by their mtime) is cold."""
    return datetime.now(timezone.utc) + timedelta(days=days)


def snapshot(landing: LandingZone) -> dict:
    return {o.key: (o.etag, o.last_modified, landing.read(o.key)) for s in SOURCES for o in landing.list(s + "/")}


@pytest.fixture
def sim(tmp_path, landing):
    summary = simulate(DAY, 4, 4, 7, landing, str(tmp_path / "landing" / "agent-events"))
    return summary, snapshot(landing)


def archive_keys(landing):
    return sorted(o.key for o in landing.list("archive/"))


def test_compaction_archives_cold_days_with_a_verified_manifest_and_deletes_originals(sim, landing):
    summary, before = sim
    report = compact(landing, now=future(), retention_days=30)
    assert report.verified and not report.failed
    assert report.totals()["objects"] == len(before)
    assert snapshot(landing) == {}  # originals gone
    assert sorted(o.key.split("/")[0] for o in landing.list("agent-events/"))  # other folders untouched
    ctr = [d for d in report.days if d.source == "ctr"]
    assert [(d.day, d.status) for d in ctr] == [(date(2026, 1, 5), "archived")]
    for d in report.days:
        prefix = f"archive/{d.source}/date={d.day:%Y-%m-%d}/"
        manifest = json.loads(landing.read(prefix + "manifest.json"))
        blob = landing.read(prefix + "part-0.parquet")
        assert manifest["parquet_sha256"] == hashlib.sha256(blob).hexdigest()
        table = pq.read_table(io.BytesIO(blob))
        assert table.column_names == ["key", "etag", "size", "last_modified", "sha256", "data"]
        assert pq.ParquetFile(io.BytesIO(blob)).metadata.row_group(0).column(5).compression == "ZSTD"
        for row, entry in zip(table.to_pylist(), manifest["objects"]):
            original = before[row["key"]]
            assert row["data"] == original[2] and entry["sha256"] == hashlib.sha256(original[2]).hexdigest()
            assert (row["etag"], row["last_modified"], entry["etag"]) == (original[0], original[1], original[0])
        assert manifest["objects_count"] == len(table) == d.objects
    ctr_manifest = json.loads(landing.read("archive/ctr/date=2026-01-05/manifest.json"))
    decoded = sum(len(decode_ctr_object(v[2]).records) for k, v in before.items() if k.startswith("ctr/"))
    assert ctr_manifest["records"] == decoded > 0 and ctr_manifest["objects_count"] == summary.ctr_objects


def test_hot_objects_stay_and_a_rerun_does_nothing(sim, landing):
    _, before = sim
    # ctr/ is dated by its arrival-hour folder (2026-01-05): hot for 30 days after that, cold on day 31.
    assert [d.source for d in compact(landing, now=DAY + timedelta(days=30, hours=23), retention_days=30).days] == []
    assert snapshot(landing) == before
    assert [d.source for d in compact(landing, now=DAY + timedelta(days=31), retention_days=30).days] == ["ctr"]
    compact(landing, now=future(), retention_days=30)
    parts = {k: landing.read(k) for k in archive_keys(landing)}
    mtimes = [o.etag for o in landing.list("archive/")]
    again = compact(landing, now=future(), retention_days=30)
    assert again.days == [] and again.totals()["objects"] == 0
    audit = compact(landing, now=future(), retention_days=30, reverify=True)  # re-verifies every archived day
    assert {d.status for d in audit.days} == {"verified"} and audit.verified
    assert [o.etag for o in landing.list("archive/")] == mtimes  # nothing rewritten
    assert {k: landing.read(k) for k in archive_keys(landing)} == parts


def test_a_corrupted_archive_part_prevents_deletion(sim, landing, monkeypatch):
    _, before = sim
    real_read = LandingZone.read

    def corrupting_read(self, key):
        data = real_read(self, key)
        if key.endswith("part-0.parquet") and "/ctr/" in key:
            return data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]  # one flipped byte in the stored file
        return data

    monkeypatch.setattr(LandingZone, "read", corrupting_read)
    report = compact(landing, now=future(), retention_days=30)
    (failed,) = report.failed
    assert failed.source == "ctr" and not failed.verified and failed.deleted == 0
    assert not report.verified
    assert {k: v for k, v in snapshot(landing).items() if k.startswith("ctr/")} == \
        {k: v for k, v in before.items() if k.startswith("ctr/")}  # every original kept
    assert "archive/ctr/date=2026-01-05/manifest.json" not in archive_keys(landing)  # never counted as archived
    monkeypatch.setattr(LandingZone, "read", real_read)
    # Once storage reads back correctly, the next run archives the day and deletes the originals.
    assert compact(landing, now=future(), retention_days=30).verified
    assert snapshot(landing) == {}


def test_a_tampered_archive_blocks_merging_late_objects(sim, landing, tmp_path):
    compact(landing, now=future(), retention_days=30)
    part = tmp_path / "landing" / "archive" / "ctr" / "date=2026-01-05" / "part-0.parquet"
    part.write_bytes(part.read_bytes()[:-10] + b"0123456789")
    late = "ctr/2026/01/05/23/late-object"
    landing.write(late, b'{"ContactId":"x","LastUpdateTimestamp":"2026-01-05T23:59:00Z"}')
    report = compact(landing, now=future(), retention_days=30)
    assert [(d.source, d.status) for d in report.failed] == [("ctr", "failed")]
    assert [o.key for o in landing.list("ctr/")] == [late]  # the late original is kept
    with pytest.raises(compaction.ArchiveVerificationError):
        restore_day(landing, "2026-01-05", sources=["ctr"])


def test_late_objects_of_an_archived_day_are_merged(sim, landing):
    compact(landing, now=future(), retention_days=30)
    late = "ctr/2026/01/05/23/late-object"
    body = b'{"ContactId":"x","LastUpdateTimestamp":"2026-01-05T23:59:00Z"}'
    landing.write(late, body)
    report = compact(landing, now=future(), retention_days=30)
    assert [(d.source, d.status, d.deleted) for d in report.days] == [("ctr", "merged", 1)]
    manifest = json.loads(landing.read("archive/ctr/date=2026-01-05/manifest.json"))
    assert late in [o["key"] for o in manifest["objects"]]
    restore_day(landing, date(2026, 1, 5), sources=["ctr"])
    assert landing.read(late) == body


def test_restore_puts_every_object_back_byte_identically(sim, landing):
    _, before = sim
    report = compact(landing, now=future(), retention_days=30)
    for day in sorted({d.day for d in report.days}):
        restore_day(landing, day)
    assert snapshot(landing) == before  # bytes, and locally also mtime and so ETag
    # A restored day is held from re-archiving for CC_ARCHIVE_RESTORE_HOLD_DAYS (7) …
    held = compact(landing, now=datetime.now(timezone.utc) + timedelta(days=1), retention_days=0)
    assert {d.status for d in held.days} == {"held"} and snapshot(landing) == before
    # … and archived again (verified against the existing archive) afterwards.
    again = compact(landing, now=future(), retention_days=30)
    assert {d.status for d in again.days} == {"verified"} and snapshot(landing) == {}


def test_objects_not_yet_ingested_stay(sim, landing):
    _, before = sim
    some = sorted(before)[:3]
    report = compact(landing, now=future(), retention_days=30,
                     ingested={(k, before[k][0]) for k in some})
    assert report.pending == len(before) - 3
    assert sorted(snapshot(landing)) == sorted(set(before) - set(some))


def test_landing_archive_asset_reports_its_metadata(sim, landing, warehouse, monkeypatch):
    from cc_reporting.archive.assets import archive_daily_schedule, landing_archive

    _, before = sim
    monkeypatch.setenv("CC_HOT_RETENTION_DAYS", "0")
    ctr_only = {k for k in before if k.startswith("ctr/")}  # only ctr/ is dated before today
    # Nothing ingested yet: nothing may be archived.
    result = dg.materialize([landing_archive], resources={"landing": landing, "warehouse": warehouse})
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["objects"].value == 0 and meta["pending_not_ingested"].value == len(ctr_only)
    assert snapshot(landing) == before
    with warehouse.connect() as con:
        ensure_ledger(con)
        record(con, "ctr", [{"key": k, "etag": before[k][0], "size": len(before[k][2]), "records": 1,
                             "status": "ingested"} for k in ctr_only], "run", datetime.now(timezone.utc))
    result = dg.materialize([landing_archive], resources={"landing": landing, "warehouse": warehouse})
    assert result.success
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["days_archived"].value == 1 and meta["objects"].value == len(ctr_only)
    assert meta["verified"].value is True and meta["bytes_after"].value > 0
    assert meta["bytes_before"].value == sum(len(before[k][2]) for k in ctr_only)
    assert meta["lifecycle"].value.startswith("local")
    assert sorted(snapshot(landing)) == sorted(set(before) - ctr_only)
    ctx = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 2, 1, 3, 30, tzinfo=timezone.utc))
    assert archive_daily_schedule(ctx).run_key == "archive-2026-02-01"


def test_restore_command(sim, landing, monkeypatch, capsys):
    from cc_reporting.archive.assets import restore_command

    _, before = sim
    compact(landing, now=future(), retention_days=30)
    monkeypatch.setenv("CC_LANDING_URI", landing.uri)
    assert restore_command("2026-01-05") == 0
    assert "ctr: " in capsys.readouterr().out
    assert {k for k in snapshot(landing)} == {k for k in before if k.startswith("ctr/")}
    assert restore_command("2025-01-01") == 1 and restore_command("yesterday") == 2


def test_objects_under_every_connect_instance_prefix_are_planned_for_the_archive(tmp_path, monkeypatch):
    """With CC_CONNECT_INSTANCES, each instance's landing folder is compacted too, its Firehose day read from the
    path after the instance prefix (the archive keeps every object's key)."""
    monkeypatch.setenv("CC_CONNECT_INSTANCES", "main=,emea=connect/emea/")
    landing = LandingZone(uri=str(tmp_path / "zone"))
    body = (json.dumps({"ContactId": "c1", "LastUpdateTimestamp": "2026-01-05T09:00:00Z"})).encode()
    keys = ["ctr/2026/01/05/09/root-object", "connect/emea/ctr/2026/01/05/09/emea-object"]
    for key in keys:
        landing.write(key, body)
    groups, pending = compaction.plan(landing, future(), 30)
    assert pending == 0
    assert sorted(o.key for objects in groups.values() for o in objects) == sorted(keys)
    assert set(groups) == {("ctr", date(2026, 1, 5))}  # the day from the path, not the files' mtime
