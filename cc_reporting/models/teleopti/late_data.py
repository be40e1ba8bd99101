"""Late and updated data: re-open delivered intervals when staging changed their facts.

Staging records, in each materialization's metadata, the intervals whose facts changed (`touched_intervals`).
This sensor reads those events (never the warehouse: DuckDB has one writer), keeps the intervals that were
materialized *before* the change and lie within `CC_LATE_DATA_DAYS`, and requests one run per contiguous range,
tagged with why.
Files whose content did not change are not re-delivered (the delivery ledger compares sha256).
"""
from datetime import datetime, timedelta, timezone

import dagster as dg
from dagster import DagsterEventType

from cc_reporting.models.teleopti.schedules import teleopti_agent_performance_job, teleopti_intervals_job
from cc_reporting.partitions import PARTITION_KEY_FORMAT
from cc_reporting.settings import load_settings

MAX_EVENTS_PER_TICK = 200


def contiguous_ranges(keys: list[str], minutes: int) -> list[tuple[str, str]]:
    """Group sorted partition keys into runs of consecutive intervals: one Dagster run per range."""
    starts = sorted({datetime.strptime(k, PARTITION_KEY_FORMAT) for k in keys})
    ranges: list[tuple[datetime, datetime]] = []
    for start in starts:
        if ranges and start - ranges[-1][1] == timedelta(minutes=minutes):
            ranges[-1] = (ranges[-1][0], start)
        else:
            ranges.append((start, start))
    return [(a.strftime(PARTITION_KEY_FORMAT), b.strftime(PARTITION_KEY_FORMAT)) for a, b in ranges]


def _touched_since(instance, asset_key: str, after_storage_id: int | None):
    """Partition key → storage id of the latest staging event that changed it, since the cursor."""
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset_key), after_storage_id=after_storage_id),
        limit=MAX_EVENTS_PER_TICK, ascending=True)
    touched, last_id = {}, after_storage_id
    for record in result.records:
        entry = record.asset_materialization.metadata.get("touched_intervals") if record.asset_materialization else None
        for key in entry.value if entry is not None else []:
            touched[key] = record.storage_id
        last_id = record.storage_id
    return touched, last_id


def _delivered_before(instance, asset_key: str, touched: dict[str, int]) -> list[str]:
    """Touched intervals whose latest materialization predates the change (intervals built after it are current)."""
    latest = instance.event_log_storage.get_latest_storage_id_by_partition(
        dg.AssetKey(asset_key), DagsterEventType.ASSET_MATERIALIZATION, partitions=set(touched))
    return [k for k, changed_at in touched.items() if k in latest and latest[k] < changed_at]


def reopened_run_requests(instance, cursor: dict, now: datetime) -> tuple[list[dg.RunRequest], dict]:
    settings = load_settings()
    horizon = (now - timedelta(days=settings.late_data_days)).replace(tzinfo=None)
    requests = []
    plans = [("stg_ctr", teleopti_intervals_job, "teleopti_queue_stats", 15),
             ("stg_agent_report", teleopti_agent_performance_job, "teleopti_agent_performance", 30)]
    for source, job, delivered_asset, minutes in plans:
        touched, last_id = _touched_since(instance, source, cursor.get(source))
        if last_id is not None:
            cursor[source] = last_id
        if not touched:
            continue
        due = [k for k in _delivered_before(instance, delivered_asset, touched)
               if datetime.strptime(k, PARTITION_KEY_FORMAT) >= horizon]
        for first, last in contiguous_ranges(due, minutes):
            requests.append(dg.RunRequest(
                job_name=job.name,
                run_key=f"late-{source}-{first}-{last}-{last_id}",
                tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last,
                      "cc_reporting/reason": f"late or updated {source} rows changed delivered intervals",
                      "cc_reporting/reopened_intervals": f"{first} … {last}"}))
    return requests, cursor


@dg.sensor(jobs=[teleopti_intervals_job, teleopti_agent_performance_job], minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Re-computes and re-delivers Teleopti intervals whose contacts or report rows changed.")
def teleopti_late_data_sensor(context: dg.SensorEvaluationContext):
    import json

    cursor = json.loads(context.cursor) if context.cursor else {}
    requests, cursor = reopened_run_requests(context.instance, cursor, datetime.now(timezone.utc))
    context.update_cursor(json.dumps(cursor))
    if not requests:
        return dg.SkipReason("no delivered interval was changed by late data")
    return requests
