"""`cc-reporting run`: materialize the asset graph for a UTC window through Dagster, step by step."""
from __future__ import annotations

import errno
import fcntl
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
from tqdm import tqdm

from cc_reporting.models.analytics.assets import car, jar
from cc_reporting.models.command_jobs import ingest_all_job, ingest_and_interval_reports_job
from cc_reporting.models.kpi.assets import kpi_daily, kpi_interval
from cc_reporting.models.teleopti.assets import (
    teleopti_agent_performance,
    teleopti_agent_queue_stats,
    teleopti_contacts,
    teleopti_queue_stats,
)
from cc_reporting.models.teleopti.schedules import (
    interval_reports_job,
    kpi_daily_job,
    teleopti_agent_performance_job,
)
from cc_reporting.partitions import clamp_window, partition_range
from cc_reporting.pipeline.window import (  # noqa: F401 (_range_tags, _day_tags: the benchmark's API)
    _day_bounds,
    _day_chunks,
    _day_tags,
    _range_tags,
    days_to_report,
    outside_range_note,
    staged_window,
)
from cc_reporting.realtime.assets import agent_state_intervals
from cc_reporting.resources import build_resources
from cc_reporting.resources.warehouse import Warehouse
from cc_reporting.run_signals import Stopped, _raise_if_signalled, stop_on_signals  # noqa: F401 (the CLI's API)
from cc_reporting.run_summary import RunResult, kpi_summary, table_counts
from cc_reporting.settings import load_settings
from cc_reporting.staging.assets import stg_agent_report, stg_channel_session, stg_crm_customer, stg_ctr

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
    home = load_settings().dagster_home
    if not home:
        return dg.DagsterInstance.ephemeral()
    # Two runs creating a new instance at once both stamp its SQLite schema and one fails; the first one creates
    # it under this lock, the second finds it made.
    Path(home).mkdir(parents=True, exist_ok=True)
    with open(Path(home) / ".cc-reporting-instance.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return dg.DagsterInstance.get()


STAGING = [stg_ctr, stg_agent_report, stg_channel_session, stg_crm_customer]
ANALYTICS = [jar, car]
INTERVALS = [agent_state_intervals, teleopti_queue_stats, teleopti_agent_queue_stats, teleopti_contacts, kpi_interval]


def _steps(start: datetime, end: datetime, analytics: dict, with_staging: bool):
    """(label, job, assets, tags, config) of the runs of one day of the window, each a job of the code location
    so the UI lists it by name. With `with_staging`, landing objects are staged and JAR/CAR refreshed in the same
    run as the 15-minute intervals: a 15-minute increment is one run of everything that shares the 15-minute
    partitions (Dagster runs one partitions definition per run, so the 30-minute agent performance and the daily
    KPIs are runs of their own)."""
    fifteen, thirty = _range_tags(start, end, 15), _range_tags(start, end, 30)
    if fifteen and with_staging:
        yield ("stage, JAR/CAR and 15-minute intervals (agent state, Teleopti, KPIs)",
               ingest_and_interval_reports_job, STAGING + ANALYTICS + INTERVALS, fifteen, analytics)
    elif fifteen:
        yield "15-minute intervals (agent state, Teleopti, KPIs)", interval_reports_job, INTERVALS, fifteen, {}
    elif with_staging:
        yield "stage, JAR and CAR", ingest_all_job, STAGING + ANALYTICS, None, analytics
    if thirty:
        yield ("Teleopti agent performance", teleopti_agent_performance_job, [teleopti_agent_performance], thirty,
               {})
    if fifteen:
        yield "daily KPIs, exports, dashboard", kpi_daily_job, [kpi_daily], _day_tags(start, end), {}


def run_assets(assets, job, *, resources, instance, tags, run_config, selection=None) -> dg.ExecuteInProcessResult:
    """One in-process run of the code location's `job` over `assets` (what `dg.materialize` does, under the
    job's own name instead of `__ephemeral_asset_job__`, so the UI shows it beside the scheduled runs)."""
    defs = dg.Definitions(assets=assets, jobs=[job], resources=resources)
    return defs.resolve_job_def(job.name).execute_in_process(
        run_config=run_config, instance=instance, raise_on_error=False, tags=tags,
        asset_selection=[a.key for a in selection] if selection else None)


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
    run_resources = resources if load_settings().dagster_home else _sole_writer(resources)
    result = RunResult()
    invocation = uuid.uuid4().hex
    with _instance() as instance, tqdm(total=2, desc="cc-reporting run", unit="step", disable=not progress) as bar:
        def step(label, job, assets, tags=None, config=None, selection=None):
            _raise_if_signalled()
            bar.set_postfix_str(label)
            started = time.monotonic()
            try:
                outcome = run_assets(assets, job, resources=run_resources, instance=instance, selection=selection,
                                     tags={**(tags or {}), "cc_reporting/invocation": invocation},
                                     run_config={**QUIET, **(config or {})})
            finally:
                getattr(run_resources.get("warehouse"), "release", lambda: None)()   # the run's one checkpoint
            _raise_if_signalled()
            result.steps.append((label, outcome.success))
            bar.update(1)
            if progress:   # one line per run, kept above the bar: how far, which Dagster run, how long
                bar.write(f"[{bar.n}/{bar.total}] {label}: {job.name} run {outcome.run_id[:8]} "
                          f"{'ok' if outcome.success else 'FAILED'} in {time.monotonic() - started:.1f} s")
            if not outcome.success:
                result.success = False
                result.failures.append(f"{label}: run {outcome.run_id} failed")
            return outcome.success

        try:
            _run_steps(start, end, resources, result, bar, step, instance)
        except BaseException as error:
            _cancel_unfinished(instance, invocation)
            if not isinstance(error, Stopped):
                _raise_if_signalled()   # Dagster's interrupt error or KeyboardInterrupt: say which signal it was
            raise
    result.tables = table_counts(resources)
    result.kpi_lines = kpi_summary(resources, result.window)
    return result


def _default_days(instance, resources, result: RunResult):
    """The default window's days, each a whole local day: those with staged data not reported since it changed."""
    requested = staged_window(resources)
    if not requested:
        result.notes.append("nothing to report: no contact or agent-report row is staged inside the reportable "
                            "range (land data first, e.g. `cc-reporting simulate`)")
        return None, []
    days = days_to_report(instance, resources, *requested)
    result.reported_days = days
    if not days:
        result.notes.append("nothing new to report: every day with staged data was reported after its last change "
                            "(give --start and --end to report a window again)")
    return requested, [bounds for bounds in map(_day_bounds, days) if bounds]


def _run_steps(start, end, resources, result, bar, step, instance) -> None:
    as_of = {"as_of": end.isoformat()} if end else {}
    analytics = {"ops": {"jar": {"config": as_of}, "car": {"config": as_of}}}
    explicit = bool(start and end)
    requested, window = ((start, end), clamp_window(start, end)) if explicit else (None, None)
    # A window within one day (an increment) is staged, refreshed and reported in one run. A backfill or the default
    # window stages first, in a run of its own: the default window comes from what is staged, and a backfill's
    # landing errors show before a day of intervals is planned.
    one_run = bool(window) and len(list(_day_chunks(*window))) == 1
    chunks = list(_day_chunks(*window)) if window else []
    if not one_run:
        if not step("stage, JAR and CAR", ingest_all_job, STAGING + ANALYTICS, config=analytics):
            return
        _note_outside_range(result, resources)
        if not explicit:
            requested, chunks = _default_days(instance, resources, result)
            window = (chunks[0][0], chunks[-1][1]) if chunks else None
    if explicit and not window:
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
            step("stage", ingest_all_job, STAGING + ANALYTICS, selection=STAGING)
        return
    bar.update(1)
    if not bar.disable:
        bar.write(f"[{bar.n}/{bar.total}] agent events → RTA state log: {result.agent_events:,} events")
    plan = [(day, run) for day in chunks for run in _steps(*day, analytics, one_run)]
    result.window = window if chunks else None
    bar.total = bar.n + len(plan)
    bar.refresh()
    for day, (label, job, assets, tags, config) in plan:
        ok = step(f"{day[0]:%Y-%m-%d}: {label}" if len(chunks) > 1 else label, job, assets, tags, config)
        if ok and stg_ctr in assets:
            _note_outside_range(result, resources)
        if not ok:
            return


def _note_outside_range(result: RunResult, resources) -> None:
    note = outside_range_note(resources)
    result.notes += [note] if note else []
