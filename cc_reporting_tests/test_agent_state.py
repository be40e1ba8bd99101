"""Agent time from the agent event stream (connect-formats.md §3): bucket rules, interval split, LOGOUT/LOGIN,
stale gaps, duplicates, the Connect fixture, idempotent rebuilds. Expected values are computed by hand in docstrings.

Unless stated otherwise an agent's first event is a STATE_CHANGE at 09:00:00 and there is no earlier event, so the
09:00 interval is covered from 09:00:00 on.
"""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import duckdb
import pytest

from cc_reporting.realtime import (
    agent_state_queue_intervals,
    build_agent_state_intervals,
    load_state_log,
    rebuild_agent_state,
    teleopti_agent_durations,
    teleopti_queue_availability,
    write_state_log,
)
from cc_reporting.realtime.agent_event_record import normalize_event
from cc_reporting_tests.conftest import fixture_json

BASE = "arn:aws:connect:eu-west-1:111122223333:instance/i-1"
DAY = "2026-01-05"
AVAILABLE = ("Available", "ROUTABLE")
OFFLINE = ("Offline", "OFFLINE")
BREAK = ("Break", "CUSTOM")


def at(hms: str) -> str:
    return f"{DAY}T{hms}.000Z" if len(hms) == 8 else f"{DAY}T{hms}Z"


def t(hms: str) -> datetime:
    return datetime.fromisoformat(f"{DAY}T{hms}")


def raw(hms: str, status=AVAILABLE, contacts=(), etype="STATE_CHANGE", agent="a1", eid=None, queues=("q1", "q2")):
    """A raw agent event (connect-formats.md §3 shape); status = (Name, Type), Type None = older event without it."""
    name, typ = status
    agent_status = {"ARN": f"{BASE}/agent-state/{name}", "Name": name, "StartTimestamp": at(hms)}
    if typ:
        agent_status["Type"] = typ
    snapshot = {
        "AgentStatus": agent_status,
        "Configuration": {
            "Username": f"user.{agent}", "FirstName": "First", "LastName": agent.upper(), "AgentHierarchyGroups": None,
            "RoutingProfile": {"ARN": f"{BASE}/routing-profile/rp1", "Name": "RP",
                               "InboundQueues": [{"ARN": f"{BASE}/queue/{q}", "Name": q} for q in queues]},
        },
        "Contacts": [{"ContactId": f"c{i}", "State": s, "StateStartTimestamp": at(hms), "Channel": "VOICE"}
                     for i, s in enumerate(contacts)],
    }
    return {"AWSAccountId": "111122223333", "AgentARN": f"{BASE}/agent/{agent}",
            "EventId": eid or f"{agent}-{hms}-{etype}",
            "EventTimestamp": at(hms), "EventType": etype, "CurrentAgentSnapshot": snapshot}


def write(tmp_path, raws, name="log", shard="shardId-000000000000"):
    events = [normalize_event(r, shard, f"{name}:{i + 1:09d}") for i, r in enumerate(raws)]
    write_state_log(events, tmp_path / "rta", name)


def build(tmp_path, raws, start: str, end: str, con=None):
    """Write the log, rebuild [start, end) of day DAY; returns ({(interval hh:mm, agent): row}, con)."""
    if raws:
        write(tmp_path, raws)
    con = con or duckdb.connect()
    rebuild_agent_state(con, tmp_path / "rta", t(start), t(end))
    return intervals(con), con


def intervals(con) -> dict:
    cur = con.execute("SELECT * FROM agent_state_intervals ORDER BY interval_start, agent_id")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    return {(r["interval_start"].strftime("%H:%M"), r["agent_id"]): r for r in rows}


def secs(row, *cols) -> dict:
    return {c: float(row[c]) for c in cols}


ALL = ("online_s", "idle_s", "on_contact_s", "acw_s", "connecting_s", "non_productive_s", "offline_s", "stale_s",
       "covered_s")


def expect(**nonzero) -> dict:
    return {c: float(nonzero.get(c, 0)) for c in ALL}


# --- the bucket table, line by line ------------------------------------------------------------------------------

