"""Live load (issue 7, point 7): the simulator replays at N× while the real sensors and schedules run against it.

A tiny bounded run of the same code `benchmarks/live_load.py` runs: files land over time, the sensors stage them
while they arrive, the schedules ask for the partitions of the *simulated* time, and the backlog drains to 0.
Performance is measured by the benchmark, never asserted here.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from cc_reporting.cli import main as cli
from cc_reporting.models.teleopti.schedules import due_partition_key
from cc_reporting.resources import build_resources
from cc_reporting.simulate.delivery import Delivery, SimClock, perform
from cc_reporting.simulate.live_load import LANDING_PREFIXES, LoadConfig, cron_matches, run_load, work_dir_env
from cc_reporting.simulate.live_load_report import render

START = datetime(2026, 3, 2, 9, 5, tzinfo=timezone.utc)  # a Monday morning, in the past: its partitions exist


def test_a_replay_lands_each_delivery_at_start_plus_elapsed_times_speed():
    clock = SimClock(start=1_000_000.0, speed=50)
    landed = []
    deliveries = [Delivery(1_000_000.0 + 25 * i, 0, i, lambda i=i: landed.append((i, time.time()))) for i in range(3)]
    perform([deliveries], live=True, clock=clock)
    gaps = [b - a for (_, a), (_, b) in zip(landed, landed[1:])]
    assert [i for i, _ in landed] == [0, 1, 2] and all(g > 0.3 for g in gaps)  # 25 simulated s = 0.5 s wall
    assert clock.wall(1_000_100.0) - clock.began == 2.0


def test_speed_needs_live(capsys):
    assert cli(["simulate", "--speed", "10", "--hours", "1"]) == 2
    assert "--speed needs --live" in capsys.readouterr().err


def test_cron_ticks_of_the_project_schedules():
    at = datetime(2026, 3, 2, 9, 25, tzinfo=timezone.utc)
    assert cron_matches("10,25,40,55 * * * *", at) and not cron_matches("20,50 * * * *", at)
    assert cron_matches("0 1 * * *", at.replace(hour=1, minute=0)) and not cron_matches("0 1 * * *", at)


def test_live_load_stages_while_files_arrive_and_drains(tmp_path, monkeypatch):
    for name, value in work_dir_env(tmp_path / "load").items():
        monkeypatch.setenv(name, value)
    config = LoadConfig(work_dir=tmp_path / "load", start=START, agents=10, speed=240, minutes=0.125,
                        tail_minutes=20, sample_seconds=1, interval_scale=0.05, max_drain_seconds=60)
    result = run_load(config)
    resources = build_resources()

    # Files landed over time at the replay's pace, not all at once: 30 simulated minutes ≈ 7.5 s of wall clock.
    ctr = list(resources["landing"].list("ctr/"))
    assert len(ctr) > 5
    spread = max(o.last_modified for o in ctr) - min(o.last_modified for o in ctr)
    assert spread >= timedelta(seconds=config.minutes * 60 * 0.5)
    arriving = [s for s in result.samples if s.arriving]
    assert len({s.landed_total for s in arriving}) >= 3

    # The sensors ticked repeatedly and staged objects while they were still arriving.
    assert result.sensor_ticks["ctr_landing_sensor"] > 1
    assert any(r.job == "ingest_ctr" and r.started < result.arrival_ended for r in result.runs)
    assert any(s.ledger > 0 for s in arriving)
    assert all(r.success for r in result.runs)

    # The backlog drained: every landed object (key + ETag) is in the ingestion ledger.
    assert result.drained_at is not None and result.samples[-1].backlog == 0
    landed = {(o.key, o.etag) for p in LANDING_PREFIXES for o in resources["landing"].list(p)}
    with resources["warehouse"].connect() as con:
        ledger = set(con.execute("SELECT object_key, etag FROM ingest_ledger").fetchall())
        contacts = con.execute("SELECT count(*) FROM stg_ctr").fetchone()[0]
    assert landed and landed <= ledger
    assert contacts == result.summary.contacts

    # Schedules ticked on simulated time and their runs built the partitions of the simulated data.
    ticks = [at for name, at in result.schedule_ticks if name == "interval_reports_schedule"]
    runs = [r for r in result.runs if r.origin == "interval_reports_schedule"]
    assert ticks and {r.partition for r in runs} == {due_partition_key(at, 5, 15) for at in ticks}
    assert "2026-03-02-09:00" in {r.partition for r in runs}
    assert (tmp_path / "load" / "outbox" / "queue_stats" / "queue_stats_20260302_0900.csv").exists()

    report = render(result, "pytest")
    assert "## Backlog over time" in report and "## Verdict" in report and "interval_reports" in report
