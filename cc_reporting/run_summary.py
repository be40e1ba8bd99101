"""What `cc-reporting run` prints when it is done: the result of each step, table counts and a KPI screen."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cc_reporting.settings import load_settings


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
    reported_days: list[date] = field(default_factory=list)   # the default window's days, when it is used

    def summary_text(self) -> str:
        settings = load_settings()
        lines = ["", "cc_reporting run " + ("succeeded" if self.success else "FAILED")]
        lines += [f"  ! {failure}" for failure in self.failures]
        lines += [f"  note        {note}" for note in self.notes]
        if self.window:
            lines.append(f"  window      {self.window[0]:%Y-%m-%d %H:%M} – {self.window[1]:%Y-%m-%d %H:%M} UTC")
        if self.reported_days:
            lines.append(f"  days        {len(self.reported_days)} with data not reported before: "
                         f"{', '.join(f'{day:%Y-%m-%d}' for day in self.reported_days)}")
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
            tables = sorted(p.name for p in exports.iterdir() if p.is_dir() and p.name != "dashboard")
            lines.append(f"  BI exports  {exports}/<table>/date=YYYY-MM-DD/*.parquet ({', '.join(tables)})")
            for dashboard in sorted((exports / "dashboard").glob("*.html"))[-3:]:
                lines.append(f"  dashboard   {dashboard.resolve()}")
        lines += self.kpi_lines
        lines.append(dagster_ui_line())
        return "\n".join(lines)


def dagster_ui_line() -> str:
    """Where this command's runs can be seen: the instance at DAGSTER_HOME, or nowhere without it."""
    home = load_settings().dagster_home
    if home:
        return f"  Dagster UI  DAGSTER_HOME={home} dg dev   (in the repository root; these runs are there)"
    return ("  Dagster UI  these runs were not kept (no DAGSTER_HOME): export DAGSTER_HOME=$PWD/data/dagster "
            "before `cc-reporting run` or `demo`, then `dg dev`")


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
        kpi_daily_exists = "SELECT count(*) FROM information_schema.tables WHERE table_name = 'kpi_daily'"
        if not con.execute(kpi_daily_exists).fetchone()[0]:
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
