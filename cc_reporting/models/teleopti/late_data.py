"""Late and updated data: re-open delivered intervals when staging changed their facts.

Staging records, in each materialization's metadata, the intervals whose facts changed (`touched_intervals`).
Every file kind a change feeds is re-opened: contacts re-open the queue files, the daily KPIs and the agent
performance file (outbound legs count there), report rows re-open agent performance.
This sensor reads those events (never the warehouse: DuckDB has one writer), keeps the intervals that were
materialized *before* the change and lie within `CC_LATE_DATA_DAYS`, and requests one run per contiguous range,
tagged with why.
Files whose content did not change are not re-delivered (the delivery ledger compares sha256).
"""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dagster as dg
from dagster import DagsterEventType

from cc_reporting.ingest.automation import starts_by_itself
from cc_reporting.models.teleopti.schedules import (
    interval_reports_job,
    kpi_daily_job,
    teleopti_agent_performance_job,
)
from cc_reporting.partitions import PARTITION_KEY_FORMAT, partitions_start
from cc_reporting.settings import load_settings

MAX_EVENTS_PER_TICK = 200
DAY_FORMAT = "%Y-%m-%d"


def contiguous_ranges(keys, minutes: int, fmt: str = PARTITION_KEY_FORMAT) -> list[tuple[str, str]]:
    """Group sorted partition keys into runs of consecutive intervals: one Dagster run per range."""
    starts = sorted({datetime.strptime(k, fmt) for k in keys})
    ranges: list[tuple[datetime, datetime]] = []
    for start in starts:
        if ranges and start - ranges[-1][1] == timedelta(minutes=minutes):
            ranges[-1] = (ranges[-1][0], start)
        else:
            ranges.append((start, start))
    return [(a.strftime(fmt), b.strftime(fmt)) for a, b in ranges]


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


def _local_days(touched: dict[str, int], tz: str) -> dict[str, int]:
    """15-minute UTC keys → the local days (`kpi_daily` partitions) they fall on, with the latest change id."""
    days: dict[str, int] = {}
    for key, changed_at in touched.items():
        local = datetime.strptime(key, PARTITION_KEY_FORMAT).replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
        day = local.strftime(DAY_FORMAT)
        days[day] = max(days.get(day, 0), changed_at)
    return days


def _in_partitions_range(touched: dict[str, int], fmt: str) -> dict[str, int]:
    """Keys before CC_PARTITIONS_START name no partition: a run requested for them would fail."""
    start = partitions_start().replace(tzinfo=None)
    return {k: v for k, v in touched.items() if datetime.strptime(k, fmt) >= start}


def _thirty_minute_keys(touched: dict[str, int]) -> dict[str, int]:
    """15-minute keys → the 30-minute agent-performance partitions holding them, with the latest change id."""
    halves: dict[str, int] = {}
    for key, changed_at in touched.items():
        t = datetime.strptime(key, PARTITION_KEY_FORMAT)
        half = t.replace(minute=t.minute - t.minute % 30).strftime(PARTITION_KEY_FORMAT)
        halves[half] = max(halves.get(half, 0), changed_at)
    return halves


def _agent_performance_keys(touched: dict) -> dict[str, int]:
    """Report rows and contacts both feed the file: outbound legs make direct_out_call_cnt/_dur."""
    keys = _thirty_minute_keys(touched["stg_ctr"])
    for key, changed_at in _thirty_minute_keys(touched["stg_agent_report"]).items():
        keys[key] = max(keys.get(key, 0), changed_at)
    return keys


def reopened_run_requests(instance, cursor: dict, now: datetime) -> tuple[list[dg.RunRequest], dict]:
    settings = load_settings()
    horizon = (now - timedelta(days=settings.late_data_days)).replace(tzinfo=None)
    touched = {}
    for source in ("stg_ctr", "stg_agent_report"):
        touched[source], last_id = _touched_since(instance, source, cursor.get(source))
        if last_id is not None:
            cursor[source] = last_id
    # (job, asset whose partitions were delivered, touched keys, minutes per partition, key format)
    plans = [(interval_reports_job, "teleopti_queue_stats", touched["stg_ctr"], 15, PARTITION_KEY_FORMAT),
             (teleopti_agent_performance_job, "teleopti_agent_performance", _agent_performance_keys(touched), 30,
              PARTITION_KEY_FORMAT),
             (kpi_daily_job, "kpi_daily", _local_days(touched["stg_ctr"], settings.report_timezone), 1440,
              DAY_FORMAT)]
    requests = []
    for job, delivered_asset, keys, minutes, fmt in plans:
        keys = _in_partitions_range(keys, fmt)
        if not keys:
            continue
        due = [k for k in _delivered_before(instance, delivered_asset, keys) if datetime.strptime(k, fmt) >= horizon]
        for first, last in contiguous_ranges(due, minutes, fmt):
            requests.append(dg.RunRequest(
                job_name=job.name,
                run_key=f"late-{job.name}-{first}-{last}-{max(keys.values())}",
                tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last,
                      "cc_reporting/reason": "late or updated staged rows changed delivered partitions",
                      "cc_reporting/reopened_intervals": f"{first} … {last}"}))
    return requests, cursor


@dg.sensor(jobs=[interval_reports_job, teleopti_agent_performance_job, kpi_daily_job], minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Every 60 s: re-computes and re-delivers Teleopti intervals (and daily KPIs) already "
                       "delivered within CC_LATE_DATA_DAYS whose contacts or report rows a later staging run "
                       "changed; reads only the Dagster instance. "
                       + starts_by_itself("sensor", "teleopti_late_data_sensor"))
def teleopti_late_data_sensor(context: dg.SensorEvaluationContext):
    import json

    cursor = json.loads(context.cursor) if context.cursor else {}
    requests, cursor = reopened_run_requests(context.instance, cursor, datetime.now(timezone.utc))
    context.update_cursor(json.dumps(cursor))
    if not requests:
        return dg.SkipReason("no delivered interval was changed by late data")
    return requests
