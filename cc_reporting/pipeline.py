"""`cc-reporting run`: materialize the asset graph for a UTC window through Dagster, step by step."""
from __future__ import annotations

import errno
import fcntl
import os
import uuid
from pathlib import Path
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dagster as dg
from tqdm import tqdm

from cc_reporting.realtime.assets import agent_state_intervals
from cc_reporting.models.analytics.assets import car, jar
from cc_reporting.models.kpi.assets import kpi_daily, kpi_interval
from cc_reporting.models.teleopti.assets import (
    teleopti_agent_performance,
    teleopti_agent_queue_stats,
    teleopti_contacts,
    teleopti_queue_stats,
)
from cc_reporting.partitions import PARTITION_KEY_FORMAT, clamp_window, partition_range
from cc_reporting.resources import build_resources
from cc_reporting.resources.warehouse import Warehouse
from cc_reporting.run_signals import Stopped, _raise_if_signalled, stop_on_signals  # noqa: F401 (the CLI's API)
from cc_reporting.run_summary import RunResult, kpi_summary, table_counts
from cc_reporting.settings import load_settings
from cc_reporting.staging.assets import stg_agent_report, stg_channel_session, stg_crm_customer, stg_ctr
from cc_reporting.staging.ctr_table import records_outside_range


# The progress bar and summary speak for the run; Dagster's step log stays in the UI (warnings still print).
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def drain_agent_events(start: datetime | None, end: datetime | None) -> int:
    """Bring the RTA state log up to date from the agent-event source, as the rta_sensor does tick by tick.

    A command-line run has no sensor daemon; the log files are named by their starting positions, so re-reading
    the same events rewrites the same files (idempotent). Reads start at the window being reported (the source
    keeps its 24-hour retention before its `now`), so a day landed earlier is read too."""
    from cc_reporting.realtime.agent_events import open_source
    from cc_reporting.realtime.rta_sensor import run_tick

    settings = load_settings()
    if not settings.agent_events.startswith("kinesis://") and not Path(settings.agent_events).exists():
        return 0
    horizon = (start + timedelta(hours=24)) if start else datetime.now(timezone.utc)
    source = open_source(settings.agent_events, settings.aws_endpoint_url, now=lambda: horizon)
    cursor, total = None, 0
    now_ms = int((end or datetime.now(timezone.utc)).timestamp() * 1000)
    while True:
        _raise_if_signalled()
        outcome = run_tick(cursor, source, settings.rta_dir, now_ms=now_ms, max_records=50_000)
        cursor, total = outcome.cursor, total + outcome.stats.read
        if outcome.stats.read == 0:
            return total


