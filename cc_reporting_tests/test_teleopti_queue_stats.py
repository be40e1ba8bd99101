"""Every rule of teleopti-feed.md "Queue statistics", on hand-made legs with hand-computed expectations."""
from datetime import timedelta

from cc_reporting.models.teleopti import interval_stats

from .teleopti_legs import at, leg, stage


def stats(con, *records, sla=20, short=5, tz="UTC", start="09:00:00", end="10:00:00"):
    stage(con, *records)
    interval_stats.build_queue_stats(con, at(start), at(end), sla, short, tz)
    cur = con.execute("SELECT * FROM teleopti_queue_stats ORDER BY interval_start, queue")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def test_queued_leg_belongs_to_the_interval_containing_its_enqueue_timestamp(con):
    """09:14:59 → 09:00 row; 09:15:00 (the boundary) → 09:15 row."""
    rows = stats(con, leg("a", enqueue="09:14:59"), leg("b", enqueue="09:15:00"))
    assert [(r["time"], r["offd_direct_call_cnt"]) for r in rows] == [("09:00", 1), ("09:15", 1)]


def test_interval_date_and_time_fields_and_interval_length(con):
    row = stats(con, leg("a"))[0]
    assert (row["interval"], row["date"], row["time"]) == (15, "20260105", "09:00")


def test_leg_without_enqueue_timestamp_is_not_a_queued_leg(con):
    ivr_only = leg("ivr", queued=False, answered=False)
    rows = stats(con, ivr_only, leg("q"))
    assert sum(r["offd_direct_call_cnt"] + r["overflow_in_call_cnt"] for r in rows) == 1


def test_queue_id_is_the_arn_tail_and_an_agent_queue_has_an_empty_name(con):
    rows = stats(con, leg("a", queue="q-123"), leg("b", agent_queue=True, method="TRANSFER", agent="sam.lee"))
    assert {(r["queue"], r["queue_name"]) for r in rows} == {("q-123", "Billing"), ("sam.lee-id", "")}


def test_each_queued_leg_is_exactly_one_of_answered_abandoned_or_left_by_transfer_or_callback(con):
    """answered a; abandoned b; callback requested c (NextContactId); external transfer from queue d."""
    rows = stats(con, leg("a"), leg("b", answered=False), leg("c", answered=False, next_contact="cb"),
                 leg("d", answered=False, transfer_completed=True))
    r = rows[0]
    assert (r["answ_call_cnt"], r["aband_call_cnt"], r["left_unanswered_cnt"]) == (1, 1, 2)


def test_offered_direct_excludes_transfer_and_queue_transfer_which_are_overflow_in(con):
    """INBOUND, CALLBACK, API count as offered direct (3); TRANSFER and QUEUE_TRANSFER as overflow in (2)."""
    rows = stats(con, leg("a"), leg("b", method="CALLBACK"), leg("c", method="API"),
                 leg("d", method="TRANSFER"), leg("e", method="QUEUE_TRANSFER"))
    assert (rows[0]["offd_direct_call_cnt"], rows[0]["overflow_in_call_cnt"]) == (3, 2)


def test_overflow_out_counts_queued_legs_with_next_contact_or_external_transfer(con):
    """Answered-then-transferred a, callback request b, external transfer c, plain answered d → 3."""
    rows = stats(con, leg("a", next_contact="x"), leg("b", answered=False, next_contact="cb"),
                 leg("c", transfer_completed=True), leg("d"))
    assert rows[0]["overflow_out_call_cnt"] == 3


