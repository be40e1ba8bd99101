"""Benchmark: a simulated day through the whole pipeline, against DuckDB's floor and a plain-Python Lambda.

    python benchmarks/run.py --agents 5000 --days 1 [--repeats 3] [--work-dir DIR] [--results FILE]

Every measured thing runs in its own subprocess (`--_task`), so each peak RSS (`ru_maxrss`) is its own:

* **limit**     DuckDB `read_json_objects(..., format='unstructured')` over the day's `ctr/**` objects, deduplicated
                by ContactId (latest LastUpdateTimestamp) and aggregated per queue × 15-minute interval of
                `Queue.EnqueueTimestamp` (offered, answered, queue seconds). The floor: read + parse + one GROUP BY.
* **baseline**  the same aggregate in plain Python (`json.JSONDecoder().raw_decode` over each object, dicts), the
                way a hand-written Lambda would do it. Checked equal to `limit`.
* **ours**      `cc_reporting.pipeline.run_window(day)` into an empty warehouse: staging (CTR, agent report, chat,
                CRM), JAR + CAR, all 96 intervals of Teleopti statistics, KPIs, agent performance, daily KPIs,
                Parquet exports and dashboard — every step a Dagster materialization, each timed.
* **increment** one 15-minute interval on the next day — the CTR objects landed in 15 minutes (copies of the day's
                12:00–12:15 objects, dates +1 day, ContactIds remapped) staged by key as the sensor does, JAR/CAR
                refresh, the interval's Teleopti stats/files and KPIs in ONE Dagster run, then the day's KPI/Parquet
                exports (a daily partition: a run of its own) — on top of 1 day of history (the `ours` warehouse)
                and 30 days (29 shifted copies of the day's rows inserted into the warehouse tables in DuckDB, see
                `_task_history`); and the whole process a user runs for that interval,
                `cc-reporting run --start S --end E` (imports, landing listing, its runs, the summary).
* **dagster**   an empty asset materialized the same way (`dg.materialize`, ephemeral instance): per-run overhead.

Agent events are not simulated by default (`--agent-events` turns them on; they are ~9 GB for 5,000 agents and
are deleted right after the simulation, which `run_window` then finds absent): the agent-state path has its own
benchmark, `benchmarks/rta_tick.py`.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAY0 = datetime(2026, 3, 2, tzinfo=timezone.utc)          # a Monday; partitions start 2026-01-01
INC_HOUR = 12                    # the increment's interval: next day 12:00–12:15 UTC (middle hour of shorter runs)
ID_COLUMNS = {"contact_id", "initial_contact_id", "previous_contact_id", "next_contact_id", "related_contact_id",
              "root_contact_id", "UniversalSessionId", "SessionId", "CallBackSessionId", "source_key", "record_hash",
              "key", "session_id", "universal_session_id", "root"}
HISTORY_TABLES = ("stg_ctr", "jar", "teleopti_contacts", "teleopti_queue_stats", "teleopti_agent_queue_stats",
                  "kpi_interval", "kpi_daily", "stg_agent_report", "teleopti_agent_performance", "ingest_ledger",
                  "stg_channel_session", "jar_callback_root", "jar_session_day")


# ----------------------------------------------------------------------------------------------- environment
def env_for(work: Path, name: str) -> dict:
    """The CC_* settings of one pipeline instance `name` under the work dir (set before importing cc_reporting)."""
    base = work / name
    return {"CC_LANDING_URI": str(work / "landing"), "CC_WAREHOUSE_PATH": str(base / "warehouse" / "cc.duckdb"),
            "CC_EXPORT_DIR": str(base / "exports"), "CC_TELEOPTI_OUTBOX": str(base / "outbox"),
            "CC_AGENT_EVENTS": str(work / "agent-events"), "CC_RTA_DIR": str(base / "rta"),
            "CC_PII_SALT": "benchmark-salt", "CC_DATA_DIR": str(base / "data"), "CC_PARTITIONS_START": "2026-01-01",
            "CC_REPORT_TIMEZONE": "UTC"}


def apply_env(work: Path, name: str, fresh: bool) -> dict:
    env = env_for(work, name)
    if fresh and (work / name).exists():
        shutil.rmtree(work / name)
    for key in ("CC_WAREHOUSE_PATH",):
        Path(env[key]).parent.mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    return env


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024      # Linux: KiB


def ctr_files(work: Path, day: date) -> list[Path]:
    return sorted(p for p in (work / "landing" / "ctr" / f"{day:%Y/%m/%d}").rglob("*") if p.is_file())


def day_ctr_glob(work: Path, day: date) -> str:
    return str(work / "landing" / "ctr" / f"{day:%Y/%m/%d}" / "**" / "*")


# --------------------------------------------------------------------------------------------------- tasks
def _task_simulate(args) -> dict:
    apply_env(args.work_dir, "sim", fresh=True)
    import cc_reporting.simulate.simulator as simulator
    from cc_reporting.resources import LandingZone
    from cc_reporting.simulate import simulate

    events_dir = Path(tempfile.mkdtemp(prefix="cc-bench-agent-events-", dir=args.work_dir))
    if not args.agent_events:                    # skip rendering ~9 GB of agent events (5,000 agents) entirely
        simulator.events_mod.deliveries = lambda *a, **k: []
        simulator.events_mod.count_chunks = lambda *a, **k: 0
    t = time.perf_counter()
    summary = simulate(DAY0, args.hours, args.agents, args.seed, LandingZone(uri=str(args.work_dir / "landing")),
                       str(events_dir), progress=True)
    elapsed = time.perf_counter() - t
    shutil.rmtree(events_dir, ignore_errors=True)           # run_window then finds no agent events
    files = ctr_files(args.work_dir, DAY0.date())
    # objects landed after midnight (arrival folders of the next day) belong to the day too
    late = ctr_files(args.work_dir, DAY0.date() + timedelta(days=1))
    return {"seconds": elapsed, "contacts": summary.contacts, "ctr_objects": summary.ctr_objects,
            "ctr_records": summary.ctr_records_written, "agent_events": summary.agent_events,
            "ctr_bytes": sum(p.stat().st_size for p in files + late), "landing_bytes": summary.bytes_written,
            "rss_mb": peak_rss_mb()}


def _ctr_globs(args) -> list[str]:
    days = [DAY0.date() + timedelta(days=d) for d in range(2)]
    ctr = args.work_dir / "landing" / "ctr"
    return [day_ctr_glob(args.work_dir, d) for d in days if (ctr / f"{d:%Y/%m/%d}").exists()]


LIMIT_SQL = """
WITH r AS (
  SELECT json ->> '$.ContactId' AS cid, json ->> '$.LastUpdateTimestamp' AS lu, json ->> '$.Queue.Name' AS q,
         json ->> '$.Queue.EnqueueTimestamp' AS enq, json ->> '$.Agent.ConnectedToAgentTimestamp' AS ans,
         CAST(json ->> '$.Queue.Duration' AS BIGINT) AS dur
  FROM read_json_objects({globs}, format = 'unstructured')),
