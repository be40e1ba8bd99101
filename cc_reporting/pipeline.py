"""`cc-reporting run`: materialize the asset graph for a UTC window through Dagster, step by step."""
from __future__ import annotations

import errno
import fcntl
import os
import signal
import uuid
from pathlib import Path
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dagster as dg
from tqdm import tqdm

from cc_reporting.models.agent_state.assets import agent_state_intervals
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
from cc_reporting.settings import load_settings
from cc_reporting.staging.assets import stg_agent_report, stg_channel_session, stg_crm_customer, stg_ctr
from cc_reporting.staging.ctr_table import records_outside_range


class Stopped(BaseException):
    """SIGTERM or Ctrl-C: the run stops between (or inside) Dagster runs; a BaseException so no step swallows it."""

    def __init__(self, signo: int):
        super().__init__(signo)
        self.signo = signo


_wakeup: list[int] = []   # read end of the signal wake-up pipe, once stop_on_signals() ran


def stop_on_signals() -> None:
    """SIGTERM and Ctrl-C stop the run at the next step boundary (a step is at most one day of partitions).

    The handler itself only lets the C-level wake-up pipe record the signal number: raising from it could land
    inside a SQLite write of the Dagster instance and leave it unusable for marking the run canceled. While Dagster
    executes it installs its own handler, which interrupts the step; the pipe still records the signal, and
    `_raise_if_signalled` turns it into `Stopped` once that Dagster run returns."""
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    _wakeup[:] = [read]
    for signo in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signo, lambda _signo, _frame: None)


def _raise_if_signalled() -> None:
    if not _wakeup:
        return
    try:
        received = os.read(_wakeup[0], 512)
    except BlockingIOError:
        return
    for signo in received:
        if signo in (signal.SIGTERM, signal.SIGINT):
            raise Stopped(signo)


@dataclass
class RunResult:
    success: bool = True
    steps: list[tuple[str, bool]] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    window: tuple[datetime, datetime] | None = None
    kpi_lines: list[str] = field(default_factory=list)
    agent_events: int = 0
    notes: list[str] = field(default_factory=list)

    def summary_text(self) -> str:
        settings = load_settings()
        lines = ["", "cc_reporting run " + ("succeeded" if self.success else "FAILED")]
        lines += [f"  ! {failure}" for failure in self.failures]
        lines += [f"  note        {note}" for note in self.notes]
        if self.window:
            lines.append(f"  window      {self.window[0]:%Y-%m-%d %H:%M} – {self.window[1]:%Y-%m-%d %H:%M} UTC")
        lines.append(f"  warehouse   {settings.warehouse_path}")
        for table, rows in self.tables.items():
            lines.append(f"    {table:<28}{rows:>10,} rows")
        lines.append(f"  landing     {settings.landing_uri} (quarantine/ holds unreadable input)")
        if self.agent_events:
            lines.append(f"  RTA         {settings.rta_dir} ({self.agent_events:,} agent events; "
                         f"wallboard {Path(settings.rta_dir).resolve() / 'wallboard.html'})")
        outbox = Path(settings.teleopti_outbox)
        if outbox.exists():
            lines.append(f"  Teleopti    {outbox}")
            for kind in sorted(p for p in outbox.iterdir() if p.is_dir()):
                lines.append(f"    {kind.name:<28}{len(list(kind.glob('*.csv'))):>10,} files")
        exports = Path(settings.export_dir)
        if exports.exists():
            lines.append(f"  BI exports  {exports}/<table>/date=YYYY-MM-DD/*.parquet "
                         f"({', '.join(sorted(p.name for p in exports.iterdir() if p.is_dir() and p.name != 'dashboard'))})")
            for dashboard in sorted((exports / "dashboard").glob("*.html"))[-3:]:
                lines.append(f"  dashboard   {dashboard.resolve()}")
        lines += self.kpi_lines
        lines.append("  Dagster UI  `dagster dev` in the repository root")
        return "\n".join(lines)


# The progress bar and summary speak for the run; Dagster's step log stays in the UI (warnings still print).
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def drain_agent_events(start: datetime | None, end: datetime | None) -> int:
    """Bring the RTA state log up to date from the agent-event source, as the rta_sensor does tick by tick.

    A command-line run has no sensor daemon; the log files are named by their starting positions, so re-reading
    the same events rewrites the same files (idempotent). Reads start at the window being reported (the source
    keeps its 24-hour retention before its `now`), so a day landed earlier is read too."""
    from cc_reporting.ingest.agent_events import open_source
    from cc_reporting.ingest.rta_sensor import run_tick

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


def _steps(start: datetime, end: datetime):
    """(label, assets, tags) of the partitioned steps, each one single run over the window."""
    fifteen, thirty = _range_tags(start, end, 15), _range_tags(start, end, 30)
    if fifteen:
        yield "15-minute intervals (agent state, Teleopti, KPIs)", [
            agent_state_intervals, teleopti_queue_stats, teleopti_agent_queue_stats, teleopti_contacts, kpi_interval
        ], fifteen
    if thirty:
        yield "Teleopti agent performance", [teleopti_agent_performance], thirty
    if fifteen:
        yield "daily KPIs, exports, dashboard", [kpi_daily], _day_tags(start, end)


