"""The agent-state model on real Amazon Connect event streams: LOGIN events without snapshot, minutes between events
(204-376 s seen), no scheduled agent report. One test per rule, at its boundaries; expected values by hand.

Rules (cc_reporting.realtime.agent_event_record): a LOGIN without snapshot starts a known state, logged in with the
non-productive status "Logged in" until the next event; a state is carried across a gap up to
`agent_state_max_gap_seconds` (CC_AGENT_STATE_MAX_GAP_SECONDS, 900), the rest of a longer gap is unknown (stale);
every agent with online time in an interval gets its Teleopti agent-performance row.
"""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import dagster as dg
import duckdb

from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.models.teleopti.assets import teleopti_agent_performance
from cc_reporting.realtime import rebuild_agent_state, write_state_log
from cc_reporting.realtime.agent_event_record import normalize_event
from cc_reporting.realtime.assets import agent_state_intervals
from cc_reporting.realtime.rta_sensor import run_tick

from .conftest import fixture_json, query
from .test_agent_state import ALL, OFFLINE, expect, intervals, raw, secs, t, write

SHARD = "shardId-000000000000"
# The real sample, replayed on the project's partition calendar (its own date, 2018, predates the partitions).
T0 = datetime(2026, 1, 5, 9, 2, tzinfo=timezone.utc)
GAPS_S = (204, 376, 300, 251, 330, 289, 376, 204)  # seconds between events, as seen on a real stream


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def real_stream() -> list[dict]:
    """LOGIN (`CurrentAgentSnapshot: null`) at 09:02:00, then the sample's STATE_CHANGE and heartbeats carrying its
    snapshot (Available, no contacts) 204-376 s apart, then a LOGOUT without snapshot at 09:40:50."""
    sample = fixture_json("sample_agent_event.json")
    times, ts = [T0], T0
    for gap in GAPS_S:
        ts += timedelta(seconds=gap)
        times.append(ts)
    out = []
    for i, ts in enumerate(times):
        event = copy.deepcopy(sample)
        event.update(EventId=f"real-{i:02d}", EventTimestamp=_iso(ts),
                     EventType="STATE_CHANGE" if i == 1 else "HEART_BEAT")
        if i == 0 or i == len(times) - 1:
            event.update(EventType="LOGIN" if i == 0 else "LOGOUT", CurrentAgentSnapshot=None,
                         PreviousAgentSnapshot=None)
        out.append(event)
    return out


def no_snapshot(hms: str, etype: str = "LOGIN", agent: str = "a1") -> dict:
    event = raw(hms, etype=etype, agent=agent)
    event["CurrentAgentSnapshot"] = None
    return event


def build(tmp_path, raws, start, end, **kw):
    write(tmp_path, raws)
    con = duckdb.connect()
    rebuild_agent_state(con, tmp_path / "rta", t(start), t(end), **kw)
    return intervals(con), con


# --- the gap rule ---------------------------------------------------------------------------------------------------

def test_gap_exactly_at_the_limit_is_bridged(tmp_path):
    """09:00:00 Available, 09:15:00 Available (gap 900 s = the default limit), 09:20 Offline. Window 09:00-09:30:
    09:00 idle 900, nothing stale, covered; 09:15 idle 300, offline 600, covered."""
    rows, _ = build(tmp_path, [raw("09:00:00"), raw("09:15:00", etype="HEART_BEAT"), raw("09:20:00", OFFLINE)],
                    "09:00", "09:30")
    assert secs(rows["09:00", "a1"], *ALL) == expect(online_s=900, idle_s=900, covered_s=900)
    assert secs(rows["09:15", "a1"], *ALL) == expect(online_s=300, idle_s=300, offline_s=600, covered_s=900)


def test_gap_one_second_over_the_limit_is_stale_for_that_second(tmp_path):
    """09:00:00 Available, next event 09:15:01 (gap 901 s), 09:20 Offline. The state holds to 09:15:00; the second
    09:15:00-09:15:01 is unknown: stale, not online, not covered. 09:15: stale 1, idle 299, offline 600,
    covered 899."""
    rows, _ = build(tmp_path, [raw("09:00:00"), raw("09:15:01", etype="HEART_BEAT"), raw("09:20:00", OFFLINE)],
                    "09:00", "09:30")
    assert secs(rows["09:00", "a1"], *ALL) == expect(online_s=900, idle_s=900, covered_s=900)
    assert secs(rows["09:15", "a1"], *ALL) == expect(online_s=299, idle_s=299, stale_s=1, offline_s=600,
                                                     covered_s=899)


def test_gap_limit_is_the_setting(tmp_path, monkeypatch):
    """CC_AGENT_STATE_MAX_GAP_SECONDS=300: 09:00 Available, 09:05:00 (gap 300, bridged), 09:10:01 (gap 301: one
    stale second), 09:12 Offline. Idle 300 + 300 + 119 = 719, stale 1, offline 180, covered 899."""
    monkeypatch.setenv("CC_AGENT_STATE_MAX_GAP_SECONDS", "300")
    rows, _ = build(tmp_path, [raw("09:00:00"), raw("09:05:00", etype="HEART_BEAT"),
                               raw("09:10:01", etype="HEART_BEAT"), raw("09:12:00", OFFLINE)], "09:00", "09:15")
    assert secs(rows["09:00", "a1"], *ALL) == expect(online_s=719, idle_s=719, stale_s=1, offline_s=180,
                                                     covered_s=899)


