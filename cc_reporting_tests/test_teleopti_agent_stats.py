"""teleopti-feed.md "Agent queue statistics" and "Agent performance statistics"."""

from cc_reporting.models.teleopti import interval_stats

from .teleopti_legs import at, leg, stage

REPORT_COLUMNS = "agent_username, interval_start, interval_end, agent_name, online_s, non_productive_s, idle_s, " \
                 "on_contact_s, occupancy, source_key, source_last_modified, ingested_at"




def rows(con, table):
    cur = con.execute(f"SELECT * FROM {table} ORDER BY interval_start, agent_id")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def report_row(con, agent, start, online, pause, idle, name=None):
    con.execute(f"INSERT INTO stg_agent_report ({REPORT_COLUMNS}) VALUES (?, ?, ? + INTERVAL 30 MINUTE, ?, ?, ?, ?, "
                "NULL, NULL, 'r', now(), now())", [agent, at(start), at(start), name, online, pause, idle])


def test_agent_queue_row_sums_answered_legs_of_that_agent_and_queue(con):
    """jane/q1: a (talk 100+hold 10, acw 20) and b (talk 50, acw 5, transferred) → talking 160, wrap 25, 2, 1;
    jane/q2: c → 1 row; sam/q1: d; the abandoned e makes no row."""
    stage(con, leg("a", talk=100, hold=10, acw=20), leg("b", talk=50, acw=5, next_contact="x"),
          leg("c", queue="q2"), leg("d", agent="sam.lee"), leg("e", answered=False))
    interval_stats.build_agent_queue_stats(con, at("09:00:00"), at("09:15:00"), "UTC")
    got = [(r["agent_id"], r["queue"], r["talking_call_dur"], r["wrap_up_dur"], r["answ_call_cnt"],
            r["transfer_out_call_cnt"]) for r in rows(con, "teleopti_agent_queue_stats")]
    assert sorted(got) == [("jane.doe", "q-billing", 160, 25, 2, 1), ("jane.doe", "q2", 100, 20, 1, 0),
                           ("sam.lee", "q-billing", 100, 20, 1, 0)]


def test_agent_name_falls_back_to_agent_id_without_agent_events(con):
    stage(con, leg("a"))
    interval_stats.build_agent_queue_stats(con, at("09:00:00"), at("09:15:00"), "UTC")
    assert rows(con, "teleopti_agent_queue_stats")[0]["agent_name"] == "jane.doe"


def test_report_row_splits_into_two_rows_the_first_half_taking_the_odd_second(con):
    """Online 1801, NPT 301, idle 421: avail = 1801-301 = 1500.
    09:00 row: tot ceil(1801/2)=901, pause 151, avail 750, wait 211; 09:15 row: 900, 150, 750, 210."""
    stage(con)
    report_row(con, "jane.doe", "09:00:00", 1801, 301, 421, "Jane Doe")
    interval_stats.build_agent_performance(con, at("09:00:00"), at("09:30:00"), "UTC")
    got = [(r["time"], r["agent_name"], r["tot_work_dur"], r["pause_dur"], r["avail_dur"], r["wait_dur"],
            r["admin_dur"]) for r in rows(con, "teleopti_agent_performance")]
    assert got == [("09:00", "Jane Doe", 901, 151, 750, 211, 0), ("09:15", "Jane Doe", 900, 150, 750, 210, 0)]


def test_avail_is_online_minus_non_productive_before_halving(con):
    """Online 1800, NPT 301 → avail 1499 → 750 + 749 (not 900-151 = 749 in the first half)."""
    stage(con)
    report_row(con, "jane.doe", "09:00:00", 1800, 301, 0)
    interval_stats.build_agent_performance(con, at("09:00:00"), at("09:30:00"), "UTC")
    assert [r["avail_dur"] for r in rows(con, "teleopti_agent_performance")] == [750, 749]


def test_missing_non_productive_time_counts_as_zero(con):
    stage(con)
    report_row(con, "sam.lee", "09:00:00", 1200, None, 300)
    interval_stats.build_agent_performance(con, at("09:00:00"), at("09:30:00"), "UTC")
    assert [(r["pause_dur"], r["avail_dur"]) for r in rows(con, "teleopti_agent_performance")] == [(0, 600), (0, 600)]


def test_only_agents_with_online_time_get_a_row(con):
    """Online 1 s: only the first half has online time; online 0 → no row."""
    stage(con)
    report_row(con, "jane.doe", "09:00:00", 1, 0, 0)
    report_row(con, "sam.lee", "09:00:00", 0, 0, 0)
    interval_stats.build_agent_performance(con, at("09:00:00"), at("09:30:00"), "UTC")
    assert [(r["agent_id"], r["time"]) for r in rows(con, "teleopti_agent_performance")] == [("jane.doe", "09:00")]


def test_direct_out_calls_are_outbound_legs_by_agent_connected_time(con):
    """Outbound o1 connected 09:14:50 (talk 60 + hold 5) → 09:00 row: 1 call, 65 s; o2 at 09:15:10 → 09:15 row."""
    stage(con, leg("o1", enqueue="09:14:50", queue_duration=0, method="OUTBOUND", queued=False, talk=60, hold=5),
          leg("o2", enqueue="09:15:10", queue_duration=0, method="OUTBOUND", queued=False, talk=30))
    report_row(con, "jane.doe", "09:00:00", 1800, 0, 0)
    interval_stats.build_agent_performance(con, at("09:00:00"), at("09:30:00"), "UTC")
    assert [(r["time"], r["direct_out_call_cnt"], r["direct_out_call_dur"]) for r in
            rows(con, "teleopti_agent_performance")] == [("09:00", 1, 65), ("09:15", 1, 30)]


def test_direct_in_calls_are_answered_legs_from_an_agent_queue(con):
    """Agent-queue leg (talk 40 + hold 2) counts; a normal queue leg does not."""
    stage(con, leg("t", method="TRANSFER", agent_queue=True, talk=40, hold=2), leg("n"))
    report_row(con, "jane.doe", "09:00:00", 1800, 0, 0)
    interval_stats.build_agent_performance(con, at("09:00:00"), at("09:30:00"), "UTC")
    first = rows(con, "teleopti_agent_performance")[0]
    assert (first["direct_in_call_cnt"], first["direct_in_call_dur"]) == (1, 42)
