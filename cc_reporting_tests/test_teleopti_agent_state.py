"""Teleopti statistics from the agent-state timeline (teleopti-feed.md; issue: true 15-minute agent time)."""


from cc_reporting.models.teleopti import interval_stats
from cc_reporting.realtime import rebuild_agent_state, write_state_log
from cc_reporting.realtime.agent_event_record import normalize_event

from .teleopti_legs import at, leg, stage
from .test_agent_state import AVAILABLE, BREAK, raw


def log(tmp_path, raws):
    write_state_log([normalize_event(r, "shardId-000000000000", f"log:{i + 1:09d}") for i, r in enumerate(raws)],
                    tmp_path / "rta")


def test_agent_performance_uses_the_state_timeline_where_events_cover_the_interval(con, tmp_path):
    """user.a1: events from 08:50 (Available), Break 09:05-09:10, Available again until 09:30 (heartbeats).
    09:00 interval covered: online 900, pause 300, avail 600, wait (idle) 600 → source 'agent events'.
    The report row for 09:00-09:30 says online 1800/NPT 0 — used only where events do not cover."""
    raws = [raw("08:50:00", agent="a1"), raw("08:52:00", etype="HEART_BEAT", agent="a1"),
            raw("08:54:00", etype="HEART_BEAT", agent="a1"), raw("08:56:00", etype="HEART_BEAT", agent="a1"),
            raw("08:58:00", etype="HEART_BEAT", agent="a1"), raw("09:00:00", etype="HEART_BEAT", agent="a1"),
            raw("09:02:00", etype="HEART_BEAT", agent="a1"), raw("09:04:00", etype="HEART_BEAT", agent="a1"),
            raw("09:05:00", status=BREAK, agent="a1"), raw("09:07:00", status=BREAK, etype="HEART_BEAT", agent="a1"),
            raw("09:09:00", status=BREAK, etype="HEART_BEAT", agent="a1"),
            raw("09:10:00", status=AVAILABLE, agent="a1"),
            raw("09:12:00", etype="HEART_BEAT", agent="a1"), raw("09:14:00", etype="HEART_BEAT", agent="a1"),
            raw("09:16:00", etype="HEART_BEAT", agent="a1")]
    log(tmp_path, raws)
    stage(con)
    con.execute("""INSERT INTO stg_agent_report (agent_username, interval_start, interval_end, online_s,
                   non_productive_s, idle_s, source_key, source_last_modified, ingested_at)
                   VALUES ('user.a1', ?, ? + INTERVAL 30 MINUTE, 1800, 0, 1800, 'r', now(), now())""",
                [at("09:00:00"), at("09:00:00")])
    rebuild_agent_state(con, tmp_path / "rta", at("09:00:00"), at("09:15:00"))
    interval_stats.build_agent_performance(con, at("09:00:00"), at("09:30:00"), "UTC")
    rows = con.execute("""SELECT time, agent_name, tot_work_dur, pause_dur, avail_dur, wait_dur, source
                          FROM teleopti_agent_performance ORDER BY time""").fetchall()
    assert rows[0] == ("09:00", "First A1", 900, 300, 600, 600, "agent events")
    assert rows[1] == ("09:15", "user.a1", 900, 0, 900, 900, "report split")


def test_queue_stats_take_available_members_and_wait_from_the_agent_state(con, tmp_path):
    """Agents a1 and a2 serve q1 and are Available and idle for the whole 09:00 interval (events every 2 min):
    wait_dur = 900 + 900 = 1800; avg_avail_member_cnt = 1800 / 900 = 2. Queue q-billing (not served) stays 0."""
    raws = []
    for agent in ("a1", "a2"):
        raws.append(raw("08:58:00", agent=agent, queues=("q1",)))
        raws += [raw(f"09:{m:02d}:00", etype="HEART_BEAT", agent=agent, queues=("q1",)) for m in range(0, 16, 2)]
    log(tmp_path, raws)
    stage(con, leg("x", queue="q1", queue_name="Q1"), leg("y", queue="q-billing"))
    rebuild_agent_state(con, tmp_path / "rta", at("09:00:00"), at("09:15:00"))
    interval_stats.build_queue_stats(con, at("09:00:00"), at("09:15:00"), 20, 5, "UTC")
    got = dict((q, (a, w)) for q, a, w in con.execute(
        "SELECT queue, avg_avail_member_cnt, wait_dur FROM teleopti_queue_stats").fetchall())
    assert got == {"q1": (2.0, 1800), "q-billing": (0.0, 0)}