def test_durations_talk_includes_hold_and_wrap_up_is_acw_over_answered_legs(con):
    """a: q 8, talk 200, hold 30, acw 20; b: q 12, talk 100, hold 0, acw 40; abandoned c q 7, d q 9.
    queued_and_answ 8+12=20; queued_and_aband 7+9=16; talking (200+30)+(100+0)=330; wrap_up 20+40=60;
    longest answered 12, longest abandoned 9."""
    rows = stats(con, leg("a", queue_duration=8, talk=200, hold=30, acw=20),
                 leg("b", queue_duration=12, talk=100, hold=0, acw=40),
                 leg("c", answered=False, queue_duration=7), leg("d", answered=False, queue_duration=9))
    r = rows[0]
    assert (r["queued_and_answ_call_dur"], r["queued_and_aband_call_dur"], r["talking_call_dur"],
            r["wrap_up_dur"], r["queued_answ_longest_que_dur"], r["queued_aband_longest_que_dur"]) == (
        20, 16, 330, 60, 12, 9)


def test_longest_queue_duration_over_no_legs_is_zero(con):
    r = stats(con, leg("a", queue_duration=30))[0]
    assert (r["queued_aband_longest_que_dur"], r["queued_and_aband_call_dur"]) == (0, 0)


def test_answered_service_level_counts_queue_duration_exactly_at_the_sla(con):
    """SLA 20: 19 and 20 are within, 21 is not → 2."""
    rows = stats(con, leg("a", queue_duration=19), leg("b", queue_duration=20), leg("c", queue_duration=21))
    assert rows[0]["ans_servicelevel_cnt"] == 2


def test_service_level_threshold_is_the_sla_setting(con):
    rows = stats(con, leg("a", queue_duration=19), leg("b", queue_duration=20), leg("c", queue_duration=21), sla=19)
    assert rows[0]["ans_servicelevel_cnt"] == 1


def test_short_abandon_is_strictly_below_the_short_threshold(con):
    """SHORT 5: an abandon at 4 s is short, at 5 s it is not."""
    rows = stats(con, leg("a", answered=False, queue_duration=4), leg("b", answered=False, queue_duration=5))
    assert (rows[0]["aband_short_call_cnt"], rows[0]["aband_call_cnt"]) == (1, 2)


def test_abandoned_within_sl_spans_short_to_sla_inclusive_and_excludes_short_abandons(con):
    """4 (short, excluded), 5 (in), 20 (in), 21 (out) → 2."""
    rows = stats(con, *[leg(f"l{d}", answered=False, queue_duration=d) for d in (4, 5, 20, 21)])
    assert rows[0]["aband_within_sl_cnt"] == 2


def test_abandon_thresholds_follow_the_settings(con):
    rows = stats(con, *[leg(f"l{d}", answered=False, queue_duration=d) for d in (4, 5, 20, 21)], sla=30, short=10)
    assert (rows[0]["aband_short_call_cnt"], rows[0]["aband_within_sl_cnt"]) == (2, 2)


def test_null_queue_duration_counts_in_its_outcome_but_never_within_sla(con):
    rows = stats(con, leg("a", queue_duration=None), leg("b", answered=False, queue_duration=None))
    r = rows[0]
    counts = (r["answ_call_cnt"], r["aband_call_cnt"], r["ans_servicelevel_cnt"], r["aband_short_call_cnt"])
    assert counts == (1, 1, 0, 0)
    assert r["null_queue_duration_cnt"] == 2


def test_agent_state_fields_are_zero_without_agent_state_data(con):
    r = stats(con, leg("a"))[0]
    assert (r["avg_avail_member_cnt"], r["wait_dur"]) == (0, 0)


def test_one_row_per_queue_with_a_queued_leg_and_none_for_quiet_queues(con):
    rows = stats(con, leg("a", queue="q1"), leg("b", queue="q2", enqueue="09:20:00"))
    assert [(r["time"], r["queue"]) for r in rows] == [("09:00", "q1"), ("09:15", "q2")]


def test_invariant_offered_plus_overflow_in_equals_outcomes(con):
    rows = stats(con, leg("a"), leg("b", answered=False), leg("c", method="TRANSFER", answered=False, next_contact="n"),
                 leg("d", method="QUEUE_TRANSFER"))
    r = rows[0]
    assert r["offd_direct_call_cnt"] + r["overflow_in_call_cnt"] == (
        r["answ_call_cnt"] + r["aband_call_cnt"] + r["left_unanswered_cnt"]) == 4


