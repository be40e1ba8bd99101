"""Agent-state intervals on a simulated day, reconciled with the simulator's scheduled agent report.

The simulator derives both the agent event stream and the `TeleoptiAgentPerformance` report from one state timeline
with the bucket rules of connect-formats.md §3, so per agent and 30-minute interval our Online time, Agent idle time
and Non-Productive Time must equal the report's. The report rounds cumulative milliseconds to whole seconds at each
30-minute boundary; our intervals keep milliseconds, so a value may differ by up to 1 s (tolerance 2 s).
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from cc_reporting.realtime import rebuild_agent_state, spool_events, write_state_log
from cc_reporting.resources.landing import LandingZone
from cc_reporting.simulate import simulate

START = datetime(2026, 1, 5, tzinfo=timezone.utc)
AGENTS, HOURS, SEED = 10, 24, 11
TOLERANCE_S = 2


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    root = tmp_path_factory.mktemp("agent_state_day")
    summary = simulate(START, HOURS, AGENTS, SEED, LandingZone(uri=str(root / "landing")), str(root / "spool"))
    malformed: list = []
    events = list(spool_events(root / "spool", malformed))
    assert not malformed and len(events) == summary.agent_events
    write_state_log(events, root / "rta", "rebuild")
    report = read_reports(root / "landing" / "reports")
    last = max(k[1] for k in report) + timedelta(minutes=30)
    end = max(last, (START + timedelta(hours=HOURS)).replace(tzinfo=None))
    con = duckdb.connect()
    counts = rebuild_agent_state(con, root / "rta", START, end)
    return {"root": root, "con": con, "report": report, "end": end, "counts": counts, "summary": summary}


def _seconds(value: str) -> float:
    value = (value or "").strip()
    return 0.0 if value in ("", "-") else float(value)


def read_reports(folder: Path) -> dict:
    """{(Agent, StartInterval as naive UTC): (online, idle, non-productive)}; files in creation order (the UTC
    creation time is in the name), the last file wins per agent and interval. Parsed by header name."""
    rows = {}
    for path in sorted(folder.glob("TeleoptiAgentPerformance*.csv")):
        for r in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            start = datetime.fromisoformat(r["StartInterval"].replace("Z", "+00:00")).replace(tzinfo=None)
            rows[r["Agent"], start] = (_seconds(r["Online time"]), _seconds(r["Agent idle time"]),
                                       _seconds(r["Non-Productive Time"]))
    return rows


def ours_30min(con) -> dict:
    got = con.execute("""
        SELECT username, time_bucket(INTERVAL 30 MINUTE, interval_start) AS start,
               sum(online_s)::DOUBLE, sum(idle_s)::DOUBLE, sum(non_productive_s)::DOUBLE
        FROM agent_state_intervals GROUP BY ALL""").fetchall()
    return {(u, s): (on, idle, npt) for u, s, on, idle, npt in got}


def test_reconciles_with_simulated_agent_report(day):
    """Every (agent, 30-minute interval) of the report, and every one where we see online time, agrees within 2 s on
    Online time, Agent idle time and Non-Productive Time; the day's totals agree within 1 s per row."""
    report, ours = day["report"], ours_30min(day["con"])
    assert len(report) > 100  # 10 agents on ~8 h shifts through a day
    keys = set(report) | {k for k, v in ours.items() if v[0] > 0}
    assert keys == set(report)  # no online time the report lacks
    worst = [0.0, 0.0, 0.0]
    for key in keys:
        theirs, mine = report[key], ours.get(key, (0.0, 0.0, 0.0))
        for i in range(3):
            worst[i] = max(worst[i], abs(theirs[i] - mine[i]))
    print(f"max |diff| per agent and 30-min interval: online {worst[0]:.3f} s, idle {worst[1]:.3f} s, "
          f"non-productive {worst[2]:.3f} s over {len(keys)} rows")
    assert max(worst) <= TOLERANCE_S
    total_online = sum(v[0] for v in report.values())
    assert abs(total_online - sum(v[0] for v in ours.values())) <= len(report)
    assert abs(total_online - day["summary"].online_seconds_total) <= len(report)


def test_simulated_day_has_no_stale_time_and_full_coverage(day):
    """Heartbeats every 120 s and no lost events: nothing stale, and every 15-minute row with online time is fully
    covered (agents' first events are LOGINs), so every Teleopti row would come from the state timeline."""
    con = day["con"]
    assert con.execute("SELECT sum(stale_s) FROM agent_state_intervals").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM agent_state_intervals WHERE online_s > 0 AND covered_s < 900"
                       ).fetchone()[0] == 0
    assert con.execute("""SELECT count(*) FROM agent_state_intervals WHERE online_s <> idle_s + on_contact_s
                          + connecting_s + non_productive_s OR online_s + offline_s <> covered_s""").fetchone()[0] == 0


def test_queue_idle_equals_agent_idle_per_served_queue(day):
    """kpis.md §4: a queue's idle_s is the idle time of the agents serving it, each counted in every queue it serves.
    Summed over queues that is Σ agents idle × number of distinct queues served (profiles do not change mid-day)."""
    con = day["con"]
    per_queue = con.execute("SELECT sum(idle_s), sum(on_contact_s) FROM agent_state_queue_intervals").fetchone()
    expected = con.execute("""SELECT sum(idle_s * len(list_distinct(inbound_queue_ids))),
                                     sum(on_contact_s * len(list_distinct(inbound_queue_ids)))
                              FROM agent_state_intervals""").fetchone()
    rows = con.execute("SELECT count(*) FROM agent_state_queue_intervals").fetchone()[0]
    assert abs(per_queue[0] - float(expected[0])) <= rows and abs(per_queue[1] - float(expected[1])) <= rows


def test_sub_window_rebuild_matches_full_day(day, tmp_path):
    """Rebuilding 09:00–10:00 alone (its own load, 15-minute lookback) gives the full-day build's rows for every
    agent online there, and leaves the rest of the day untouched."""
    con = day["con"]
    snapshot = "SELECT * FROM agent_state_intervals WHERE online_s > 0 ORDER BY interval_start, agent_id"
    before = con.execute(snapshot).fetchall()
    queues = con.execute("SELECT * FROM agent_state_queue_intervals ORDER BY ALL").fetchall()
    sub = rebuild_agent_state(con, day["root"] / "rta", datetime(2026, 1, 5, 9), datetime(2026, 1, 5, 10))
    assert sub["agent_intervals"] > 0
    assert con.execute(snapshot).fetchall() == before
    assert con.execute("SELECT * FROM agent_state_queue_intervals ORDER BY ALL").fetchall() == queues
    again = rebuild_agent_state(con, day["root"] / "rta", START, day["end"])
    assert again == day["counts"]


def test_state_log_layout(day):
    """One folder per UTC hour of event_ts, every line's event_ts inside its folder's hour."""
    root = day["root"] / "rta" / "state_log"
    hours = Counter()
    for path in root.glob("*/*.jsonl"):
        for line in path.read_text().splitlines():
            hours[path.parent.name] += 1
            assert f'"event_ts":"{path.parent.name[:10]}T{path.parent.name[11:13]}:' in line
    assert sum(hours.values()) == day["summary"].agent_events
