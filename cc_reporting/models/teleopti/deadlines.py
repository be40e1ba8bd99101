"""Delivery deadlines: what users wait for, shown as overdue in the UI when it has not arrived.

A Teleopti interval is due `CC_TELEOPTI_LAG_MINUTES` + 10 minutes after it ends (the agent-performance window
`CC_AGENT_REPORT_LAG_MINUTES` + 10); a local day's KPIs are due 10 minutes after their 01:00 schedule. A partition
counts as delivered when it has a materialization: the Teleopti assets fail the step, and record none, while a
check holds their files in the outbox. Each asset has its own check (WARN): it fails while the partition most
recently due has none, naming the partition and how late it is. The sensor runs the checks once per new deadline;
every run of one of these assets' jobs in the code location evaluates them again (`cc-reporting run` builds its
runs from the assets alone, so a backfill of past days reports no deadline).

Dagster's `build_time_partition_freshness_checks` expects the window most recently completed at a cron tick, which
cannot express "15 minutes after the window's end" for 15-minute windows: the rule is written here instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dagster as dg

from cc_reporting.ingest.automation import starts_by_itself
from cc_reporting.models.kpi.assets import kpi_daily, kpi_interval
from cc_reporting.models.teleopti.assets import (
    teleopti_agent_performance,
    teleopti_agent_queue_stats,
    teleopti_contacts,
    teleopti_queue_stats,
)
from cc_reporting.models.teleopti.schedules import due_interval_start
from cc_reporting.partitions import PARTITION_KEY_FORMAT, daily_partitions, partitions_start
from cc_reporting.settings import load_settings

GRACE = timedelta(minutes=10)
KPI_DAILY_SCHEDULED_AFTER_MIDNIGHT = timedelta(hours=1)  # kpi_daily_schedule: 01:00 in the report time zone


@dataclass(frozen=True)
class Due:
    partition_key: str
    deadline: datetime  # UTC


def interval_due(now: datetime, lag_minutes: int, length_minutes: int) -> Due:
    """The latest `length`-minute UTC window whose deadline (its end + lag + 10 minutes) is at or before `now`."""
    start = due_interval_start(now - GRACE, lag_minutes, length_minutes)
    end = start + timedelta(minutes=length_minutes)
    return Due(start.strftime(PARTITION_KEY_FORMAT), end + timedelta(minutes=lag_minutes) + GRACE)


def day_due(now: datetime, report_timezone: str) -> Due:
    """The latest local day whose KPIs were due (01:00 the next local day, + 10 minutes) at or before `now`.

    Deadlines are wall-clock times in the report zone, so a 23- or 25-hour day keeps its 01:10."""
    zone = ZoneInfo(report_timezone)

    def deadline(day):
        return (datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(days=1)
                + KPI_DAILY_SCHEDULED_AFTER_MIDNIGHT + GRACE).astimezone(timezone.utc)

    day = now.astimezone(zone).date() - timedelta(days=1)
    if deadline(day) > now:
        day -= timedelta(days=1)
    return Due(day.isoformat(), deadline(day))


def _due_for(asset_name: str, now: datetime) -> Due:
    settings = load_settings()
    if asset_name == "kpi_daily":
        return day_due(now, settings.report_timezone)
    if asset_name == "teleopti_agent_performance":
        return interval_due(now, settings.agent_report_lag_minutes, 30)
    return interval_due(now, settings.teleopti_lag_minutes, 15)


def _before_partitions(due: Due, asset_name: str) -> bool:
    if asset_name == "kpi_daily":
        return due.partition_key < daily_partitions.start.strftime("%Y-%m-%d")
    return datetime.strptime(due.partition_key, PARTITION_KEY_FORMAT).replace(tzinfo=timezone.utc) < partitions_start()


def delivered(instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition_key: str) -> bool:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition_key]), limit=1).records
    return bool(records)


def deadline_result(instance, asset_key: dg.AssetKey, now: datetime) -> dg.AssetCheckResult:
    asset_name = asset_key.to_user_string()
    due = _due_for(asset_name, now)
    metadata = {"partition due": due.partition_key,
                "deadline": dg.MetadataValue.timestamp(due.deadline.timestamp())}
    if _before_partitions(due, asset_name):
        return dg.AssetCheckResult(passed=True, metadata=metadata,
                                   description=f"nothing due yet: {due.partition_key} is before the first partition")
    if delivered(instance, asset_key, due.partition_key):
        return dg.AssetCheckResult(passed=True, metadata=metadata,
                                   description=f"{due.partition_key} delivered by its deadline or since")
    late = int((now - due.deadline).total_seconds())
    return dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.WARN,
        metadata={**metadata, "overdue_seconds": late},
        description=f"OVERDUE: {asset_name} {due.partition_key} not delivered {late // 60} min after its deadline")


def _deadline_check(asset_def: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    name = asset_def.key.to_user_string()

    @dg.asset_check(asset=asset_def, name="delivered_on_time", blocking=False,
                    description=f"{name}: the partition most recently due has been delivered (WARN while overdue). "
                                "Evaluated by delivery_deadline_sensor after each deadline and by every run of "
                                "the asset's job.")
    def _check(context):
        return deadline_result(context.instance, asset_def.key, datetime.now(timezone.utc))

    return _check


DEADLINE_ASSETS = [teleopti_queue_stats, teleopti_agent_queue_stats, teleopti_contacts, kpi_interval,
                   teleopti_agent_performance, kpi_daily]
deadline_checks = [_deadline_check(asset_def) for asset_def in DEADLINE_ASSETS]


def _deadline_tag(now: datetime) -> str:
    """One run per new deadline of any of the checks: the tuple of what is due now."""
    return "|".join(_due_for(a.key.to_user_string(), now).partition_key for a in DEADLINE_ASSETS)


@dg.sensor(name="delivery_deadline_sensor", minimum_interval_seconds=60,
           asset_selection=dg.AssetSelection.checks(*deadline_checks),
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Runs the delivered_on_time checks once after each new delivery deadline (a Teleopti interval "
                       "CC_TELEOPTI_LAG_MINUTES + 10 min after it ends, the daily KPIs at 01:10 local): an overdue "
                       "partition shows as a WARN check on its asset. "
                       + starts_by_itself("sensor", "delivery_deadline_sensor"))
def delivery_deadline_sensor(context):
    due = _deadline_tag(datetime.now(timezone.utc))
    if context.cursor == due:
        return dg.SkipReason(f"no new deadline since the last check run ({due})")
    context.update_cursor(due)
    keys = [spec.key for check_def in deadline_checks for spec in check_def.check_specs]
    return dg.RunRequest(run_key=f"deadlines-{due}", asset_check_keys=keys)
