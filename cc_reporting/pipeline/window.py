"""Which days and intervals a `cc-reporting run` reports, and the partition tags of its runs.

The default window is made of what is staged: each local day (CC_REPORT_TIMEZONE) holding data that the Dagster
instance has not seen reported since the data last changed, one day at a time, never one run over months.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dagster as dg
from dagster import DagsterEventType

from cc_reporting.models.kpi.assets import kpi_daily
from cc_reporting.partitions import PARTITION_KEY_FORMAT, clamp_window, partition_range
from cc_reporting.settings import load_settings
from cc_reporting.staging.ctr_table import records_outside_range


def _floor(t: datetime, minutes: int) -> datetime:
    t = t.astimezone(timezone.utc)
    return t.replace(minute=t.minute - t.minute % minutes, second=0, microsecond=0)


def _range_tags(start: datetime, end: datetime, minutes: int) -> dict | None:
    """Tags of a single run covering every `minutes` partition in [start, end); None when the window is empty."""
    first, last = _floor(start, minutes), _floor(end - timedelta(seconds=1), minutes)
    if last < first:
        return None
    return {"dagster/asset_partition_range_start": first.strftime(PARTITION_KEY_FORMAT),
            "dagster/asset_partition_range_end": last.strftime(PARTITION_KEY_FORMAT)}


# When each staged contact or report row happened: what the default window is made of.
_DATA_TIMES = """SELECT coalesce(enqueue_ts, initiation_ts) AS t FROM stg_ctr
                 UNION ALL SELECT interval_start FROM stg_agent_report"""


def staged_window(resources) -> tuple[datetime, datetime] | None:
    """From the first to the last 30 minutes the staged data touches, clamped to the partition range; records
    before CC_PARTITIONS_START stay staged and are counted, not reported."""
    first_key, end_key = partition_range()
    with resources["warehouse"].connect() as con:
        exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'stg_ctr'").fetchone()
        if not exists[0]:
            return None
        first, last = con.execute(f"SELECT min(t), max(t) FROM ({_DATA_TIMES}) WHERE t >= ? AND t < ?",
                                  [first_key, end_key]).fetchone()
    if first is None:
        return None
    return clamp_window(_floor(first, 30), _floor(last, 30) + timedelta(minutes=30))


def outside_range_note(resources) -> str | None:
    """One line on staged contacts without a partition: how many, which dates, which setting to change."""
    with resources["warehouse"].connect() as con:
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'stg_ctr'").fetchone()[0]:
            return None
        first, end = partition_range()
        outside = records_outside_range(con, first, end)
    before, after = outside["records_before_partitions_start"], outside["records_after_partitions_end"]
    if not before and not after:
        return None
    parts = ([f"{before:,} before CC_PARTITIONS_START ({first:%Y-%m-%d})"] if before else []) + (
        [f"{after:,} in intervals not over yet"] if after else [])
    return (f"staged contact records in no report: {' and '.join(parts)}, dates "
            f"{', '.join(outside['dates_outside_partitions'])}; set CC_PARTITIONS_START earlier to report them")


def _day_chunks(start: datetime, end: datetime):
    """The window cut at local midnights (CC_REPORT_TIMEZONE): one bounded set of Dagster runs per business day,
    never one run over tens of thousands of partitions."""
    tz = ZoneInfo(load_settings().report_timezone)
    day = start.astimezone(tz).date()
    while True:
        day_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).astimezone(timezone.utc)
        yield max(start, datetime.combine(day, datetime.min.time(), tz).astimezone(timezone.utc)), min(end, day_end)
        if day_end >= end:
            return
        day += timedelta(days=1)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC window of a local day (CC_REPORT_TIMEZONE), clamped to the partition range (may be None)."""
    tz = ZoneInfo(load_settings().report_timezone)
    local = datetime.combine(day, datetime.min.time(), tz)
    return clamp_window(local.astimezone(timezone.utc), (local + timedelta(days=1)).astimezone(timezone.utc))


def _reported_at(instance, days: list[date]) -> dict[date, float]:
    """When each day's report last finished in this instance: its `kpi_daily` partition is the last run of a
    day's report (a day's runs stop at the first failure), so its latest materialization dates the report."""
    keys = {f"{day:%Y-%m-%d}": day for day in days}
    latest = instance.event_log_storage.get_latest_storage_id_by_partition(
        kpi_daily.key, DagsterEventType.ASSET_MATERIALIZATION, partitions=set(keys))
    if not latest:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=kpi_daily.key, storage_ids=list(latest.values())), limit=len(latest)).records
    return {keys[r.partition_key]: r.timestamp for r in records}


def days_to_report(instance, resources, start: datetime, end: datetime) -> list[date]:
    """Local days (CC_REPORT_TIMEZONE) of [start, end) that hold staged data and were not reported since their
    last change (the default window of `cc-reporting run`): data landed months apart means a run for each of
    those days, none for the empty days between, and none for a day already reported and unchanged since.
    The changes are the staging batches' touched intervals; an instance without history (no DAGSTER_HOME)
    knows no report, so every day with data is reported again (byte-identical files)."""
    tz = load_settings().report_timezone
    with resources["warehouse"].connect() as con:
        rows = con.execute(
            f"""WITH data_days AS (SELECT DISTINCT CAST(timezone(?, t) AS DATE) AS day FROM ({_DATA_TIMES})
                                   WHERE t >= ? AND t < ?),
                     changes AS (SELECT CAST(timezone(?, interval_start) AS DATE) AS day, max(ingested_at) AS changed_at
                                 FROM (SELECT interval_start, ingested_at FROM stg_ctr_touched
                                       UNION ALL SELECT interval_start, ingested_at FROM stg_agent_report_touched)
                                 GROUP BY 1)
                SELECT day, epoch(changed_at) FROM data_days LEFT JOIN changes USING (day) ORDER BY day""",
            [tz, start, end, tz]).fetchall()
    reported = _reported_at(instance, [day for day, _ in rows])
    return [day for day, changed in rows if day not in reported or (changed or 0) > reported[day]]


def _day_tags(start: datetime, end: datetime) -> dict:
    """The local days (CC_REPORT_TIMEZONE) the UTC window touches, as one partition range."""
    tz = ZoneInfo(load_settings().report_timezone)
    first, last = start.astimezone(tz).date(), (end - timedelta(seconds=1)).astimezone(tz).date()
    return {"dagster/asset_partition_range_start": f"{first:%Y-%m-%d}",
            "dagster/asset_partition_range_end": f"{last:%Y-%m-%d}"}
