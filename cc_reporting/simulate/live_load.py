"""Live load: the simulator replaying at N× real time while the project's own sensors and schedules run against it.

`run_load(config)` starts `simulate(..., live=True)` on a `SimClock` in a background thread and, in the foreground,
does what the Dagster daemon does, in one process so it can be measured:

* each landing sensor and the late-data sensor is evaluated (`evaluate_tick`, cursor kept) whenever its
  `minimum_interval_seconds` has passed on the wall clock;
* each schedule is evaluated for every cron tick that falls due in *simulated* time (its partition keys come from
  `scheduled_execution_time`, so they must match the simulated data);
* requested runs execute in-process one at a time (every warehouse writer shares the `duckdb_writer` pool of
  size 1, so production runs them serially too), each run key at most once;
* agent events go through the RTA sensor's tick (`run_tick`) with the simulated clock, as `cc-reporting run`
  does: the sensor itself reads the wall clock, and a replayed hour lies outside its 24-hour window.

Every `sample_seconds` (between runs: the foreground is busy during one) it records the simulated time, the
objects landed per prefix, how many of them the ingestion ledger holds, the backlog (landed − staged) and the
runs so far. `live_load_report.render` turns a `LoadResult` into Markdown. The runs use a temporary *persistent*
Dagster instance under the work dir (`DagsterInstance.local_temp`): sensor and schedule contexts refuse an
ephemeral one, the late-data sensor reads materialization events from it, and `dagster dev` can open it later.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import dagster as dg

from .clock import from_epoch, to_epoch
from .delivery import SimClock

LANDING_PREFIXES = ("ctr/", "reports/", "channels/", "crm/")
RTA_SENSOR = "rta_sensor"


@dataclass
class LoadConfig:
    work_dir: Path
    start: datetime  # simulated start (UTC)
    agents: int = 200
    speed: float = 10.0
    minutes: float = 10.0  # wall minutes of contacts: the simulated window is minutes × speed long
    seed: int = 1
    sample_seconds: float = 5.0
    interval_scale: float = 1.0  # × every sensor's minimum interval (a quick test shortens them)
    max_drain_seconds: float = 600.0
    # Simulated minutes the simulator keeps landing after its window: Firehose buffers and duplicates, the last
    # agent report (~15 min late). Updated re-sends come up to 4 h later; those past the tail are not delivered.
    tail_minutes: float = 30.0

    @property
    def sim_hours(self) -> float:
        return self.minutes * self.speed / 60

    @property
    def arrival_end(self) -> datetime:
        return self.start + timedelta(hours=self.sim_hours, minutes=self.tail_minutes)


@dataclass
class Sample:
    wall: float  # seconds since the load began
    sim: datetime
    landed: dict[str, int]  # per prefix
    ledger: int  # rows in the ingestion ledger
    backlog: int  # landed objects (key + ETag) the ledger does not hold yet
    waiting: dict[str, int]  # the backlog per prefix
    runs: int
    run_seconds: float
    arriving: bool

    @property
    def landed_total(self) -> int:
        return sum(self.landed.values())


@dataclass
class RunRecord:
    job: str
    origin: str  # sensor or schedule that requested it
    run_key: str | None
    partition: str | None
    objects: int  # landing objects in the batch (sensor runs)
    started: float  # seconds since the load began
    seconds: float
    success: bool


@dataclass
class LoadResult:
    config: LoadConfig
    samples: list[Sample] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)
    sensor_ticks: dict[str, int] = field(default_factory=dict)
    schedule_ticks: list[tuple[str, datetime]] = field(default_factory=list)
    rta_ticks: int = 0
    rta_seconds: float = 0.0
    tick_seconds: float = 0.0  # sensor and schedule evaluation
    landing_began: float | None = None  # seconds since the load began
    arrival_ended: float | None = None
    drained_at: float | None = None
    sim_end: datetime | None = None
    simulator_max_late: float = 0.0
    summary: object | None = None  # the simulator's SimulationSummary
    wall_seconds: float = 0.0

    @property
    def drain_seconds(self) -> float | None:
        return None if self.drained_at is None or self.arrival_ended is None else self.drained_at - self.arrival_ended


def work_dir_env(work_dir: Path) -> dict[str, str]:
    """The CC_* settings that put every input and output of a load run under `work_dir`."""
    w = Path(work_dir)
    return {"CC_LANDING_URI": str(w / "landing"), "CC_AGENT_EVENTS": str(w / "agent-events"),
            "CC_WAREHOUSE_PATH": str(w / "warehouse" / "cc.duckdb"), "CC_EXPORT_DIR": str(w / "exports"),
            "CC_TELEOPTI_OUTBOX": str(w / "outbox"), "CC_RTA_DIR": str(w / "rta"), "CC_DATA_DIR": str(w / "data")}


WORK_SUBDIRS = ("landing", "agent-events", "warehouse", "exports", "outbox", "rta", "data", "dagster")


def default_start(now: datetime, sim_hours: float) -> datetime:
    """The latest weekday 09:00 UTC (the morning peak) whose replayed window ended an hour before `now`.

    In the past, so every partition the schedules ask for already exists; recent, so the late-data sensor (which
    looks back CC_LATE_DATA_DAYS from the wall clock) still re-opens its intervals."""
    day = now.astimezone(timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0)
    while day.weekday() >= 5 or day + timedelta(hours=sim_hours + 1) > now:
        day -= timedelta(days=1)
    return day


def cron_matches(expr: str, at: datetime) -> bool:
    """Whether a 5-field cron expression (numbers, `*`, `*/n`, `a-b`, lists) fires at minute `at`.

    Dagster's own cron iterator is private API; the project's schedules are plain expressions like these."""
    values = (at.minute, at.hour, at.day, at.month, (at.weekday() + 1) % 7)
    for spec, value in zip(expr.split(), values):
        if not any(_cron_part(part, value) for part in spec.split(",")):
            return False
    return True


def _cron_part(part: str, value: int) -> bool:
    base, _, step = part.partition("/")
    if base == "*":
        return value % int(step or 1) == 0
    lo, _, hi = base.partition("-")
    return int(lo) <= value <= int(hi or lo) and (value - int(lo)) % int(step or 1) == 0


def live_definitions(resources: dict) -> dg.Definitions:
    """The project's definitions with `resources` built from the current CC_* settings.

    `cc_reporting.definitions` builds its resources at import time; a load run (or a test) sets its own work dir."""
    from cc_reporting.definitions import defs

    return dg.Definitions(assets=defs.assets, asset_checks=defs.asset_checks, jobs=defs.jobs, sensors=defs.sensors,
                          schedules=defs.schedules, resources=resources)


class LoadRunner:
    def __init__(self, config: LoadConfig, instance: dg.DagsterInstance, on_sample: Callable | None = None):
        from cc_reporting.pipeline import QUIET
        from cc_reporting.resources import build_resources
        from cc_reporting.settings import load_settings

        self.config, self.instance, self.on_sample = config, instance, on_sample
        self.settings, self.quiet = load_settings(), QUIET
        self.resources = build_resources(self.settings)
        self.defs = live_definitions(self.resources)
        self.repo = self.defs.get_repository_def()
        self.sensors = [s for s in self.repo.sensor_defs if s.name != RTA_SENSOR]
        self.rta_interval = self.repo.get_sensor_def(RTA_SENSOR).minimum_interval_seconds or 5
        self.cursors: dict[str, str | None] = {}
        self.last_tick: dict[str, float] = {}
        self.queue: deque = deque()  # (origin, RunRequest)
        self.done_keys: set[str] = set()
        self.clock = SimClock(to_epoch(config.start), config.speed, end=to_epoch(config.arrival_end))
        self.result = LoadResult(config)
        self.began = time.time()
        self.sim_ticked = config.start  # schedules were evaluated up to this simulated minute
        self.rta_cursor: str | None = None
        self.rta_source = None
        self.error: BaseException | None = None  # set by the simulator thread

    # -- the simulator --------------------------------------------------------------------------------------
    def _land(self) -> None:
        from cc_reporting.simulate import simulate

        try:
            self.result.summary = simulate(self.config.start, self.config.sim_hours, self.config.agents,
                                           self.config.seed, self.resources["landing"], self.settings.agent_events,
                                           live=True, clock=self.clock)
        except BaseException as exc:  # surfaced by run() once the foreground notices
            self.error = exc

    # -- what the daemon does ---------------------------------------------------------------------------------
    def _tick_sensors(self, now: float) -> None:
        for sensor in self.sensors:
            interval = (sensor.minimum_interval_seconds or 30) * self.config.interval_scale
            if now - self.last_tick.get(sensor.name, 0.0) < interval:
                continue
            self.last_tick[sensor.name] = now
            began = time.perf_counter()
            context = dg.build_sensor_context(instance=self.instance, cursor=self.cursors.get(sensor.name),
                                              repository_def=self.repo, sensor_name=sensor.name,
                                              resources=self.resources)
            data = sensor.evaluate_tick(context)
            self.result.tick_seconds += time.perf_counter() - began
            self.cursors[sensor.name] = data.cursor
            self.result.sensor_ticks[sensor.name] = self.result.sensor_ticks.get(sensor.name, 0) + 1
            self.queue.extend((sensor, request) for request in data.run_requests)

    def _tick_schedules(self, sim_now: datetime) -> None:
        minute = self.sim_ticked.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while minute <= sim_now:
            for schedule in self.repo.schedule_defs:
                local = minute.astimezone(ZoneInfo(schedule.execution_timezone or "UTC"))
                if not cron_matches(schedule.cron_schedule, local):
                    continue
                began = time.perf_counter()
                context = dg.build_schedule_context(instance=self.instance, scheduled_execution_time=minute,
                                                    repository_def=self.repo, resources=self.resources)
                data = schedule.evaluate_tick(context)
                self.result.tick_seconds += time.perf_counter() - began
                self.result.schedule_ticks.append((schedule.name, minute))
                self.queue.extend((schedule, request) for request in data.run_requests or [])
            self.sim_ticked = minute
            minute += timedelta(minutes=1)

    def _tick_rta(self, now: float) -> None:
        from cc_reporting.realtime.agent_events import open_source
        from cc_reporting.realtime.rta_sensor import run_tick

        if now - self.last_tick.get(RTA_SENSOR, 0.0) < self.rta_interval * self.config.interval_scale:
            return
        self.last_tick[RTA_SENSOR] = now
        if self.rta_source is None:
            self.rta_source = open_source(self.settings.agent_events, self.settings.aws_endpoint_url,
                                          now=lambda: from_epoch(self.clock.now()))
        began = time.perf_counter()
        outcome = run_tick(self.rta_cursor, self.rta_source, self.settings.rta_dir, now_ms=int(self.clock.now() * 1000))
        self.rta_cursor = outcome.cursor
        self.result.rta_ticks += 1
        self.result.rta_seconds += time.perf_counter() - began

    def _execute(self, origin, request: dg.RunRequest) -> None:
        if request.run_key and request.run_key in self.done_keys:
            return
        job_name = request.job_name or origin.job_name
        tags = dict(request.tags)
        if request.run_key:
            self.done_keys.add(request.run_key)
            tags["dagster/run_key"] = request.run_key  # as the daemon tags it: the UI shows why a run exists
        started, wall = time.perf_counter(), time.time()
        job = self.defs.resolve_job_def(job_name)
        if request.asset_check_keys and not request.asset_selection:
            # Checks only (the deadline sensor): the daemon runs just those checks, no asset.
            job = job.get_subset(asset_selection=set(), asset_check_selection=set(request.asset_check_keys))
        outcome = job.execute_in_process(
            run_config={**self.quiet, **(request.run_config or {})}, instance=self.instance,
            partition_key=request.partition_key, tags=tags, raise_on_error=False,
            asset_selection=list(request.asset_selection) if request.asset_selection else None)
        seconds = time.perf_counter() - started
        partition = request.partition_key or (
            f"{tags['dagster/asset_partition_range_start']}…{tags['dagster/asset_partition_range_end']}"
            if "dagster/asset_partition_range_start" in tags else None)
        self.result.runs.append(RunRecord(job_name, origin.name, request.run_key, partition,
                                          int(tags.get("cc_reporting/objects", 0)), wall - self.began, seconds,
                                          outcome.success))

    # -- measuring -----------------------------------------------------------------------------------------
    def _landed(self) -> dict[str, set[tuple[str, str]]]:
        from cc_reporting.staging.agent_report_table import is_agent_report_key
        from cc_reporting.staging.channel_sessions import is_channel_session_key
        from cc_reporting.staging.crm import is_crm_extract_key

        # The keys each landing sensor accepts: what it would stage.
        accept = {"reports/": is_agent_report_key, "channels/": is_channel_session_key, "crm/": is_crm_extract_key}
        landing = self.resources["landing"]
        return {prefix: {(o.key, o.etag) for o in landing.list(prefix) if accept.get(prefix, lambda key: True)(o.key)}
                for prefix in LANDING_PREFIXES}

    def _ledger(self) -> set[tuple[str, str]]:
        with self.resources["warehouse"].connect() as con:
            if not con.execute("SELECT count(*) FROM information_schema.tables "
                               "WHERE table_name = 'ingest_ledger'").fetchone()[0]:
                return set()
            return set(con.execute("SELECT object_key, etag FROM ingest_ledger").fetchall())

    def _sample(self, now: float, arriving: bool) -> Sample:
        landed, ledger = self._landed(), self._ledger()
        waiting = {p: len(objects - ledger) for p, objects in landed.items()}
        sim = from_epoch(self.clock.now()) if arriving else self.result.sim_end  # the world ends with arrival
        sample = Sample(now - self.began, sim, {p: len(objects) for p, objects in landed.items()},
                        len(ledger), sum(waiting.values()), waiting, len(self.result.runs),
                        sum(r.seconds for r in self.result.runs), arriving)
        self.result.samples.append(sample)
        if self.on_sample:
            self.on_sample(sample)
        return sample

    # -- the loop -----------------------------------------------------------------------------------------
    def run(self) -> LoadResult:
        thread = threading.Thread(target=self._land, name="simulator", daemon=True)
        thread.start()
        next_sample, result = self.began, self.result
        try:
            while True:
                now = time.time()
                arriving = thread.is_alive()
                if result.landing_began is None and self.clock.began is not None:
                    result.landing_began = self.clock.began - self.began
                ended = not arriving and result.arrival_ended is None
                if ended:
                    result.arrival_ended = now - self.began
                    result.sim_end = min(from_epoch(self.clock.now()), self.config.arrival_end)
                if self.error is not None:
                    raise RuntimeError("the simulator failed") from self.error
                self._tick_sensors(now)
                self._tick_rta(now)
                # The simulated world ends with the simulator: no schedule ticks past its last delivery.
                self._tick_schedules(from_epoch(self.clock.now()) if arriving else result.sim_end)
                ran = bool(self.queue)
                if ran:
                    self._execute(*self.queue.popleft())
                now = time.time()
                # After arrival, also check right after each run: the drain time is measured to the run that ends it.
                if now >= next_sample or ended or (not arriving and ran):
                    sample = self._sample(now, arriving)
                    next_sample = now + self.config.sample_seconds
                    if not arriving and sample.backlog == 0 and result.drained_at is None:
                        result.drained_at = sample.wall
                    if result.drained_at is not None and not self.queue:
                        break  # drained, and the runs requested meanwhile are done
                if not arriving and now - self.began - result.arrival_ended > self.config.max_drain_seconds:
                    break
                if not ran:
                    time.sleep(0.2)
        finally:
            self.clock.cancel()
        result.simulator_max_late = self.clock.max_late
        result.wall_seconds = time.time() - self.began
        return result


def run_load(config: LoadConfig, on_sample: Callable | None = None) -> LoadResult:
    """One load run with the current CC_* settings (see `work_dir_env`) and a fresh Dagster instance."""
    instance_dir = Path(config.work_dir) / "dagster"
    instance_dir.mkdir(parents=True, exist_ok=True)
    with dg.DagsterInstance.local_temp(tempdir=str(instance_dir), overrides={"telemetry": {"enabled": False}}) as inst:
        return LoadRunner(config, inst, on_sample).run()