CASES = [
    # (status, contacts, bucket columns holding the 100 s) — first matching line wins
    pytest.param(OFFLINE, (), ("offline_s",), id="1-offline-status"),
    pytest.param(OFFLINE, ("CONNECTED",), ("offline_s",), id="1-offline-beats-contacts"),
    pytest.param(BREAK, (), ("online_s", "non_productive_s"), id="2-custom"),
    pytest.param(BREAK, ("CONNECTED",), ("online_s", "non_productive_s"), id="2-custom-whatever-contacts"),
    pytest.param(("Break", None), ("ENDED",), ("online_s", "non_productive_s"), id="2-custom-derived-from-name"),
    pytest.param(AVAILABLE, ("CONNECTED",), ("online_s", "on_contact_s"), id="3-connected"),
    pytest.param(AVAILABLE, ("CONNECTED_ONHOLD",), ("online_s", "on_contact_s"), id="3-onhold"),
    pytest.param(AVAILABLE, ("ENDED", "CONNECTED"), ("online_s", "on_contact_s"), id="3-talk-beats-acw"),
    pytest.param(AVAILABLE, ("ENDED",), ("online_s", "on_contact_s", "acw_s"), id="4-ended-is-acw"),
    pytest.param(AVAILABLE, ("CONNECTING", "ENDED"), ("online_s", "on_contact_s", "acw_s"), id="4-acw-beats-ringing"),
    pytest.param(AVAILABLE, ("CONNECTING",), ("online_s", "connecting_s"), id="5-connecting"),
    pytest.param(AVAILABLE, ("INCOMING",), ("online_s", "connecting_s"), id="5-incoming"),
    pytest.param(AVAILABLE, ("PENDING",), ("online_s", "connecting_s"), id="5-pending"),
    pytest.param(AVAILABLE, (), ("online_s", "idle_s"), id="6-no-contacts"),
    pytest.param(("Available", None), (), ("online_s", "idle_s"), id="6-available-derived-from-name"),
    pytest.param(AVAILABLE, ("MISSED",), ("online_s", "idle_s"), id="6-missed"),
    pytest.param(AVAILABLE, ("REJECTED",), ("online_s", "idle_s"), id="6-rejected"),
    pytest.param(AVAILABLE, ("ERROR", "MISSED"), ("online_s", "idle_s"), id="6-error"),
]


@pytest.mark.parametrize("status, contacts, columns", CASES)
def test_bucket_table(tmp_path, status, contacts, columns):
    """09:00:00 the snapshot under test, 09:01:40 Offline. Window 09:00–09:15: the snapshot holds 100 s, then
    offline 800 s; covered 900 s, nothing stale (gap 100 s <= 240 s; offline is never stale)."""
    rows, _ = build(tmp_path, [raw("09:00:00", status, contacts), raw("09:01:40", OFFLINE)], "09:00", "09:15")
    assert list(rows) == [("09:00", "a1")]
    want = expect(**{"offline_s": 800, "covered_s": 900, **{c: 100 for c in columns}})
    if "offline_s" in columns:
        want["offline_s"] = 900
    assert secs(rows["09:00", "a1"], *ALL) == want