def test_offline_is_carried_over_any_gap_other_states_only_to_the_limit(tmp_path):
    """a1 Offline at 09:00, a2 Available at 09:00, both silent until 09:40. a1 stays offline (known) throughout;
    a2 is idle to 09:15 (the limit) and unknown (stale) from then to 09:40: not online."""
    rows, _ = build(tmp_path, [raw("09:00:00", OFFLINE), raw("09:40:00", OFFLINE, etype="HEART_BEAT"),
                               raw("09:00:00", agent="a2"), raw("09:40:00", OFFLINE, agent="a2")], "09:00", "09:45")
    assert secs(rows["09:15", "a1"], *ALL) == expect(offline_s=900, covered_s=900)
    assert secs(rows["09:00", "a2"], *ALL) == expect(online_s=900, idle_s=900, covered_s=900)
    assert secs(rows["09:15", "a2"], *ALL) == expect(stale_s=900)
    assert secs(rows["09:30", "a2"], *ALL) == expect(stale_s=600, offline_s=300, covered_s=300)


# --- LOGIN without snapshot -----------------------------------------------------------------------------------------

def test_login_without_snapshot_is_logged_in_non_productive_until_the_next_event(tmp_path):
    """08:50 Available, 08:55 LOGOUT, 09:02:00 LOGIN with `CurrentAgentSnapshot: null`, 09:05:24 Available (204 s
    later). 09:00: offline 120 (logged out), non-productive 204 (logged in, no status yet), idle 576; covered 900.
    The LOGIN names nobody: its pieces carry the agent's name from its other events."""
    rows, con = build(tmp_path, [raw("08:50:00"), raw("08:55:00", OFFLINE, etype="LOGOUT"), no_snapshot("09:02:00"),
                                 raw("09:05:24")], "09:00", "09:15")
    assert secs(rows["09:00", "a1"], *ALL) == expect(online_s=780, non_productive_s=204, idle_s=576, offline_s=120,
                                                     covered_s=900)
    assert con.execute("SELECT DISTINCT bucket, username FROM agent_state_pieces WHERE event_id = 'a1-09:02:00-LOGIN'"
                       ).fetchall() == [("non_productive", "user.a1")]


def test_login_as_first_event_without_snapshot_is_named_in_a_single_interval_run(tmp_path):
    """The LOGIN (no snapshot) at 09:14:00 is the agent's first event; its next, 09:17:24, lies after the window
    09:00-09:15. 09:00: offline 840 (before the LOGIN), non-productive 60, covered 900, named user.a1 from the
    later event (read ahead up to the gap limit). One run over 09:00-09:30 gives the same 09:00 row."""
    raws = [no_snapshot("09:14:00"), raw("09:17:24"), raw("09:25:00", OFFLINE)]
    single, _ = build(tmp_path, raws, "09:00", "09:15")
    row = single["09:00", "a1"]
    assert secs(row, *ALL) == expect(online_s=60, non_productive_s=60, offline_s=840, covered_s=900)
    assert (row["username"], row["first_name"], row["last_name"]) == ("user.a1", "First", "A1")
    con = duckdb.connect()
    rebuild_agent_state(con, tmp_path / "rta", t("09:00"), t("09:30"))
    assert intervals(con)["09:00", "a1"] == row


# --- Teleopti agent performance on the real sample, through Dagster ------------------------------------------------

def test_every_interval_with_online_time_gets_an_agent_performance_row(tmp_path, warehouse):
    """The real sample as a stream (LOGIN without snapshot 09:02:00, events 204-376 s apart, LOGOUT 09:40:50), no
    scheduled report, no contacts. Real assets: `agent_state_intervals` for 09:00-10:00, then
    `teleopti_agent_performance` for 09:00-10:00.
    09:00: offline 120, logged in 204 (pause), idle 576 → tot 780, pause 204, avail 576, wait 576.
    09:15: idle 900. 09:30: idle 09:30-09:40:50 = 650. 09:45: logged out, no row. All from the timeline."""
    events = [normalize_event(r, SHARD, f"real:{i:09d}") for i, r in enumerate(real_stream(), 1)]
    write_state_log(events, tmp_path / "rta", "real")
    resources = {"warehouse": warehouse, "teleopti_sftp": TeleoptiSftp()}
    range_tags = {"dagster/asset_partition_range_start": "2026-01-05-09:00",
                  "dagster/asset_partition_range_end": "2026-01-05-09:45"}
    assert dg.materialize([agent_state_intervals], resources=resources, tags=range_tags).success
    range_tags["dagster/asset_partition_range_end"] = "2026-01-05-09:30"
    result = dg.materialize([teleopti_agent_performance], resources=resources, tags=range_tags)
    assert result.success
    rows = query(warehouse, """SELECT time, agent_id, agent_name, tot_work_dur, pause_dur, avail_dur, wait_dur, source
                               FROM teleopti_agent_performance ORDER BY interval_start""")
    name = "(Removed) (Removed)"
    assert rows == [("09:00", "(Removed)", name, 780, 204, 576, 576, "agent events"),
                    ("09:15", "(Removed)", name, 900, 0, 900, 900, "agent events"),
                    ("09:30", "(Removed)", name, 650, 0, 650, 650, "agent events")]
    files = {p.name: p.read_text() for p in (tmp_path / "outbox" / "agent_performance").glob("*.csv")}
    expected = f"15;20260105;09:30;(Removed);{name};650;0;650;650;0;0;0;0;0\n"
    assert files["agent_performance_20260105_0930.csv"] == expected
    assert files["agent_performance_20260105_0945.csv"] == ""  # logged out: a quiet interval's empty file