USER_TABLES = ("stg_", "teleopti_", "kpi_", "jar", "car", "ingest_ledger", "agent_state_intervals")


def table_counts(resources) -> dict[str, int]:
    """Row counts of the tables users query (internal bookkeeping tables left out)."""
    with resources["warehouse"].connect() as con:
        names = [r[0] for r in con.execute(
            """SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'
               AND table_type = 'BASE TABLE' ORDER BY table_name""").fetchall()]
        names = [n for n in names if n.startswith(USER_TABLES) and not n.endswith("_touched")
                 and not n.startswith(("jar_", "teleopti_delivery"))]
        return {name: con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def kpi_summary(resources, window) -> list[str]:
    """One screen of the window's daily KPIs per queue (`kpi_daily`), for the terminal."""
    if not window:
        return []
    tz = ZoneInfo(load_settings().report_timezone)
    first, last = window[0].astimezone(tz).date(), (window[1] - timedelta(seconds=1)).astimezone(tz).date()
    with resources["warehouse"].connect() as con:
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'kpi_daily'").fetchone()[0]:
            return []
        rows = con.execute(
            """SELECT coalesce(queue_name, 'agent queues (direct)'), sum(offered), sum(answered), sum(abandoned),
                      sum(answered_within_sla) / nullif(sum(offered + overflow_in - short_abandons), 0),
                      sum(queue_answered_s) / nullif(sum(answered), 0),
                      sum(talk_s + hold_s + acw_s) / nullif(sum(answered), 0),
                      sum(fcr_resolved) / nullif(sum(fcr_eligible), 0), sum(csat_sum) / nullif(sum(csat_responses), 0)
               FROM kpi_daily WHERE grain = 'queue' AND day BETWEEN ? AND ? GROUP BY 1 ORDER BY 2 DESC LIMIT 12""",
            [first, last]).fetchall()

    def pct(v):
        return "   -" if v is None else f"{v:4.0%}"

    def sec(v):
        return "    -" if v is None else f"{v:5.0f}"

    lines = [f"  KPIs        {first} – {last} ({tz.key}); FCR provisional for the last CC_FCR_DAYS days",
             f"    {'queue':<24}{'offered':>8}{'answ':>7}{'aband':>7}{'SL':>6}{'ASA s':>7}{'AHT s':>7}{'FCR':>6}"
             f"{'CSAT':>6}"]
    for name, offered, answered, abandoned, sl, asa, aht, fcr, csat in rows:
        lines.append(f"    {str(name)[:23]:<24}{offered:>8}{answered:>7}{abandoned:>7}{pct(sl):>6}{sec(asa):>7}"
                     f"{sec(aht):>7}{pct(fcr):>6}{'-' if csat is None else f'{csat:.2f}':>6}")
    return lines


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
    result = RunResult()
    invocation = uuid.uuid4().hex
    with _instance() as instance, tqdm(total=9, desc="cc-reporting run", unit="step", disable=not progress) as bar:
        def step(label, assets, tags=None, config=None):
            _raise_if_signalled()
            bar.set_postfix_str(label)
            outcome = dg.materialize(assets, resources=resources, instance=instance, raise_on_error=False,
                                     tags={**(tags or {}), "cc_reporting/invocation": invocation},
                                     run_config={**QUIET, **(config or {})})
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
    ok = (step("stage contact records", [stg_ctr]) and step("stage agent reports", [stg_agent_report])
          and step("stage channel sessions", [stg_channel_session]) and step("stage CRM", [stg_crm_customer]))
    requested = (start, end) if start and end else staged_window(resources)
    window = clamp_window(*requested) if requested else None
    if ok:
        note = outside_range_note(resources)
        result.notes += [note] if note else []
        if requested and not window:
            first, last = partition_range()
            result.notes.append(f"window {requested[0]:%Y-%m-%d %H:%M} – {requested[1]:%Y-%m-%d %H:%M} UTC is outside "
                                f"the reportable range {first:%Y-%m-%d %H:%M} – {last:%Y-%m-%d %H:%M} UTC "
                                f"(CC_PARTITIONS_START to now): nothing to report")
        bar.set_postfix_str("agent events → RTA state log")
        try:
            result.agent_events = drain_agent_events((window or requested or (None,))[0], end)
        except OSError as error:
            ok, result.success = False, False
            result.failures.append(_disk_error(error, "agent events → RTA state log", load_settings().rta_dir))
        bar.update(1)
    as_of = {"as_of": end.isoformat()} if end else {}
    ok = ok and step("JAR and CAR", [jar, car],
                     config={"ops": {"jar": {"config": as_of}, "car": {"config": as_of}}})
    if ok and window:
        result.window = window
        chunks = list(_day_chunks(*window))
        if not (start and end):  # the default window: every day with data, none of the empty days between
            tz, with_data = ZoneInfo(load_settings().report_timezone), days_with_data(resources, *window)
            chunks = [c for c in chunks if c[0].astimezone(tz).date() in with_data]
        days = [(day, list(_steps(*day))) for day in chunks]
        bar.total = bar.n + sum(len(steps) for _, steps in days)
        bar.refresh()
        for (day_start, _), steps in days:
            for label, assets, tags in steps:
                if not step(f"{day_start:%Y-%m-%d}: {label}" if len(days) > 1 else label, assets, tags):
                    return
