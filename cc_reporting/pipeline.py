"""`cc-reporting run`: materialize the asset graph for a UTC window through Dagster, step by step."""
from __future__ import annotations

import os
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
from cc_reporting.partitions import PARTITION_KEY_FORMAT
from cc_reporting.resources import build_resources
from cc_reporting.settings import load_settings
from cc_reporting.staging.assets import stg_agent_report, stg_channel_session, stg_crm_customer, stg_ctr


@dataclass
class RunResult:
    success: bool = True
    steps: list[tuple[str, bool]] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    window: tuple[datetime, datetime] | None = None
    kpi_lines: list[str] = field(default_factory=list)
    agent_events: int = 0

    def summary_text(self) -> str:
        settings = load_settings()
        lines = ["", "cc_reporting run " + ("succeeded" if self.success else "FAILED")]
        lines += [f"  ! {failure}" for failure in self.failures]
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
    the same events rewrites the same files (idempotent). Reads are bounded to 24 hours back from the window."""
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
        outcome = run_tick(cursor, source, settings.rta_dir, now_ms=now_ms, max_records=50_000)
        cursor, total = outcome.cursor, total + outcome.stats.read
        if outcome.stats.read == 0:
            return total


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set the runs show up in `dagster dev`; otherwise they run in a throwaway instance.
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


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
    """Every complete 15-minute interval the staged data touches (default of `cc-reporting run`)."""
    with resources["warehouse"].connect() as con:
        exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'stg_ctr'").fetchone()
        if not exists[0]:
            return None
        first, last = con.execute(
            """SELECT min(t), max(t) FROM (SELECT coalesce(enqueue_ts, initiation_ts) AS t FROM stg_ctr
               UNION ALL SELECT interval_start FROM stg_agent_report)""").fetchone()
    if first is None:
        return None
    now_floor = _floor(datetime.now(timezone.utc), 15)
    end = min(_floor(last, 30) + timedelta(minutes=30), now_floor)
    return _floor(first, 30), end


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


def run_window(start: datetime | None = None, end: datetime | None = None, progress: bool = False,
               resources: dict | None = None) -> RunResult:
    resources = resources or build_resources()
    result = RunResult()
    with _instance() as instance, tqdm(total=9, desc="cc-reporting run", unit="step", disable=not progress) as bar:
        def step(label, assets, tags=None, config=None):
            bar.set_postfix_str(label)
            outcome = dg.materialize(assets, resources=resources, instance=instance, raise_on_error=False,
                                     tags=tags or {}, run_config={**QUIET, **(config or {})})
            result.steps.append((label, outcome.success))
            bar.update(1)
            if not outcome.success:
                result.success = False
                result.failures.append(f"{label}: run {outcome.run_id} failed")
            return outcome.success

        ok = (step("stage contact records", [stg_ctr]) and step("stage agent reports", [stg_agent_report])
              and step("stage channel sessions", [stg_channel_session]) and step("stage CRM", [stg_crm_customer]))
        if ok:
            bar.set_postfix_str("agent events → RTA state log")
            result.agent_events = drain_agent_events(start, end)
            bar.update(1)
        as_of = {"as_of": end.isoformat()} if end else {}
        ok = ok and step("JAR and CAR", [jar, car],
                         config={"ops": {"jar": {"config": as_of}, "car": {"config": as_of}}})
        window = (start, end) if start and end else staged_window(resources)
        if ok and window:
            result.window = window
            for label, assets, tags in _steps(*window):
                if not step(label, assets, tags):
                    break
    result.tables = table_counts(resources)
    result.kpi_lines = kpi_summary(resources, result.window)
    return result
