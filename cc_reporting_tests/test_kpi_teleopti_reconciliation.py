"""kpi_interval counts reconcile with the Teleopti queue statistics built from the same legs (kpis.md section 6)."""

from cc_reporting.models.kpi import marts
from cc_reporting.models.teleopti import interval_stats

from . import teleopti_legs
from .kpi_rows import at, create_jar, settings, worked_example


def staged_worked_example(con):
    """The same eleven legs through the real staging path (contact records), queue id Q."""
    q = dict(queue="Q", queue_name="Q name")
    teleopti_legs.stage(con,
            teleopti_legs.leg("1", "09:00:10", 8, talk=200, hold=0, acw=30, **q),
            teleopti_legs.leg("2", "09:01:10", 15, talk=300, hold=60, acw=40, **q),
            teleopti_legs.leg("3", "09:02:10", 25, talk=100, hold=0, acw=20, **q),
            teleopti_legs.leg("4", "09:03:10", 40, talk=250, hold=30, acw=50, next_contact="x", **q),
            teleopti_legs.leg("5", "09:04:10", 10, talk=150, hold=0, acw=10, method="TRANSFER", **q),
            teleopti_legs.leg("6", "09:05:10", 3, answered=False, **q),
            teleopti_legs.leg("7", "09:06:10", 12, answered=False, **q),
            teleopti_legs.leg("8", "09:07:10", 60, answered=False, **q),
            teleopti_legs.leg("9", "09:08:10", 30, answered=False, next_contact="cb9", **q),
            teleopti_legs.leg("10", "09:09:10", 5, talk=200, hold=10, acw=0, **q),
            teleopti_legs.leg("cb9", "11:00:00", 10, talk=100, hold=0, acw=20, method="CALLBACK", **q))


def build_both(con, jar_rows):
    staged_worked_example(con)
    interval_stats.build_queue_stats(con, teleopti_legs.at("09:00:00"), teleopti_legs.at("12:00:00"), 20, 5, "UTC")
    create_jar(con, jar_rows)
    marts.build_kpi_interval(con, settings(), at("09:00:00"), at("12:00:00"))


def test_worked_example_kpi_counts_equal_the_teleopti_queue_row(con):
    """Teleopti 09:00 row for Q: offered 9, overflow in 1, answered 6, abandoned 3, short 1, within SL 4 answered /
    1 abandoned, queued-and-answered 103 s, talking 1300 s (talk + hold), wrap-up 150 s; and the 11:00 callback
    leg on both sides. Every pair agrees."""
    build_both(con, worked_example())
    row = con.execute("SELECT offd_direct_call_cnt, overflow_in_call_cnt, answ_call_cnt, aband_call_cnt, "
                      "talking_call_dur FROM teleopti_queue_stats WHERE queue = 'Q' AND time = '09:00'").fetchall()
    assert row == [(9, 1, 6, 3, 1300)]
    assert marts.kpi_vs_teleopti_mismatches(con, at("09:00:00"), at("12:00:00")) == []


def test_a_missing_leg_is_reported_measure_by_measure(con):
    """Leg 7 (abandoned within SL, 12 s) missing from jar: abandoned 2 vs 3, abandoned_within_sla 0 vs 1, offered
    8 vs 9; nothing else differs."""
    build_both(con, [r for r in worked_example() if r["SessionId"] != "7"])
    got = marts.kpi_vs_teleopti_mismatches(con, at("09:00:00"), at("12:00:00"))
    nine = at("09:00:00")
    assert [(m["interval_start"], m["queue_id"], m["kpi_column"], m["kpi_value"], m["teleopti_value"])
            for m in got] == [(nine, "Q", "abandoned", 2, 3), (nine, "Q", "abandoned_within_sla", 0, 1),
                              (nine, "Q", "offered", 8, 9)]
    assert {m["teleopti_column"] for m in got} == {"aband_call_cnt", "aband_within_sl_cnt", "offd_direct_call_cnt"}


def test_a_row_on_one_side_only_is_compared_with_zeros(con):
    """No Teleopti table at all: every non-zero KPI measure of the 11:00 callback row is a mismatch (10 pairs,
    minus short abandons and abandons which are 0 on both sides)."""
    create_jar(con, worked_example())
    marts.build_kpi_interval(con, settings(), at("11:00:00"), at("11:15:00"))
    got = marts.kpi_vs_teleopti_mismatches(con, at("11:00:00"), at("11:15:00"))
    assert {m["kpi_column"] for m in got} == {"offered", "answered", "answered_within_sla", "queue_answered_s",
                                              "talk_s + hold_s", "acw_s"}
    assert all(m["teleopti_value"] == 0 for m in got)


def test_the_real_jar_refresh_of_the_same_contact_records_reconciles(con):
    """End to end: the staged records → `refresh_jar` → kpi_interval; the worked example's 09:00 counts come out
    (queued 10, answered 6, SL 4/9) and equal the Teleopti queue statistics, pair by pair."""
    from cc_reporting.models.analytics.jar import refresh_jar

    staged_worked_example(con)
    interval_stats.build_queue_stats(con, teleopti_legs.at("09:00:00"), teleopti_legs.at("12:00:00"), 20, 5, "UTC")
    refresh_jar(con, settings(), teleopti_legs.at("23:00:00"))
    marts.build_kpi_interval(con, settings(), at("09:00:00"), at("12:00:00"))
    got = con.execute("SELECT queued, answered, answered_within_sla, erlang_c_required_agents FROM kpi_interval "
                      "WHERE interval_start = ?", [at("09:00:00")]).fetchall()
    assert got == [(10, 6, 4, 5)]
    assert marts.kpi_vs_teleopti_mismatches(con, at("09:00:00"), at("12:00:00")) == []