def test_partly_known_interval_without_report_still_gets_its_row(tmp_path, con):
    """No report, limit 300 s. 09:04:00 Available (the first event: 09:00-09:04 unknown), 09:10:00 (gap 360: 60 s
    stale), 09:19:00 (gap 540: 240 s stale), nothing after (known to 09:24:00, then stale).
    09:00: idle 300 + 300 = 600, not covered → the timeline's part, 'agent events (partial)'.
    09:15: idle 09:19-09:24 = 300 → 'agent events (partial)'. 09:30: nothing known online → no row."""
    from cc_reporting.models.teleopti import interval_stats

    from .teleopti_legs import at, stage

    write(tmp_path, [raw("09:04:00"), raw("09:10:00", etype="HEART_BEAT"), raw("09:19:00", etype="HEART_BEAT")])
    stage(con)
    rebuild_agent_state(con, tmp_path / "rta", at("09:00:00"), at("09:45:00"), max_gap_s=300)
    interval_stats.build_agent_performance(con, at("09:00:00"), at("09:45:00"), "UTC")
    got = con.execute("SELECT time, tot_work_dur, avail_dur, wait_dur, source FROM teleopti_agent_performance "
                      "ORDER BY time").fetchall()
    assert got == [("09:00", 600, 600, 600, "agent events (partial)"),
                   ("09:15", 300, 300, 300, "agent events (partial)")]


# --- the live RTA state follows the same rules ---------------------------------------------------------------------

class _Stream:
    """One shard of raw records in memory (the sensor's source interface)."""

    def __init__(self, records):
        self.records = [json.dumps(r).encode() for r in records]

    def describe(self):
        return "memory"

    def read(self, positions, max_records):
        start = int((positions or {}).get(SHARD, 0))
        batch = self.records[start:start + max_records]
        return [(SHARD, f"{start + i + 1:09d}", r) for i, r in enumerate(batch)], {SHARD: str(start + len(batch))}


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def _agent_row(rta_dir):
    return json.loads((rta_dir / "agent_state.json").read_text())["agents"][0]


def test_rta_shows_login_without_snapshot_as_logged_in(tmp_path):
    """The real stream's LOGIN alone: on the wallboard the agent is logged on, non-productive, "Logged in"."""
    out = run_tick(None, _Stream(real_stream()[:1]), tmp_path / "rta", _ms(T0) + 10_000)
    assert out.metadata["agents_logged_on"] == 1 and out.metadata["agents_non_productive"] == 1
    row = _agent_row(tmp_path / "rta")
    assert (row["state_bucket"], row["state_code"], row["logged_on"]) == ("non_productive", "Logged in", True)


def test_rta_stale_only_beyond_the_gap_limit(tmp_path):
    """After the real stream's 09:05:24 STATE_CHANGE: 900 s later (the limit) the agent is not stale, 901 s later it
    is. A 376 s gap, as real streams have, never is."""
    stream, rta = _Stream(real_stream()[:2]), tmp_path / "rta"
    last = _ms(T0 + timedelta(seconds=GAPS_S[0]))
    cursor = run_tick(None, stream, rta, last + 376_000).cursor
    assert _agent_row(rta)["stale"] is False
    cursor = run_tick(cursor, stream, rta, last + 900_000).cursor
    assert _agent_row(rta)["stale"] is False
    run_tick(cursor, stream, rta, last + 901_000)
    assert _agent_row(rta)["stale"] is True


def test_rta_logs_login_without_snapshot_under_the_agents_known_name(tmp_path):
    """The sample's STATE_CHANGE an hour earlier, then the real stream's LOGIN (no snapshot): the state log line of
    the LOGIN carries the username the sensor already knows, so a rebuild can name the agent's logged-in time."""
    earlier = copy.deepcopy(real_stream()[1])
    earlier.update(EventId="earlier", EventTimestamp=_iso(T0 - timedelta(hours=1)))
    run_tick(None, _Stream([earlier, real_stream()[0]]), tmp_path / "rta", _ms(T0) + 10_000)
    logged = [json.loads(line) for p in sorted((tmp_path / "rta" / "state_log").rglob("*.jsonl")) for line in p.open()]
    login = [e for e in logged if e["event_type"] == "LOGIN"]
    assert [(e["username"], e["status_name"]) for e in login] == [("(Removed)", "Logged in")]
