"""Delivery retry: Teleopti intervals whose run failed are asked for again until their files are delivered.

A scheduled run that fails (SFTP down, a gating check failed, the worker died) is never scheduled again: this
sensor finds such intervals in the Dagster instance (failed runs of the delivery jobs, then the materializations
since: `files_undelivered` is 0 once every file reached its target) and re-requests them, one run per contiguous
range, while the interval is younger than `CC_DELIVERY_RETRY_HOURS`. It never opens the warehouse (one writer).
Each range waits longer after every failure (5, 10, 20 … minutes, at most 2 hours), and its run key names the
range and its failure count: re-evaluating a tick requests nothing new; a further failure earns a new attempt.

An interval that was never built at all (the daemon was down when its schedule was due) is a gap: once it is well
past its due time and later than the first interval built within the retry horizon, it is requested too. Intervals
before the first one built are not: the feed had not started then, and Teleopti must not receive empty files for
them.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

from cc_reporting.ingest.automation import starts_by_itself
from cc_reporting.models.teleopti.late_data import contiguous_ranges
from cc_reporting.models.teleopti.schedules import interval_reports_job, teleopti_agent_performance_job
from cc_reporting.partitions import PARTITION_KEY_FORMAT, fifteen_minute_partitions, thirty_minute_partitions
from cc_reporting.settings import load_settings

BACKOFF_FIRST = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=2)
MAX_RECORDS = 5000
IN_PROGRESS = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
               DagsterRunStatus.STARTED]
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"

# (job, the assets whose files it delivers, its partitions, minutes per partition)
PLANS = [
    (interval_reports_job, ("teleopti_queue_stats", "teleopti_agent_queue_stats", "teleopti_contacts"),
     fifteen_minute_partitions, 15),
    (teleopti_agent_performance_job, ("teleopti_agent_performance",), thirty_minute_partitions, 30),
]
# A partition is a gap once this long after its end has passed without it being built: its schedule tick (lag
# after the end, at most one schedule period later) plus a run's worth of slack.
GAP_GRACE = timedelta(minutes=25)
MAX_GAP_RUNS_PER_TICK = 4  # gap runs are cut at UTC midnight: a run never plans more than a day of partitions


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def backoff(failures: int) -> timedelta:
    """Wait after the n-th failure of a range: doubling from 5 minutes, capped at 2 hours."""
    return min(BACKOFF_FIRST * 2 ** max(failures - 1, 0), BACKOFF_CAP)


def run_partition_keys(run: dg.DagsterRun, partitions_def) -> list[str]:
    """The partitions a run covered: its single partition, or its (single-run backfill) range."""
    tags = run.tags
    if tags.get("dagster/partition"):
        return [tags["dagster/partition"]]
    if tags.get(RANGE_START) and tags.get(RANGE_END):
        return list(partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(tags[RANGE_START],
                                                                                      tags[RANGE_END])))
    return []


def _ended_at(record) -> float:
    return record.end_time or record.update_timestamp.timestamp()


def _failures(instance, job_name: str, partitions_def, since: datetime, horizon: datetime):
    """Failed runs of the job since `since`, each as (ended at, its keys still within the retry horizon)."""
    records = instance.get_run_records(
        RunsFilter(job_name=job_name, statuses=[DagsterRunStatus.FAILURE], created_after=since), limit=MAX_RECORDS)
    out = []
    for record in records:
        keys = [k for k in run_partition_keys(record.dagster_run, partitions_def)
                if datetime.strptime(k, PARTITION_KEY_FORMAT).replace(tzinfo=timezone.utc) >= horizon]
        if keys:
            out.append((_ended_at(record), set(keys)))
    return out


def _in_progress_keys(instance, job_name: str, partitions_def) -> set[str]:
    records = instance.get_run_records(RunsFilter(job_name=job_name, statuses=IN_PROGRESS), limit=MAX_RECORDS)
    return {k for r in records for k in run_partition_keys(r.dagster_run, partitions_def)}


def _delivered(record) -> bool:
    entry = record.asset_materialization.metadata.get("files_undelivered")
    return entry is None or entry.value == 0  # no entry: a file kind delivered before the counter existed


def undelivered_keys(instance, assets, failed_at: dict[str, float]) -> set[str]:
    """Keys that, for some asset, have no materialization after their latest failure that delivered every file."""
    pending = set()
    for asset in assets:
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=sorted(failed_at),
                                  after_timestamp=min(failed_at.values())),
            limit=MAX_RECORDS, ascending=True)
        state: dict[str, bool] = {}
        for record in result.records:
            key = record.partition_key
            if key in failed_at and record.timestamp > failed_at[key]:
                state[key] = _delivered(record)  # ascending: the latest materialization wins
        pending |= {k for k in failed_at if not state.get(k)}
    return pending


def _due_lag(job_name: str) -> timedelta:
    settings = load_settings()
    lag = settings.agent_report_lag_minutes if job_name == teleopti_agent_performance_job.name \
        else settings.teleopti_lag_minutes
    return timedelta(minutes=lag)


def gap_keys(instance, job_name: str, asset: str, partitions_def, minutes: int, horizon: datetime,
             now: datetime) -> set[str]:
    """Partitions never built, after the first one built within the horizon and past their due time."""
    built = instance.get_materialized_partitions(dg.AssetKey(asset))
    cutoff = now - timedelta(minutes=minutes) - _due_lag(job_name) - GAP_GRACE  # latest start that is overdue
    within = [k for k in built if datetime.strptime(k, PARTITION_KEY_FORMAT).replace(tzinfo=timezone.utc) >= horizon]
    if not within:
        return set()
    first = datetime.strptime(min(within), PARTITION_KEY_FORMAT).replace(tzinfo=timezone.utc)
    keys, t = set(), first + timedelta(minutes=minutes)
    while t <= cutoff:
        keys.add(t.strftime(PARTITION_KEY_FORMAT))
        t += timedelta(minutes=minutes)
    return keys - set(built)


def _by_utc_day(ranges: list[tuple[str, str]], minutes: int) -> list[tuple[str, str]]:
    """Ranges cut where the UTC day changes (stable cuts: the same gap gives the same run keys on every tick)."""
    out = []
    for first, last in ranges:
        while first[:10] != last[:10]:
            next_day = datetime.strptime(first[:10], "%Y-%m-%d") + timedelta(days=1)
            out.append((first, (next_day - timedelta(minutes=minutes)).strftime(PARTITION_KEY_FORMAT)))
            first = next_day.strftime(PARTITION_KEY_FORMAT)
        out.append((first, last))
    return out


def gap_run_requests(instance, now: datetime, failed: set[tuple[str, str]]) -> list[dg.RunRequest]:
    """One run per contiguous range of never-built partitions (those with a failed run are retried elsewhere)."""
    horizon = now - timedelta(hours=load_settings().delivery_retry_hours)
    requests = []
    for job, assets, partitions_def, minutes in PLANS:
        gaps = gap_keys(instance, job.name, assets[0], partitions_def, minutes, horizon, now)
        gaps -= {k for j, k in failed if j == job.name} | _in_progress_keys(instance, job.name, partitions_def)
        for first, last in _by_utc_day(contiguous_ranges(gaps, minutes), minutes)[:MAX_GAP_RUNS_PER_TICK]:
            requests.append(dg.RunRequest(
                job_name=job.name, run_key=f"delivery-gap-{job.name}-{first}-{last}",
                tags={RANGE_START: first, RANGE_END: last,
                      "cc_reporting/reason": "gap: the interval was never built (no run when it was due)"}))
    return requests


def retry_run_requests(instance, now: datetime) -> tuple[list[dg.RunRequest], list[str]]:
    """Run requests for the failed, still undelivered ranges whose backoff has elapsed; and why others wait."""
    horizon = now - timedelta(hours=load_settings().delivery_retry_hours)
    requests, waiting, failed_keys = [], [], set()
    for job, assets, partitions_def, minutes in PLANS:
        failures = _failures(instance, job.name, partitions_def, horizon - timedelta(minutes=minutes), horizon)
        failed_at: dict[str, float] = {}
        for ended, keys in failures:
            for key in keys:
                failed_at[key] = max(failed_at.get(key, 0.0), ended)
        failed_keys.update((job.name, k) for k in failed_at)
        if not failed_at:
            continue
        pending = undelivered_keys(instance, assets, failed_at) - _in_progress_keys(instance, job.name,
                                                                                   partitions_def)
        for first, last in contiguous_ranges(pending, minutes):
            covered = set(partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(first, last)))
            ends = [ended for ended, keys in failures if keys & covered]
            due = datetime.fromtimestamp(max(ends), timezone.utc) + backoff(len(ends))
            if now < due:
                waiting.append(f"{job.name} {first} … {last}: failed {len(ends)}x, next try at {due:%H:%M:%S} UTC")
                continue
            requests.append(dg.RunRequest(
                job_name=job.name, run_key=f"delivery-retry-{job.name}-{first}-{last}-{len(ends)}",
                tags={RANGE_START: first, RANGE_END: last, "cc_reporting/retry_attempt": str(len(ends)),
                      "cc_reporting/reason": "retry: the interval's run failed and its files are undelivered"}))
    return requests + gap_run_requests(instance, now, failed_keys), waiting


@dg.sensor(jobs=[interval_reports_job, teleopti_agent_performance_job], minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Every 60 s: re-requests Teleopti intervals whose run failed until their files are "
                       "delivered, with backoff, and intervals never built (gaps after the feed started), for "
                       "CC_DELIVERY_RETRY_HOURS; reads only the Dagster instance. "
                       + starts_by_itself("sensor", "teleopti_delivery_retry_sensor"))
def teleopti_delivery_retry_sensor(context: dg.SensorEvaluationContext):
    requests, waiting = retry_run_requests(context.instance, _utcnow())
    if requests:
        return requests
    return dg.SkipReason("; ".join(waiting) if waiting else "every failed interval has been delivered")