d AS (SELECT * FROM r QUALIFY row_number() OVER (PARTITION BY cid ORDER BY lu DESC) = 1)
SELECT q, left(enq, 14) || lpad(CAST(CAST(substr(enq, 15, 2) AS INTEGER) // 15 * 15 AS VARCHAR), 2, '0') AS iv,
       count(*) AS offered, count(ans) AS answered, coalesce(sum(dur), 0) AS queue_s
FROM d WHERE enq IS NOT NULL GROUP BY ALL ORDER BY ALL
"""


def _task_limit(args) -> dict:
    import duckdb

    globs = "[" + ", ".join(f"'{g}'" for g in _ctr_globs(args)) + "]"
    t = time.perf_counter()
    con = duckdb.connect()
    rows = con.execute(LIMIT_SQL.format(globs=globs)).fetchall()
    elapsed = time.perf_counter() - t
    return {"seconds": elapsed, "groups": len(rows), "checksum": _checksum(rows), "rss_mb": peak_rss_mb()}


def _task_baseline(args) -> dict:
    t = time.perf_counter()
    decoder = json.JSONDecoder()
    latest: dict[str, tuple] = {}
    files = [p for d in range(2) for p in ctr_files(args.work_dir, DAY0.date() + timedelta(days=d))]
    for path in files:
        text = path.read_bytes().decode("utf-8")
        pos, end = 0, len(text)
        while pos < end:
            while pos < end and text[pos] in " \t\r\n":
                pos += 1
            if pos >= end:
                break
            rec, pos = decoder.raw_decode(text, pos)
            cid, lu = rec["ContactId"], rec.get("LastUpdateTimestamp") or ""
            if cid not in latest or lu > latest[cid][0]:
                queue, agent = rec.get("Queue") or {}, rec.get("Agent") or {}
                latest[cid] = (lu, queue.get("Name"), queue.get("EnqueueTimestamp"),
                               agent.get("ConnectedToAgentTimestamp"), queue.get("Duration"))
    agg: dict[tuple, list] = {}
    for _lu, q, enq, ans, dur in latest.values():
        if enq is None:
            continue
        key = (q, f"{enq[:14]}{int(enq[14:16]) // 15 * 15:02d}")
        a = agg.setdefault(key, [0, 0, 0])
        a[0] += 1
        a[1] += ans is not None
        a[2] += dur or 0
    # NULLS LAST
    rows = sorted(((q, iv, *v) for (q, iv), v in agg.items()), key=lambda r: (r[0] is None, r[0] or "", r[1]))
    elapsed = time.perf_counter() - t
    return {"seconds": elapsed, "groups": len(rows), "checksum": _checksum(rows), "rss_mb": peak_rss_mb()}


def _checksum(rows) -> str:
    import hashlib
    normalized = [tuple(int(x) if isinstance(x, int) else x for x in r) for r in rows]
    return hashlib.sha256(repr(normalized).encode()).hexdigest()[:16]


class StepTimer:
    """Wraps `pipeline.run_assets` (what run_window calls per step) and the agent-event drain with timers."""

    def __init__(self):
        import cc_reporting.pipeline as pipeline

        self.times: list[tuple[str, float]] = []
        original, drain = pipeline.run_assets, pipeline.drain_agent_events

        self.assets: list[dict] = []      # per Dagster run: {asset/op: seconds inside the op} from the event log
        self.metadata: dict[str, dict] = {}

        def materialize(assets, *a, **k):
            t = time.perf_counter()
            outcome = None
            try:
                outcome = original(assets, *a, **k)
                return outcome
            finally:
                self.times.append((",".join(x.key.to_user_string() for x in assets), time.perf_counter() - t))
                ops = {}
                instance = k.get("instance")
                if outcome is not None and instance is not None:
                    for st in instance.get_run_step_stats(outcome.run_id):
                        if st.start_time and st.end_time:
                            ops[st.step_key] = st.end_time - st.start_time
                    for m in outcome.get_asset_materialization_events():
                        md = m.materialization.metadata
                        self.metadata[m.asset_key.to_user_string()] = {
                            key: v.value for key, v in md.items()
                            if isinstance(getattr(v, "value", None), (int, float))}
                self.assets.append(ops)

        def timed_drain(*a, **k):
            t = time.perf_counter()
            try:
                return drain(*a, **k)
            finally:
                self.times.append(("agent events", time.perf_counter() - t))

        pipeline.run_assets = materialize
        pipeline.drain_agent_events = timed_drain


def _task_ours(args) -> dict:
    apply_env(args.work_dir, "ours", fresh=True)
    timer = StepTimer()
    from cc_reporting.pipeline import run_window
    from cc_reporting.resources import build_resources

    t = time.perf_counter()
    result = run_window(DAY0, DAY0 + timedelta(hours=args.hours), progress=False, resources=build_resources())
    elapsed = time.perf_counter() - t
    if not result.success:
        raise SystemExit("run_window failed: " + "; ".join(result.failures))
    if args.keep:                                   # the 1-day history of the increment
        keep = args.work_dir / "history-1d.duckdb"
        shutil.copyfile(os.environ["CC_WAREHOUSE_PATH"], keep)
    return {"seconds": elapsed, "steps": timer.times, "ops": timer.assets, "tables": result.tables,
            "rss_mb": peak_rss_mb()}


def _shift_select(con, table: str) -> str | None:
    cols = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                       "ORDER BY ordinal_position", [table]).fetchall()
    if not cols:
        return None
    exprs = []
    for name, dtype in cols:
        q = f'"{name}"'
        if "TIMESTAMP" in dtype or dtype == "DATE":
            exprs.append(f"{q} - to_days(CAST($k AS INTEGER))")
        elif name in ID_COLUMNS and dtype == "VARCHAR":
            exprs.append(f"{q} || '~h' || $k")
        else:
            exprs.append(q)
    return f'SELECT {", ".join(exprs)} FROM _history_source'


def _task_history(args) -> dict:
    """30 days of history without 29 more simulations: the 1-day warehouse plus 29 copies of its rows shifted
    back 1–29 days (every TIMESTAMP/DATE column), contact/session ids suffixed so they stay unique."""
    import duckdb

    src, dst = args.work_dir / "history-1d.duckdb", args.work_dir / "history-30d.duckdb"
    shutil.copyfile(src, dst)
    t = time.perf_counter()
    con = duckdb.connect(str(dst))
    done, skipped = {}, {}
    for table in HISTORY_TABLES:
        sql = _shift_select(con, table)
        if sql is None:
            continue
        try:
            # Oldest day first, one day per INSERT: the table fills in arrival order as a real one does, so each
            # row group holds about one day and DuckDB's zonemaps can skip by time (a cross join with range()
            # would interleave all 30 days in every row group).
            con.execute("BEGIN")
            con.execute(f'CREATE OR REPLACE TEMP TABLE _history_source AS SELECT * FROM "{table}"')
            for k in range(29, 0, -1):
                con.execute(f'INSERT INTO "{table}" {sql}', {"k": k})
            con.execute("COMMIT")
            done[table] = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        except duckdb.Error as exc:
            con.execute("ROLLBACK")                  # a key the shift does not keep unique: leave the table at 1 day
            skipped[table] = str(exc).splitlines()[0][:120]
    con.execute("CHECKPOINT")
    con.close()
    return {"seconds": time.perf_counter() - t, "rows": done, "skipped": skipped, "rss_mb": peak_rss_mb()}


UUID_FIELDS = re.compile(
    rb'"(ContactId|InitialContactId|PreviousContactId|NextContactId|RelatedContactId)":"([0-9a-f]{8})')


def increment_objects(work: Path) -> list[str]:
    """Copies of the CTR objects delivered 12:00–12:15 on day 0, one day later with remapped ContactIds."""
    from cc_reporting.resources import LandingZone

    landing = LandingZone(uri=str(work / "landing"))
    src_dir = work / "landing" / "ctr" / f"{DAY0:%Y/%m/%d}" / f"{INC_HOUR:02d}"
    d0, d1 = DAY0.date(), DAY0.date() + timedelta(days=1)
    keys = []
    for path in sorted(p for p in src_dir.glob("*") if p.is_file()):
        m = re.search(r"(\d{4})-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)", path.name)
        if not m or int(m.group(5)) >= 15:
            continue
        body = path.read_bytes()
        body = UUID_FIELDS.sub(
            lambda x: b'"' + x.group(1) + b'":"' + f"{int(x.group(2), 16) ^ 0x5A5A5A5A:08x}".encode(), body)
        body = body.replace(f'"{d1:%Y-%m-%d}T'.encode(), b'"@@D2T')
        body = body.replace(f'"{d0:%Y-%m-%d}T'.encode(), f'"{d1:%Y-%m-%d}T'.encode())
        body = body.replace(b'"@@D2T', f'"{d1 + timedelta(days=1):%Y-%m-%d}T'.encode())
        name = path.name.replace(f"{d0:%Y-%m-%d}-", f"{d1:%Y-%m-%d}-")
        key = f"ctr/{d1:%Y/%m/%d}/{INC_HOUR:02d}/{name}"
        landing.write(key, body)
        keys.append(key)
    return keys


def _history_copy(args, name: str) -> dict:
    """A fresh pipeline instance `name` on a copy of the history warehouse; returns its settings."""
    env = apply_env(args.work_dir, name, fresh=True)
    shutil.copyfile(args.work_dir / f"history-{args.history}d.duckdb", env["CC_WAREHOUSE_PATH"])
    # The copy's pages are still dirty in the page cache: without this, the first checkpoint's fsync writes the
    # whole copied file (0.6 s for a 30-day warehouse at 1,000 agents), a cost of the benchmark, not of a run.
    with open(env["CC_WAREHOUSE_PATH"], "rb+") as copied:
        os.fsync(copied.fileno())
    return env


def _task_increment(args) -> dict:
    _history_copy(args, f"inc{args.history}")
    keys = json.loads((args.work_dir / "increment-keys.json").read_text())
    timer = StepTimer()
    import dagster as dg

    from cc_reporting.models.kpi.assets import kpi_daily
    from cc_reporting.pipeline import ANALYTICS, INTERVALS, QUIET, _day_tags, _range_tags, _sole_writer
    from cc_reporting.resources import build_resources
    from cc_reporting.staging.assets import stg_ctr

    # As `cc-reporting run` without DAGSTER_HOME: the warehouse opened once per run.
    resources = _sole_writer(build_resources())
    start = DAY0 + timedelta(days=1, hours=INC_HOUR)
    end = start + timedelta(minutes=15)
    as_of = (end + timedelta(minutes=10)).isoformat()
    t = time.perf_counter()
    with dg.DagsterInstance.ephemeral() as instance:
        def step(assets, tags=None, config=None):
            try:
                outcome = dg.materialize(assets, resources=resources, instance=instance, raise_on_error=False,
                                         tags=tags or {}, run_config={**QUIET, **(config or {})})
            finally:
                resources["warehouse"].release()
            if not outcome.success:
                raise SystemExit(f"increment step {assets} failed")

        # The increment: the objects the sensor saw (by key), JAR/CAR, the interval's statistics, files and KPIs.
        step([stg_ctr, *ANALYTICS, *INTERVALS], tags=_range_tags(start, end, 15),
             config={"ops": {"stg_ctr": {"config": {"object_keys": keys}}, "jar": {"config": {"as_of": as_of}},
                             "car": {"config": {"as_of": as_of}}}})
        interval_seconds = time.perf_counter() - t
        step([kpi_daily], tags=_day_tags(start, end))   # a daily partition: a run of its own
    elapsed = time.perf_counter() - t
    return {"seconds": elapsed, "interval_seconds": interval_seconds, "steps": timer.times, "ops": timer.assets,
            "objects": len(keys), "jar": timer.metadata.get("jar", {}), "car": timer.metadata.get("car", {}),
            "rss_mb": peak_rss_mb()}


def _task_increment_cli(args) -> dict:
    """The whole process a user (or cron) runs for one interval: `cc-reporting run --start S --end E`, which lists
    the landing zone, stages what the ledger lacks, refreshes JAR/CAR and reports the interval, agent performance
    and the day's KPIs (3 Dagster runs), then prints its summary."""
    env = _history_copy(args, f"cli{args.history}")
    start = DAY0 + timedelta(days=1, hours=INC_HOUR)
    end = start + timedelta(minutes=15)
    cli = Path(sys.executable).with_name("cc-reporting")
    command = [str(cli) if cli.exists() else "cc-reporting", "run", "--start", start.isoformat(), "--end",
               end.isoformat()]
    t = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(f"cc-reporting run failed: {proc.stderr[-2000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": elapsed, "rss_mb": usage.ru_maxrss / 1024}


def _task_dagster(args) -> dict:
    apply_env(args.work_dir, "dagster", fresh=True)
    import dagster as dg

    from cc_reporting.pipeline import QUIET

    @dg.asset
    def empty_asset() -> None:
        return None

    times = []
    with dg.DagsterInstance.ephemeral() as instance:
        for _ in range(6):
            t = time.perf_counter()
            dg.materialize([empty_asset], instance=instance, run_config=QUIET)
            times.append(time.perf_counter() - t)
    return {"seconds": statistics.median(times[1:]), "first": times[0], "rss_mb": peak_rss_mb()}


TASKS = {"simulate": _task_simulate, "limit": _task_limit, "baseline": _task_baseline, "ours": _task_ours,
         "history": _task_history, "increment": _task_increment, "increment_cli": _task_increment_cli,
         "dagster": _task_dagster}


# ------------------------------------------------------------------------------------------------- driver
def run_task(args, task: str, *extra: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_task", task, "--work-dir", str(args.work_dir),
           "--agents", str(args.agents), "--hours", str(args.hours), "--seed", str(args.seed), *extra]
    if args.agent_events:
        cmd.append("--agent-events")
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise SystemExit(f"task {task} failed (exit {proc.returncode})")
    return json.loads(lines[-1][7:])


def med(values) -> float:
    return statistics.median(values)


ASSET_NAMES = {"stg_ctr": "stage CTRs", "stg_agent_report": "stage agent reports",
               "stg_channel_session": "stage chat sessions", "stg_crm_customer": "stage CRM", "jar": "JAR",
               "car": "CAR", "agent_state_intervals": "agent-state intervals",
               "teleopti_queue_stats": "Teleopti queue statistics + files",
               "teleopti_agent_queue_stats": "Teleopti agent-queue statistics + files",
               "teleopti_contacts": "Teleopti contact file", "kpi_interval": "15-minute KPIs",
               "teleopti_agent_performance": "Teleopti agent performance (30 min)",
               "kpi_daily": "daily KPIs, Parquet exports, dashboard"}


def run_name(label: str) -> str:
    """What a Dagster run of `run_window` holds, from its comma-joined asset keys."""
    assets = label.split(",")
    if label == "agent events":
        return "agent events → RTA log (outside Dagster)"
    if "stg_ctr" in assets and "kpi_interval" in assets:
        return "run: staging + JAR/CAR + 15-min intervals (Teleopti stats, files, KPIs)"
    if "stg_ctr" in assets:
        return "run: staging + JAR/CAR"
    if "kpi_interval" in assets:
        return "run: 15-min intervals (Teleopti stats, files, KPIs)"
    return "run: " + ASSET_NAMES.get(label, label)


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import dagster
    import duckdb
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, Dagster {dagster.__version__}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, default=5000)
    ap.add_argument("--days", type=int, default=1, help="days simulated and run (only 1 is supported)")
    ap.add_argument("--hours", type=float, default=24.0, help="hours of the simulated day (smoke runs: fewer)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work-dir", type=Path, default=None, help="default: a temporary folder, deleted afterwards")
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    ap.add_argument("--no-history", action="store_true", help="skip the 30-day-history increment")
    ap.add_argument("--agent-events", action="store_true", help="also simulate agent events (deleted after)")
    ap.add_argument("--_task", choices=sorted(TASKS), help=argparse.SUPPRESS)
    ap.add_argument("--history", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.days != 1:
        ap.error("--days: only 1 is supported (the 30-day case is the increment's history)")

    global INC_HOUR
    INC_HOUR = 12 if args.hours >= 14 else int(args.hours // 2)
    if args._task:
        args.work_dir = args.work_dir.resolve()
        out = TASKS[args._task](args)
        print("RESULT " + json.dumps(out, default=str), flush=True)
        return

    from tqdm import tqdm

    temp = None
    if args.work_dir is None:
        temp = tempfile.mkdtemp(prefix="cc-bench-")
        args.work_dir = Path(temp)
    args.work_dir = args.work_dir.resolve()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/run.py " + " ".join(a for a in sys.argv[1:] if a)
    try:
        for old in ("landing", "increment-keys.json", "history-1d.duckdb", "history-30d.duckdb"):
            p = args.work_dir / old
            shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
        print(f"simulating {args.agents} agents × {args.hours:g} h into {args.work_dir}", file=sys.stderr)
        sim = run_task(args, "simulate")
        plan = ([("limit", ())] * args.repeats + [("baseline", ())] * args.repeats
                + [("ours", ("--keep",) if i == args.repeats - 1 else ()) for i in range(args.repeats)]
                + [("dagster", ())])
        res: dict[str, list] = {}
        for task, extra in tqdm(plan, desc="benchmark", unit="run"):
            res.setdefault(task, []).append(run_task(args, task, *extra))
        keys = increment_objects(args.work_dir)
        (args.work_dir / "increment-keys.json").write_text(json.dumps(keys))
        histories = [1] if args.no_history else [1, 30]
        if not args.no_history:
            res["history"] = [run_task(args, "history")]
        for h in tqdm(histories, desc="increments", unit="history"):
            res[f"inc{h}"] = [run_task(args, "increment", "--history", str(h)) for _ in range(args.repeats)]
            res[f"cli{h}"] = [run_task(args, "increment_cli", "--history", str(h)) for _ in range(args.repeats)]
        text = report(args, command, sim, res, histories)
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(text)
        print(text)
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


def _asset_seconds(runs: list[dict]) -> dict[str, float]:
    """Median seconds inside each asset over the repeats (an asset's time summed over the runs of one repeat)."""
    per_repeat: dict[str, list[float]] = {}
    for r in runs:
        total: dict[str, float] = {}
        for ops in r.get("ops", []):
            for op, secs in ops.items():
                total[op] = total.get(op, 0.0) + secs
        for op, secs in total.items():
            per_repeat.setdefault(op, []).append(secs)
    return {op: med(v) for op, v in per_repeat.items()}


def report(args, command, sim, res, histories) -> str:
    limit, base, ours = (med([r["seconds"] for r in res[k]]) for k in ("limit", "baseline", "ours"))
    same = len({r["checksum"] for r in res["limit"] + res["baseline"]}) == 1
    runs: dict[str, list[float]] = {}
    for r in res["ours"]:
        for label, secs in r["steps"]:
            runs.setdefault(label, []).append(secs)
    in_assets = _asset_seconds(res["ours"])
    overhead = res["dagster"][0]["seconds"]
    rss = {k: max(r["rss_mb"] for r in res[k]) for k in res}
    inc = {h: med([r["seconds"] for r in res[f"inc{h}"]]) for h in histories}
    inc_interval = {h: med([r["interval_seconds"] for r in res[f"inc{h}"]]) for h in histories}
    inc_assets = {h: _asset_seconds(res[f"inc{h}"]) for h in histories}
    cli = {h: med([r["seconds"] for r in res[f"cli{h}"]]) for h in histories}

    def compute(h: int, with_daily: bool) -> float:
        return med([sum(sum(o.values()) for o in (r["ops"] if with_daily else r["ops"][:1])) for r in res[f"inc{h}"]])

    def mark(ok: bool) -> str:
        return "met" if ok else "**missed**"

    tables = res["ours"][-1]["tables"]
    L = ["# Benchmark results", "",
         f"- **date** {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
         f"- **machine** {machine()}",
         f"- **command** `{command}` (medians of {args.repeats} runs; each measured thing in its own subprocess, "
         f"so every peak RSS is its own)",
         f"- **data** {args.agents:,} agents × {args.hours:g} h simulated (seed {args.seed}) "
         f"in {sim['seconds']:.0f} s: "
         f"{sim['contacts']:,} contact legs, {sim['ctr_records']:,} CTR records (with Firehose duplicates and "
         f"updates) in {sim['ctr_objects']:,} objects, {sim['ctr_bytes'] / 2**20:,.0f} MiB of CTR JSON. "
         + ("Agent events simulated, then deleted before the runs." if args.agent_events else
            "Agent events **not** simulated (`--agent-events` off; ~9 GB at 5,000 agents): the agent-state path is "
            "measured by `benchmarks/rta_tick.py`; here `agent_state_intervals` finds no events and Teleopti agent "
            "performance uses the scheduled report."),
         "", "## Whole day", "",
         "| measurement | median s (wall) | s inside the assets | peak RSS MiB | vs limit |",
         "|---|---:|---:|---:|---:|",
         f"| **limit**: DuckDB `read_json_objects` + dedup + 15-min queue aggregate (CTRs only) | {limit:.2f} | | "
         f"{rss['limit']:.0f} | 1.0× |",
         f"| **baseline**: plain Python `raw_decode` loop, same aggregate{'' if same else ' (RESULT DIFFERS!)'} | "
         f"{base:.2f} | | {rss['baseline']:.0f} | {base / limit:.1f}× |",
         f"| **ours**: `run_window` whole day (everything below) | {ours:.2f} | {sum(in_assets.values()):.2f} | "
         f"{rss['ours']:.0f} | {ours / limit:.1f}× |"]
    for label, secs in runs.items():
        L.append(f"| &nbsp;&nbsp;{run_name(label)} | {med(secs):.2f} | | | {med(secs) / limit:.1f}× |")
    L.append(f"| &nbsp;&nbsp;(outside the runs: table counts, KPI summary) | "
             f"{ours - sum(med(s) for s in runs.values()):.2f} | | | |")
    for op, secs in in_assets.items():
        L.append(f"| &nbsp;&nbsp;&nbsp;&nbsp;inside `{op}` ({ASSET_NAMES.get(op, op)}) | | {secs:.2f} | | "
                 f"{secs / limit:.1f}× |")
    L += ["", f"ratios: **ours / limit = {ours / limit:.1f}×**, **baseline / ours = {base / ours:.2f}×** "
          f"(limit and baseline give {'identical' if same else 'DIFFERENT'} aggregates: "
          f"{res['limit'][0]['groups']} queue × interval groups).", "",
          "Rows after the day: " + ", ".join(f"{k} {v:,}" for k, v in tables.items() if v) + ".", "",
          "## One 15-minute increment", "",
          f"{res[f'inc{histories[0]}'][0]['objects']} new CTR objects (the objects landed in 15 minutes at peak) "
          "staged by key as the sensor requests them, JAR + CAR refresh, the interval's Teleopti statistics, files "
          "and KPIs: **one Dagster run**. The day's daily KPIs, Parquet exports and dashboard are a second run (a "
          "daily partition: Dagster runs one partitions definition per run). "
          + ("" if args.no_history else
             "30-day history: the 1-day warehouse plus 29 copies of its rows shifted back 1–29 days, inserted directly "
             f"in DuckDB ({res['history'][0]['seconds']:.0f} s; "
             f"stg_ctr {res['history'][0]['rows'].get('stg_ctr', 0):,} rows, "
             f"jar {res['history'][0]['rows'].get('jar', 0):,} rows"
             + (f"; left at 1 day: {', '.join(res['history'][0]['skipped'])}" if res['history'][0]['skipped'] else "")
             + ")."), "",
          "| step | " + " | ".join(f"{h} day{'s' if h > 1 else ''} of history, s" for h in histories) + " |",
          "|---|" + "---:|" * len(histories)]
    for op in inc_assets[histories[0]]:
        L.append(f"| inside `{op}` | " + " | ".join(f"{inc_assets[h].get(op, 0):.2f}" for h in histories) + " |")
    L.append("| **increment compute**: the interval run, sum inside its assets | "
             + " | ".join(f"**{compute(h, False):.2f}**" for h in histories) + " |")
    L.append("| increment compute with the daily KPIs run | "
             + " | ".join(f"{compute(h, True):.2f}" for h in histories) + " |")
    L.append("| the interval run, wall (Dagster run included) | "
             + " | ".join(f"{inc_interval[h]:.2f}" for h in histories) + " |")
    L.append("| both runs, wall | " + " | ".join(f"{inc[h]:.2f}" for h in histories) + " |")
    L.append("| **whole process**: `cc-reporting run --start --end` one interval (imports, listing, 3 runs, summary) | "
             + " | ".join(f"**{cli[h]:.2f}**" for h in histories) + " |")
    for key in ("changed_ids", "seed_rows", "rows_recomputed", "rows_replaced", "fcr_rows_updated"):
        if any(key in res[f"inc{h}"][0].get("jar", {}) for h in histories):
            L.append(f"| &nbsp;&nbsp;JAR refresh: {key} | "
                     + " | ".join(str(res[f"inc{h}"][0].get("jar", {}).get(key, "–")) for h in histories) + " |")
    L.append("| peak RSS MiB (increment; whole process) | "
             + " | ".join(f"{rss[f'inc{h}']:.0f}; {rss[f'cli{h}']:.0f}" for h in histories) + " |")
    h0 = histories[0]
    L += ["", "## Dagster per-run overhead", "",
          f"An empty asset materialized with `dg.materialize` on an ephemeral instance (as `run_window` does): "
          f"**{overhead * 1000:.0f} ms** per run "
          f"(median of 5 after a first run of {res['dagster'][0]['first'] * 1000:.0f} ms). "
          f"The increment's interval run ({h0} day of history) takes {inc_interval[h0]:.2f} s wall, "
          f"{compute(h0, False):.2f} s of it inside its assets: Dagster (run start, resource set-up, asset checks, "
          f"event log) is the other {inc_interval[h0] - compute(h0, False):.2f} s.", ""]
    whole_ok = ours <= 5 * limit
    rss_ok = max(rss["ours"], *(rss[f"inc{h}"] for h in histories)) <= 1024
    L += ["## Targets", "", "| target | measured | |", "|---|---|---|",
          f"| whole day ≤ 5× limit | {ours / limit:.1f}× | {mark(whole_ok)} |",
          f"| peak RSS ≤ 1 GB | ours {rss['ours']:.0f} MiB, increments "
          + ", ".join(f"{rss[f'inc{h}']:.0f}" for h in histories) + f" MiB | {mark(rss_ok)} |",
          "| one increment ≤ 1 s compute | " + ", ".join(f"{compute(h, False):.2f} s ({h} d)" for h in histories)
          + f" | {mark(all(compute(h, False) <= 1 for h in histories))} |"]
    if 30 in histories:
        ratio = compute(30, False) / compute(1, False)
        wall = inc_interval[30] / inc_interval[1]
        L.append(f"| increment compute with 30 days ≤ 1.5× with 1 day | {ratio:.2f}× (wall {wall:.2f}×) "
                 f"| {mark(ratio <= 1.5)} |")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()