def test_stretch_split_at_interval_boundary(tmp_path):
    """09:10:00 idle, 09:13:20 CONNECTED, 09:16:40 ENDED, 09:17:00 idle, 09:19:00 Offline; window 09:00–09:30.

    09:00: idle 09:10–09:13:20 = 200, on contact 09:13:20–09:15 = 100; online 300; nothing before 09:10, so
           covered 300.
    09:15: talk 09:15–09:16:40 = 100 + ACW 20 → on_contact 120 (acw 20); idle 09:17–09:19 = 120; online 240;
           offline 09:19–09:30 = 660; covered 900. The talk stretch (200 s) is split 100 / 100 at 09:15.
    """
    rows, con = build(tmp_path, [raw("09:10:00"), raw("09:13:20", contacts=("CONNECTED",)),
                                 raw("09:16:40", contacts=("ENDED",)), raw("09:17:00"), raw("09:19:00", OFFLINE)],
                      "09:00", "09:30")
    assert secs(rows["09:00", "a1"], *ALL) == expect(online_s=300, idle_s=200, on_contact_s=100, covered_s=300)
    assert secs(rows["09:15", "a1"], *ALL) == expect(online_s=240, idle_s=120, on_contact_s=120, acw_s=20,
                                                       offline_s=660, covered_s=900)
    pieces = con.execute("SELECT interval_start, piece_start, piece_end, seconds FROM agent_state_pieces "
                         "WHERE bucket = 'on_contact' ORDER BY piece_start").fetchall()
    assert pieces == [(t("09:00"), t("09:13:20"), t("09:15"), Decimal("100.000")),
                      (t("09:15"), t("09:15"), t("09:16:40"), Decimal("100.000"))]
    # Teleopti: tot_work = online, pause = non-productive, avail = online - pause, wait = idle; 09:00 not covered.
    assert teleopti_agent_durations(con, t("09:00"), t("09:30")) == [
        {"interval_start": t("09:00"), "agent_id": "user.a1", "agent_name": "First A1", "tot_work_dur": 300,
         "pause_dur": 0, "avail_dur": 300, "wait_dur": 200, "covered": False},
        {"interval_start": t("09:15"), "agent_id": "user.a1", "agent_name": "First A1", "tot_work_dur": 240,
         "pause_dur": 0, "avail_dur": 240, "wait_dur": 120, "covered": True}]


def test_logout_to_login_is_offline(tmp_path):
    """08:45–09:15. 09:00 LOGIN (Offline), 09:01 Available, 09:03 LOGOUT, 09:05 HEART_BEAT whose snapshot still says
    Available (wrongly), 09:10 LOGIN (Offline), 09:11 Available, 09:13 Offline.

    08:45: the first loaded event is a LOGIN, so the agent was logged out before it: offline 900, covered 900.
    09:00: offline 60 (09:00–09:01) + 480 (09:03–09:11, the heartbeat included: between LOGOUT and LOGIN) + 120
           (09:13–09:15) = 660; idle 120 + 120 = 240 = online; no stale although 09:05→09:10 is 300 s (offline).
    """
    rows, _ = build(tmp_path, [
        raw("09:00:00", OFFLINE, etype="LOGIN"), raw("09:01:00"), raw("09:03:00", OFFLINE, etype="LOGOUT"),
        raw("09:05:00", etype="HEART_BEAT"), raw("09:10:00", OFFLINE, etype="LOGIN"), raw("09:11:00"),
        raw("09:13:00", OFFLINE)], "08:45", "09:15")
    assert secs(rows["08:45", "a1"], *ALL) == expect(offline_s=900, covered_s=900)
    assert secs(rows["09:00", "a1"], *ALL) == expect(online_s=240, idle_s=240, offline_s=660, covered_s=900)


def test_gap_over_the_limit_is_stale(tmp_path, monkeypatch):
    """CC_AGENT_STATE_MAX_GAP_SECONDS=240. 09:00 idle, 09:06 idle (gap 360 s > 240), 09:09 idle (gap 180),
    09:12 Offline. Window 09:00–09:15.

    Idle is carried 240 s (09:00–09:04); the rest of the gap (09:04–09:06, 120 s) is unknown: stale, not online;
    idle again 09:06–09:12 (360). Online = idle = 600, offline 180, covered = 900 − 120 = 780, so the Teleopti row
    is not covered.
    """
    monkeypatch.setenv("CC_AGENT_STATE_MAX_GAP_SECONDS", "240")
    rows, con = build(tmp_path, [raw("09:00:00"), raw("09:06:00"), raw("09:09:00"), raw("09:12:00", OFFLINE)],
                      "09:00", "09:15")
    assert secs(rows["09:00", "a1"], *ALL) == expect(online_s=600, idle_s=600, stale_s=120, offline_s=180,
                                                     covered_s=780)
    assert teleopti_agent_durations(con, t("09:00"), t("09:15"))[0]["covered"] is False


