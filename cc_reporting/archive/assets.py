"""`landing_archive`: the daily compaction of cold landing objects (and, on S3, the archive's lifecycle)."""

import sys
from datetime import date

import dagster as dg

from cc_reporting.archive.compaction import ARCHIVE_ROOT, compact, hot_retention_days, restore_day
from cc_reporting.archive.lifecycle import apply_bucket_lifecycle, check_versioning, lifecycle_settings
from cc_reporting.resources.landing import LandingZone
from cc_reporting.resources.warehouse import WAREHOUSE_POOL, Warehouse


def _ingested_pairs(warehouse: Warehouse) -> set[tuple[str, str]]:
    """(key, ETag) of every object the ingestion ledger holds (any status: quarantined input is kept under
    quarantine/). No ledger yet = nothing ingested = nothing may be archived."""
    with warehouse.connect() as con:
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'ingest_ledger'"
                           ).fetchone()[0]:
            return set()
        return {(k, e) for k, e in con.execute("SELECT object_key, etag FROM ingest_ledger").fetchall()}


def apply_lifecycle(landing: LandingZone) -> dict:
    """On S3: the archive prefix's lifecycle rule and the bucket's versioning status (metadata)."""
    if not landing.uri.startswith("s3://"):
        return {"lifecycle": "local landing zone: no lifecycle"}
    bucket, root = landing._bucket_prefix()
    s = lifecycle_settings()
    changed = apply_bucket_lifecycle(bucket, f"{root}{ARCHIVE_ROOT}/", landing.endpoint_url, s.ia_days,
                                     s.glacier_days, s.deep_archive_days, s.expire_days)
    return {"lifecycle": "updated" if changed else "unchanged",
            "lifecycle_days": f"IT {s.ia_days} / GLACIER {s.glacier_days} / DEEP_ARCHIVE {s.deep_archive_days}"
                              + (f" / expire {s.expire_days}" if s.expire_days is not None else ""),
            "bucket_versioning": check_versioning(bucket, landing.endpoint_url)}


@dg.asset(
    group_name="archive",
    pool=WAREHOUSE_POOL,
    description="Landing objects (ctr/, reports/, channels/, crm/) older than CC_HOT_RETENTION_DAYS, once ingested, "
                "compacted per source and UTC day into archive/<source>/date=YYYY-MM-DD/part-0.parquet + "
                "manifest.json; originals deleted only after the archive verified byte for byte.",
)
def landing_archive(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: Warehouse
                    ) -> dg.MaterializeResult:
    report = compact(landing, retention_days=hot_retention_days(), ingested=_ingested_pairs(warehouse))
    totals = report.totals()
    metadata = {
        "cutoff": f"{report.cutoff:%Y-%m-%d}",
        "days_archived": totals["days_archived"],
        "objects": totals["objects"],
        "bytes_before": totals["bytes_before"],
        "bytes_after": totals["bytes_after"],
        "verified": totals["verified"],
        "pending_not_ingested": totals["pending_not_ingested"],
        "days": dg.MetadataValue.md("\n".join(
            f"- {d.source} {d.day}: {d.status}, {d.deleted} deleted, {d.objects} objects / {d.records} records"
            + (f" — {d.error}" if d.error else "") for d in report.days) or "nothing to archive"),
        **apply_lifecycle(landing),
    }
    for day in report.failed:
        context.log.error(f"archive of {day.source} {day.day} failed verification, originals kept: {day.error}")
    if report.failed:
        raise dg.Failure(description=f"{len(report.failed)} day(s) failed verification; their originals were kept",
                         metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)


archive_job = dg.define_asset_job(
    "archive_job", selection=[landing_archive],
    description="Compact cold landing objects into the verified archive (landing_archive): Parquet per source and "
                "day, originals deleted only after verification.")


@dg.schedule(job=archive_job, cron_schedule="30 3 * * *", execution_timezone="UTC",
             description="Daily at 03:30 UTC: compact landing days older than CC_HOT_RETENTION_DAYS. STOPPED by "
                         "default (deleting originals is a decision): switch it on in the UI (Automation) or "
                         "`dagster schedule start archive_daily_schedule`.")
def archive_daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    return dg.RunRequest(run_key=f"archive-{day}", tags={"cc_reporting/archive_date": day})


archive_assets = [landing_archive]
archive_jobs = [archive_job]
archive_schedules = [archive_daily_schedule]


def restore_command(date_str: str) -> int:
    """`cc-reporting restore --date YYYY-MM-DD`: put the archived day back into the landing zone (exit code)."""
    from cc_reporting.resources import build_resources

    try:
        day = date.fromisoformat(date_str)
    except ValueError:
        print(f"restore: not a date (YYYY-MM-DD): {date_str}", file=sys.stderr)
        return 2
    landing = build_resources()["landing"]
    try:
        restored = restore_day(landing, day)
    except Exception as exc:  # noqa: BLE001 - a CLI reports and exits non-zero
        print(f"restore {day}: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if not restored:
        print(f"restore {day}: nothing archived for that day under {landing.uri}/{ARCHIVE_ROOT}/", file=sys.stderr)
        return 1
    for source, count in restored.items():
        print(f"restore {day}: {source}: {count} object(s) put back")
    print(f"restore {day}: run `cc-reporting run --start {day}T00:00Z --end <next day>T00:00Z` to re-report it")
    return 0
