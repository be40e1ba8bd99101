"""Teleopti schedules: each computes its partition key from the scheduled execution time.

15-minute kinds run at :10/:25/:40/:55 for the latest interval that ended at least `CC_TELEOPTI_LAG_MINUTES`
(default 5) before, so an interval is first delivered 10 minutes after it ends (Teleopti wants 10-30).
Agent performance runs at :20/:50 for the latest 30-minute window that ended `CC_AGENT_REPORT_LAG_MINUTES`
(default 20) before: Amazon delivers the scheduled report ~15 minutes after its run.
"""
from datetime import datetime, timedelta, timezone

import dagster as dg

from cc_reporting.ingest.automation import starts_by_itself
from cc_reporting.models.kpi.assets import kpi_daily, kpi_interval
from cc_reporting.models.teleopti.assets import (
    teleopti_agent_performance,
    teleopti_agent_queue_stats,
    teleopti_contacts,
    teleopti_queue_stats,
)
from cc_reporting.partitions import PARTITION_KEY_FORMAT, fifteen_minute_partitions, thirty_minute_partitions
from cc_reporting.realtime.assets import agent_state_intervals
from cc_reporting.settings import load_settings

# Everything computed per 15-minute interval: the Teleopti files and the interval KPIs (reconciled in one run).
interval_reports_job = dg.define_asset_job(
    "interval_reports",
    selection=dg.AssetSelection.assets(agent_state_intervals, teleopti_queue_stats, teleopti_agent_queue_stats,
                                       teleopti_contacts, kpi_interval),
    partitions_def=fifteen_minute_partitions,
    description="One 15-minute interval: agent-state seconds, the Teleopti queue, agent-queue and contact files "
                "(built, checked, delivered) and the interval KPIs.",
)
kpi_daily_job = dg.define_asset_job(
    "kpi_daily_job", selection=dg.AssetSelection.assets(kpi_daily),
    description="One local day's KPIs, Parquet exports and dashboard.")
analytics_refresh_job = dg.define_asset_job(
    "analytics_refresh", selection=dg.AssetSelection.keys("jar", "car"),
    description="Refresh the JAR (journeys across contacts) and the CAR (per-contact analytics) as of a time.")
teleopti_agent_performance_job = dg.define_asset_job(
    # Its two 15-minute agent-state intervals were built by the interval_reports runs before it is due.
    "teleopti_agent_performance_job", selection=dg.AssetSelection.assets(teleopti_agent_performance),
    partitions_def=thirty_minute_partitions,
    description="One 30-minute window's Teleopti agent-performance file (built, checked, delivered).",
)


def due_interval_start(scheduled: datetime, lag_minutes: int, length_minutes: int) -> datetime:
    """Start of the latest `length`-minute UTC interval that ended at least `lag` minutes before `scheduled`."""
    cutoff = scheduled.astimezone(timezone.utc) - timedelta(minutes=lag_minutes)
    midnight = cutoff.replace(hour=0, minute=0, second=0, microsecond=0)
    ended = midnight + timedelta(minutes=(int((cutoff - midnight).total_seconds()) // 60 // length_minutes)
                                 * length_minutes)
    return ended - timedelta(minutes=length_minutes)


def due_partition_key(scheduled: datetime, lag_minutes: int, length_minutes: int) -> str:
    return due_interval_start(scheduled, lag_minutes, length_minutes).strftime(PARTITION_KEY_FORMAT)


@dg.schedule(job=interval_reports_job, cron_schedule="10,25,40,55 * * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="At :10, :25, :40, :55 UTC: interval_reports for the latest 15-minute interval that ended "
                         "CC_TELEOPTI_LAG_MINUTES before. " + starts_by_itself("schedule", "interval_reports_schedule"))
def interval_reports_schedule(context: dg.ScheduleEvaluationContext):
    key = due_partition_key(context.scheduled_execution_time, load_settings().teleopti_lag_minutes, 15)
    return dg.RunRequest(run_key=f"teleopti-{key}", partition_key=key, tags={"cc_reporting/reason": "scheduled"})


@dg.schedule(job=teleopti_agent_performance_job, cron_schedule="20,50 * * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="At :20 and :50 UTC: the agent-performance file of the latest 30-minute window that ended "
                         "CC_AGENT_REPORT_LAG_MINUTES before (its report has arrived). "
                         + starts_by_itself("schedule", "teleopti_agent_performance_schedule"))
def teleopti_agent_performance_schedule(context: dg.ScheduleEvaluationContext):
    key = due_partition_key(context.scheduled_execution_time, load_settings().agent_report_lag_minutes, 30)
    return dg.RunRequest(run_key=f"agent-performance-{key}", partition_key=key,
                         tags={"cc_reporting/reason": "scheduled"})


# The previous local day's KPIs, exports and dashboard, once its last intervals have been delivered.
kpi_daily_schedule = dg.build_schedule_from_partitioned_job(
    kpi_daily_job, hour_of_day=1, minute_of_hour=0, default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily at 01:00 UTC: kpi_daily_job for the previous local day (report time zone). "
                + starts_by_itself("schedule", "kpi_daily_job_schedule"))


JAR_FULL_REBUILD_WEEKDAY = 6  # Sunday (UTC), the quietest night of most contact centers


@dg.schedule(job=analytics_refresh_job, cron_schedule="30 0 * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Daily at 00:30 UTC: refresh the JAR and the CAR even without new data (the CAR window "
                         "slides, provisional FCR rows finalize); Sundays rebuild the JAR whole. "
                         + starts_by_itself("schedule", "analytics_daily_schedule"))
def analytics_daily_schedule(context: dg.ScheduleEvaluationContext):
    """Refresh JAR and CAR daily even without new data: the CAR window slides, provisional FCR rows finalize.
    Sundays' run rebuilds the JAR whole: relatives further apart than CC_JAR_LOOKBACK_DAYS get linked."""
    as_of = context.scheduled_execution_time.isoformat()
    config = {"ops": {name: {"config": {"as_of": as_of}} for name in ("jar", "car")}}
    if context.scheduled_execution_time.astimezone(timezone.utc).weekday() == JAR_FULL_REBUILD_WEEKDAY:
        config["ops"]["jar"]["config"]["full_rebuild"] = True
    return dg.RunRequest(run_key=f"analytics-{as_of}", run_config=config, tags={"cc_reporting/reason": "daily"})