def test_state_at_window_start_comes_from_lookback(tmp_path):
    """08:50 CONNECTED, 08:52 / 08:54 ... heartbeats (120 s) until 09:04, 09:05 idle, 09:09 Offline.
    Window 09:00–09:15 with the default 15-minute lookback: on contact 09:00–09:05 = 300, idle 240, offline 360."""
    beats = [raw(f"08:{m:02d}:00", contacts=("CONNECTED",), etype="HEART_BEAT") for m in (52, 54, 56, 58)]
    beats += [raw(f"09:0{m}:00", contacts=("CONNECTED",), etype="HEART_BEAT") for m in (0, 2, 4)]
    rows, _ = build(tmp_path, [raw("08:50:00", contacts=("CONNECTED",))] + beats
                    + [raw("09:05:00"), raw("09:09:00", OFFLINE)], "09:00", "09:15")
    assert list(rows) == [("09:00", "a1")]
    assert secs(rows["09:00", "a1"], *ALL) == expect(online_s=540, on_contact_s=300, idle_s=240, offline_s=360,
                                                     covered_s=900)


def test_duplicate_event_id_ignored(tmp_path):
    """The 09:04 CONNECTED and 09:08 LOGOUT events are delivered twice (a Kinesis retry, in another file with other
    sequence numbers). 09:00 idle, 09:04 CONNECTED, 09:08 LOGOUT: 5 events read,
    3 kept; idle 240, on contact 240, offline 420 (gaps of exactly 240 s are not stale)."""
    raws = [raw("09:00:00"), raw("09:04:00", contacts=("CONNECTED",)), raw("09:08:00", OFFLINE, etype="LOGOUT")]
    write(tmp_path, raws, name="first")
    write(tmp_path, raws[1:], name="retry", shard="shardId-000000000001")
    con = duckdb.connect()
    assert load_state_log(con, tmp_path / "rta", t("09:00"), t("09:15")) == 3
    build_agent_state_intervals(con, t("09:00"), t("09:15"))
    assert secs(intervals(con)["09:00", "a1"], *ALL) == expect(online_s=480, idle_s=240, on_contact_s=240,
                                                               offline_s=420, covered_s=900)
    assert con.execute("SELECT count(*) FROM agent_state_pieces").fetchone()[0] == 3


def test_only_overlapping_hours_are_read(tmp_path):
    """Window 10:00–10:15, lookback 15 min → hours 09 and 10 are read; an 07:00 event is not loaded."""
    write(tmp_path, [raw("07:00:00"), raw("09:50:00"), raw("10:05:00", OFFLINE)])
    con = duckdb.connect()
    assert load_state_log(con, tmp_path / "rta", t("10:00"), t("10:15")) == 2
    assert con.execute("SELECT min(event_ts) FROM agent_state_events").fetchone()[0] == t("09:50")


def test_connect_fixture_leaving_acw(tmp_path):
    """The fixture is the STATE_CHANGE that ends an ACW: current snapshot Available (no `Type`: derived ROUTABLE) with
    no contacts (idle); its previous snapshot holds the ENDED contact since 18:55:27.027. We replay that previous
    snapshot as an event at 18:55:27.027, the fixture at 18:55:32.032, and an Offline event at 18:57:00.

    Window 18:45–19:00: ACW 18:55:27.027–18:55:32.032 = 5.005 s; idle → 18:57:00 = 87.968 s; offline 180 s;
    online 92.973; covered 272.973. Queues BasicQueue and PrimaryQueue each get on_contact 5, idle 88,
    avg_avail_member_cnt 87.968 / 900 = 0.0977 → 0.1, wait_dur 88.
    """
    fixture = fixture_json("sample_agent_event.json")
    ended = fixture["PreviousAgentSnapshot"]["Contacts"][0]
    assert ended["State"] == "ENDED"
    previous = {**fixture, "EventId": "replayed-previous", "EventTimestamp": ended["StateStartTimestamp"],
                "CurrentAgentSnapshot": fixture["PreviousAgentSnapshot"], "PreviousAgentSnapshot": None}
    offline = json.loads(json.dumps(fixture))
    offline.update(EventId="offline", EventTimestamp="2018-10-25T18:57:00.000Z")
    offline["CurrentAgentSnapshot"]["AgentStatus"] = {"Name": "Offline"}
    events = [normalize_event(r, "shardId-000000000000", f"fx:{i:09d}") for i, r in enumerate([previous, fixture,
                                                                                                 offline], 1)]
    write_state_log(events, tmp_path / "rta", "fixture")
    con = duckdb.connect()
    start, end = datetime(2018, 10, 25, 18, 45), datetime(2018, 10, 25, 19)
    rebuild_agent_state(con, tmp_path / "rta", start, end)
    assert con.execute("SELECT bucket FROM agent_state_pieces WHERE event_id = ?",
                       [fixture["EventId"]]).fetchall() == [("idle",)]
    row = intervals(con)["18:45", "agent-ARN"]
    assert row["username"] == "(Removed)" and row["routing_profile_id"] == "routing-profile-ARN"
    assert secs(row, *ALL) == expect(online_s=92.973, on_contact_s=5.005, acw_s=5.005, idle_s=87.968,
                                     offline_s=180, covered_s=272.973)
    assert teleopti_queue_availability(con, start, end) == [
        {"interval_start": start, "queue_id": q, "avg_avail_member_cnt": 0.1, "wait_dur": 88}
        for q in ("queue-ARN-for-BasicQueue", "queue-ARN-for-PrimaryQueue")]
    assert con.execute("SELECT queue_id, on_contact_s, idle_s, agents FROM agent_state_queue_intervals "
                       "ORDER BY queue_id").fetchall() == [("queue-ARN-for-BasicQueue", 5, 88, 1),
                                                           ("queue-ARN-for-PrimaryQueue", 5, 88, 1)]