def _sole_writer(resources: dict) -> dict:
    """Resources whose warehouse is opened once per run: only where this process is the file's one writer."""
    warehouse = resources.get("warehouse")
    if not isinstance(warehouse, Warehouse) or warehouse.hold_for_run:
        return resources
    return {**resources, "warehouse": Warehouse(database=warehouse.database,
                                                connection_config=warehouse.connection_config, hold_for_run=True)}


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set the runs show up in `dagster dev`; otherwise they run in a throwaway instance.
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.ephemeral()
    # Two runs creating a new instance at once both stamp its SQLite schema and one fails; the first one creates
    # it under this lock, the second finds it made.
    Path(home).mkdir(parents=True, exist_ok=True)
    with open(Path(home) / ".cc-reporting-instance.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return dg.DagsterInstance.get()


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


def staged_window(resources) -> tuple[datetime, datetime] | None:
    """Every complete 15-minute interval the staged data touches inside the partition range (default of
    `cc-reporting run`); records before CC_PARTITIONS_START stay staged and are counted, not reported."""
    first_key, end_key = partition_range()
    with resources["warehouse"].connect() as con:
        exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'stg_ctr'").fetchone()
        if not exists[0]:
            return None
        first, last = con.execute(
            """SELECT min(t), max(t) FROM (SELECT coalesce(enqueue_ts, initiation_ts) AS t FROM stg_ctr
               UNION ALL SELECT interval_start FROM stg_agent_report) WHERE t >= ? AND t < ?""",
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


def days_with_data(resources, start: datetime, end: datetime) -> set:
    """Local days (CC_REPORT_TIMEZONE) of [start, end) holding a staged contact or report row: the default window
    reports only those, so data landed months apart does not mean a run for every empty day in between."""
    tz = load_settings().report_timezone
    with resources["warehouse"].connect() as con:
        rows = con.execute(
            """SELECT DISTINCT CAST(timezone(?, t) AS DATE) FROM (
                   SELECT coalesce(enqueue_ts, initiation_ts) AS t FROM stg_ctr
                   UNION ALL SELECT interval_start FROM stg_agent_report) WHERE t >= ? AND t < ?""",
            [tz, start, end]).fetchall()
    return {r[0] for r in rows}


def _day_tags(start: datetime, end: datetime) -> dict:
    """The local days (CC_REPORT_TIMEZONE) the UTC window touches, as one partition range."""
    tz = ZoneInfo(load_settings().report_timezone)
    first, last = start.astimezone(tz).date(), (end - timedelta(seconds=1)).astimezone(tz).date()
    return {"dagster/asset_partition_range_start": f"{first:%Y-%m-%d}",
            "dagster/asset_partition_range_end": f"{last:%Y-%m-%d}"}


STAGING = [stg_ctr, stg_agent_report, stg_channel_session, stg_crm_customer]
ANALYTICS = [jar, car]
INTERVALS = [agent_state_intervals, teleopti_queue_stats, teleopti_agent_queue_stats, teleopti_contacts, kpi_interval]


def _steps(start: datetime, end: datetime, analytics: dict, with_staging: bool):
    """(label, assets, tags, config) of the runs of one day of the window. With `with_staging`, landing objects
    are staged and JAR/CAR refreshed in the same run as the 15-minute intervals: a 15-minute increment is one run
    of everything that shares the 15-minute partitions (Dagster runs one partitions definition per run, so the
    30-minute agent performance and the daily KPIs are runs of their own)."""
    fifteen, thirty = _range_tags(start, end, 15), _range_tags(start, end, 30)
    if fifteen and with_staging:
        yield ("stage, JAR/CAR and 15-minute intervals (agent state, Teleopti, KPIs)",
               STAGING + ANALYTICS + INTERVALS, fifteen, analytics)
    elif fifteen:
        yield "15-minute intervals (agent state, Teleopti, KPIs)", INTERVALS, fifteen, {}
    elif with_staging:
        yield "stage, JAR and CAR", STAGING + ANALYTICS, None, analytics
    if thirty:
        yield "Teleopti agent performance", [teleopti_agent_performance], thirty, {}
    if fifteen:
        yield "daily KPIs, exports, dashboard", [kpi_daily], _day_tags(start, end), {}


def _cancel_unfinished(instance, invocation: str) -> None:
    """Runs this invocation started and did not finish (stopped by a signal) are marked canceled, not left
    STARTED forever in `dagster dev`."""
    unfinished = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
                  dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.CANCELING]
    for run in instance.get_runs(filters=dg.RunsFilter(tags={"cc_reporting/invocation": invocation},
                                                       statuses=unfinished)):
        instance.report_run_canceled(run, message="cc-reporting run stopped by a signal")


def _disk_error(error: OSError, what: str, where: str) -> str:
    name = errno.errorcode.get(error.errno or 0, "OSError")
    hint = "; free disk space and run again" if error.errno == errno.ENOSPC else ""
    return f"{what}: {error.strerror or error} ({name}) writing {where}{hint}"


def run_window(start: datetime | None = None, end: datetime | None = None, progress: bool = False,
               resources: dict | None = None) -> RunResult:
    resources = resources or build_resources()
    # Without DAGSTER_HOME the runs go to a throwaway instance: no daemon, no other run writes the warehouse.
    run_resources = resources if os.environ.get("DAGSTER_HOME") else _sole_writer(resources)
    result = RunResult()
    invocation = uuid.uuid4().hex
    with _instance() as instance, tqdm(total=2, desc="cc-reporting run", unit="step", disable=not progress) as bar:
        def step(label, assets, tags=None, config=None):
            _raise_if_signalled()
            bar.set_postfix_str(label)
            try:
                outcome = dg.materialize(assets, resources=run_resources, instance=instance, raise_on_error=False,
                                         tags={**(tags or {}), "cc_reporting/invocation": invocation},
                                         run_config={**QUIET, **(config or {})})
            finally:
                getattr(run_resources.get("warehouse"), "release", lambda: None)()   # the run's one checkpoint
            _raise_if_signalled()
            result.steps.append((label, outcome.success))
            bar.update(1)
            if not outcome.success:
                result.success = False
                result.failures.append(f"{label}: run {outcome.run_id} failed")
            return outcome.success

        try:
            _run_steps(start, end, resources, result, bar, step)
        except BaseException as error:
            _cancel_unfinished(instance, invocation)
            if not isinstance(error, Stopped):
                _raise_if_signalled()   # Dagster's interrupt error or KeyboardInterrupt: say which signal it was
            raise
    result.tables = table_counts(resources)
    result.kpi_lines = kpi_summary(resources, result.window)
    return result


def _run_steps(start, end, resources, result, bar, step) -> None:
    as_of = {"as_of": end.isoformat()} if end else {}
    analytics = {"ops": {"jar": {"config": as_of}, "car": {"config": as_of}}}
    explicit = bool(start and end)
    requested, window = ((start, end), clamp_window(start, end)) if explicit else (None, None)
    # A window within one day (an increment) is staged, refreshed and reported in one run. A backfill or the default
    # window stages first, in a run of its own: the default window comes from what is staged, and a backfill's
    # landing errors show before a day of intervals is planned.
    one_run = bool(window) and len(list(_day_chunks(*window))) == 1
    if not one_run:
        if not step("stage, JAR and CAR", STAGING + ANALYTICS, config=analytics):
            return
        _note_outside_range(result, resources)
        if not explicit:
            requested = staged_window(resources)
            window = clamp_window(*requested) if requested else None
    if requested and not window:
        first, last = partition_range()
        result.notes.append(f"window {requested[0]:%Y-%m-%d %H:%M} – {requested[1]:%Y-%m-%d %H:%M} UTC is outside "
                            f"the reportable range {first:%Y-%m-%d %H:%M} – {last:%Y-%m-%d %H:%M} UTC "
                            f"(CC_PARTITIONS_START to now): nothing to report")
    bar.set_postfix_str("agent events → RTA state log")
    try:
        result.agent_events = drain_agent_events((window or requested or (None,))[0], end)
    except OSError as error:
        result.success = False
        result.failures.append(_disk_error(error, "agent events → RTA state log", load_settings().rta_dir))
        if one_run:   # what landed is staged all the same
            step("stage", STAGING)
        return
    bar.update(1)
    chunks = list(_day_chunks(*window)) if window else []
    if not explicit and chunks:  # the default window: every day with data, none of the empty days between
        tz, with_data = ZoneInfo(load_settings().report_timezone), days_with_data(resources, *window)
        chunks = [c for c in chunks if c[0].astimezone(tz).date() in with_data]
    plan = [(day, run) for day in chunks for run in _steps(*day, analytics, one_run)]
    result.window = window if chunks else None
    bar.total = bar.n + len(plan)
    bar.refresh()
    for day, (label, assets, tags, config) in plan:
        ok = step(f"{day[0]:%Y-%m-%d}: {label}" if len(chunks) > 1 else label, assets, tags, config)
        if ok and stg_ctr in assets:
            _note_outside_range(result, resources)
        if not ok:
            return


def _note_outside_range(result: RunResult, resources) -> None:
    note = outside_range_note(resources)
    result.notes += [note] if note else []