def test_kpis_worked_example_queue_row(con):
    """kpis.md §6: ten legs of queue Q in 09:00-09:15, SLA 20, SHORT 5. Expected (from the spec):
    offd 9, overflow_in 1, answ 6, aband 3, overflow_out 2 (legs 4, 9), aband_short 1, aband_within_sl 1 (leg 7),
    ans_servicelevel 4 (legs 1, 2, 5, 10), queued_and_answ 8+15+25+40+10+5 = 103,
    talking (200+0)+(300+60)+(100+0)+(250+30)+(150+0)+(200+10) = 1300, wrap_up 30+40+20+50+10+0 = 150."""
    legs = [
        leg("1", queue_duration=8, talk=200, hold=0, acw=30), leg("2", queue_duration=15, talk=300, hold=60, acw=40),
        leg("3", queue_duration=25, talk=100, hold=0, acw=20),
        leg("4", queue_duration=40, talk=250, hold=30, acw=50, next_contact="4b"),
        leg("5", method="TRANSFER", queue_duration=10, talk=150, hold=0, acw=10),
        leg("6", answered=False, queue_duration=3), leg("7", answered=False, queue_duration=12),
        leg("8", answered=False, queue_duration=60), leg("9", answered=False, queue_duration=30, next_contact="cb9"),
        leg("10", queue_duration=5, talk=200, hold=10, acw=0),
    ]
    r = stats(con, *legs)[0]
    assert {k: r[k] for k in ("offd_direct_call_cnt", "overflow_in_call_cnt", "answ_call_cnt", "aband_call_cnt",
                              "overflow_out_call_cnt", "aband_short_call_cnt", "aband_within_sl_cnt",
                              "ans_servicelevel_cnt", "queued_and_answ_call_dur", "talking_call_dur",
                              "wrap_up_dur")} == {
        "offd_direct_call_cnt": 9, "overflow_in_call_cnt": 1, "answ_call_cnt": 6, "aband_call_cnt": 3,
        "overflow_out_call_cnt": 2, "aband_short_call_cnt": 1, "aband_within_sl_cnt": 1, "ans_servicelevel_cnt": 4,
        "queued_and_answ_call_dur": 103, "talking_call_dur": 1300, "wrap_up_dur": 150}


def test_report_time_zone_gives_local_date_and_time(con):
    """08:45 UTC on 5 Jan is 09:45 in Stockholm (CET, UTC+1); 23:30 UTC is 00:30 on the 6th."""
    rows = stats(con, leg("a", enqueue="08:50:00"), leg("b", enqueue="23:31:00"), tz="Europe/Stockholm",
                 start="00:00:00", end="23:59:59")
    assert [(r["date"], r["time"]) for r in rows] == [("20260105", "09:45"), ("20260106", "00:30")]


def test_rebuilding_a_window_replaces_its_rows(con):
    stats(con, leg("a"))
    interval_stats.build_queue_stats(con, at("09:00:00"), at("10:00:00"), 20, 5, "UTC")
    assert con.execute("SELECT count(*) FROM teleopti_queue_stats").fetchone()[0] == 1
    con.execute("DELETE FROM stg_ctr")
    interval_stats.build_queue_stats(con, at("09:00:00"), at("10:00:00"), 20, 5, "UTC")
    assert con.execute("SELECT count(*) FROM teleopti_queue_stats").fetchone()[0] == 0


def test_rows_outside_the_window_are_untouched(con):
    stats(con, leg("a", enqueue="08:10:00"), leg("b"), start="08:00:00", end="10:00:00")
    interval_stats.build_queue_stats(con, at("09:00:00"), at("09:00:00") + timedelta(minutes=15), 20, 5, "UTC")
    assert con.execute("SELECT count(*) FROM teleopti_queue_stats").fetchone()[0] == 2