def test_queue_intervals_per_routing_profile_queue(tmp_path):
    """a1 serves q1+q2, a2 serves q2 only; both idle 09:00–09:05 then a1 on a contact 09:05–09:10, all Offline at
    09:10. Window 09:00–09:15. q1: idle 300, on contact 300 (a1 only); q2: idle 300 (a1) + 600 (a2) = 900, on
    contact 300, 2 agents, avg_avail_member_cnt 900 / 900 = 1.0 (one agent available on average). Offline time counts
    in no queue."""
    rows, con = build(tmp_path, [
        raw("09:00:00"), raw("09:00:00", agent="a2", queues=("q2",)),
        raw("09:05:00", contacts=("CONNECTED",)), raw("09:05:00", agent="a2", queues=("q2",), etype="HEART_BEAT"),
        raw("09:10:00", OFFLINE), raw("09:10:00", OFFLINE, agent="a2", queues=("q2",))], "09:00", "09:15")
    assert con.execute("SELECT queue_id, on_contact_s, idle_s, agents, avg_avail_member_cnt, wait_dur "
                       "FROM agent_state_queue_intervals ORDER BY queue_id").fetchall() == [
        ("q1", 300, 300, 1, 0.33, 300), ("q2", 300, 900, 2, 1.0, 900)]


def test_window_rebuild_is_idempotent(tmp_path):
    """Building 09:00–09:30 twice, or rebuilding only 09:15–09:30 afterwards, leaves the same rows (delete + insert
    of the window; the other interval untouched)."""
    raws = [raw("09:10:00"), raw("09:13:20", contacts=("CONNECTED",)), raw("09:16:40", contacts=("ENDED",)),
            raw("09:17:00"), raw("09:19:00", OFFLINE)]
    first, con = build(tmp_path, raws, "09:00", "09:30")
    pieces = con.execute("SELECT * FROM agent_state_pieces ORDER BY piece_start").fetchall()
    queues = con.execute("SELECT * FROM agent_state_queue_intervals ORDER BY ALL").fetchall()
    again, _ = build(tmp_path, [], "09:00", "09:30", con=con)
    assert again == first
    part, _ = build(tmp_path, [], "09:15", "09:30", con=con)
    assert part == first
    assert con.execute("SELECT * FROM agent_state_pieces ORDER BY piece_start").fetchall() == pieces
    assert con.execute("SELECT * FROM agent_state_queue_intervals ORDER BY ALL").fetchall() == queues


def test_window_must_be_aligned(tmp_path):
    con = duckdb.connect()
    load_state_log(con, tmp_path / "rta", t("09:00"), t("09:15"))
    with pytest.raises(ValueError):
        build_agent_state_intervals(con, t("09:05"), t("09:15"))
    with pytest.raises(ValueError):
        agent_state_queue_intervals(con, t("09:15"), t("09:15"))
