"""kpi_interval (kpis.md sections 1–5) on hand-made `jar` rows with hand-computed expectations."""
import math
from datetime import timedelta

import duckdb
import pytest

from cc_reporting.models.kpi import marts
from cc_reporting.models.kpi.marts_sql import COUNT_COLUMNS, IVR_COLUMNS, RATE_COLUMNS

from .kpi_rows import DAY, at, create_agent_state, create_jar, fetch, queued_leg, row, settings, worked_example


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def build(con, rows, start="00:00:00", end="23:45:00", agent_state=None, **kw):
    create_jar(con, rows)
    if agent_state is not None:
        create_agent_state(con, agent_state)
    con.execute("BEGIN TRANSACTION")
    n = marts.build_kpi_interval(con, settings(**kw), at(start), at(end))
    con.execute("COMMIT")
    return n


def rows_of(con, where="true"):
    return fetch(con, f"SELECT * FROM kpi_interval WHERE {where} ORDER BY interval_start, queue_id")


def one(con, start, queue="Q"):
    found = fetch(con, "SELECT * FROM kpi_interval WHERE interval_start = ? AND queue_id = ?", [at(start), queue])
    assert len(found) == 1
    return found[0]


def test_worked_example_counts_rates_occupancy_and_erlang(con):
    """kpis.md section 6, every number. Sums: queue 8+15+25+40+10+5 = 103; talk 200+300+100+250+150+200 = 1200;
    hold 0+60+0+30+0+10 = 100; ACW 30+40+20+50+10+0 = 150. Occupancy: agents 700/100 and 500/200 s → 1200/1500.
    Erlang: A = 10·241.67/900 = 2.69 → N = 5."""
    build(con, worked_example(), agent_state=[(at("09:00:00"), "Q", 700, 100), (at("09:00:00"), "Q", 500, 200)])
    r = one(con, "09:00:00")
    assert (r["interval_key"], r["interval_start_local"], r["queue_name"]) == ("2026-01-05-09:00", at("09:00:00"),
                                                                              "Q name")
    counts = {c: r[c] for c in ["queued", "offered", "overflow_in", "answered", "abandoned", "short_abandons",
                                "unanswered_transferred", "answered_within_sla", "abandoned_within_sla",
                                "left_queue_within_sla", "transferred_out", "callback_requests", "queue_answered_s",
                                "talk_s", "hold_s", "acw_s", "fcr_eligible", "fcr_resolved", "fcr_provisional",
                                "csat_responses", "csat_top2", "csat_sum", "on_contact_s", "idle_s"]}
    assert counts == dict(queued=10, offered=9, overflow_in=1, answered=6, abandoned=3, short_abandons=1,
                          unanswered_transferred=1, answered_within_sla=4, abandoned_within_sla=1,
                          left_queue_within_sla=6, transferred_out=1, callback_requests=1, queue_answered_s=103,
                          talk_s=1200, hold_s=100, acw_s=150, fcr_eligible=5, fcr_resolved=4, fcr_provisional=5,
                          csat_responses=3, csat_top2=2, csat_sum=11, on_contact_s=1200, idle_s=300)
    expected = dict(service_level=4 / 9, service_level_connect=0.6, asa_s=103 / 6, aht_s=1450 / 6,
                    avg_talk_s=200.0, avg_hold_s=100 / 6, avg_acw_s=25.0, abandonment_rate=0.3,
                    abandonment_rate_excl_short=2 / 9, transfer_rate=1 / 6, callback_rate=0.1, csat_top2_rate=2 / 3,
                    csat_mean=11 / 3, fcr_rate=0.8, occupancy=0.8)
    for name, value in expected.items():
        assert r[name] == pytest.approx(value), name
    assert round(r["service_level"], 3) == 0.444 and round(r["aht_s"], 1) == 241.7
    assert r["erlang_c_required_agents"] == 5
    # The IVR columns belong to the daily IVR channel row only.
    assert all(r[c] is None for c in IVR_COLUMNS + ["digital_offer_rate", "digital_acceptance_rate",
                                                    "ivr_containment_rate"])


def test_everything_a_leg_contributes_goes_to_the_interval_of_its_enqueue_time(con):
    """Leg 1 starts its session at 08:59:40 but enqueues at 09:00:10 → 09:00 row; the callback leg (11:00) and the
    repeat call two days later have rows of their own; nothing lands in 08:45."""
    build(con, worked_example(), end="23:45:00")
    keys = [(r["interval_key"], r["queued"]) for r in rows_of(con)]
    assert keys == [("2026-01-05-09:00", 10), ("2026-01-05-11:00", 1)]
    create_jar(con, worked_example())
    marts.build_kpi_interval(con, settings(), at("00:00:00", DAY + timedelta(days=2)),
                         at("23:45:00", DAY + timedelta(days=2)))
    assert [r["interval_key"] for r in rows_of(con, "interval_start >= TIMESTAMP '2026-01-07'")] == \
        ["2026-01-07-10:00"]


def test_boundary_enqueue_at_quarter_hour_belongs_to_the_new_interval(con):
    """09:14:59 → 09:00; 09:15:00 → 09:15."""
    build(con, [queued_leg("a", "09:14:59"), queued_leg("b", "09:15:00")])
    assert [(r["interval_key"], r["queued"]) for r in rows_of(con)] == [("2026-01-05-09:00", 1),
                                                                      ("2026-01-05-09:15", 1)]


def test_queues_are_separate_rows(con):
    build(con, [queued_leg("a", queue="Q1"), queued_leg("b", queue="Q2"), queued_leg("c", queue="Q2")])
    assert [(r["queue_id"], r["queued"]) for r in rows_of(con)] == [("Q1", 1), ("Q2", 2)]


def test_zero_denominators_give_null_never_zero_or_nan(con):
    """One short abandon (QueueTime 3): queued 1 = short_abandons 1 → service_level 0/0 null,
    abandonment_rate_excl_short (1−1)/(1−1) null; nothing answered → ASA, AHT, averages, transfer rate null; no
    FCR/CSAT rows → null; no agent-state table → occupancy null. Defined: abandonment 1/1, connect SL 1/1
    (3 <= 20), callback 0/1. Erlang: λ 1 but AHT null → null."""
    build(con, [queued_leg("a", outcome="abandoned", queue_time=3)])
    r = one(con, "09:00:00")
    assert (r["queued"], r["abandoned"], r["short_abandons"]) == (1, 1, 1)
    defined = {"abandonment_rate": 1.0, "service_level_connect": 1.0, "callback_rate": 0.0}
    for name in RATE_COLUMNS:
        if name in defined:
            assert r[name] == defined[name], name
        else:
            assert r[name] is None, name
    assert r["erlang_c_required_agents"] is None
    assert (r["on_contact_s"], r["idle_s"]) == (None, None)
    assert not any(isinstance(r[c], float) and math.isnan(r[c]) for c in r)


def test_null_queue_time_counts_in_its_outcome_never_within_sla_and_adds_zero(con):
    """Answered leg and abandoned leg with null QueueTime, plus an answered leg with QueueTime 12:
    answered 2, abandoned 1, short 0 (unknown is not short); within SLA only the 12 s leg → answered_within_sla 1,
    left_queue_within_sla 1; queue_answered_s 12 (null adds 0) → ASA 12/2 = 6.0; service_level 1/(3−0)."""
    build(con, [queued_leg("a", queue_time=None), queued_leg("b", outcome="abandoned", queue_time=None),
                queued_leg("c", queue_time=12)])
    r = one(con, "09:00:00")
    assert (r["answered"], r["abandoned"], r["short_abandons"], r["answered_within_sla"],
            r["left_queue_within_sla"], r["queue_answered_s"]) == (2, 1, 0, 1, 1, 12)
    assert r["asa_s"] == 6.0 and r["service_level"] == pytest.approx(1 / 3)
    assert marts.null_queue_time_legs(con, at("09:00:00"), at("09:15:00")) == 2


def test_null_durations_add_zero_but_the_leg_still_counts(con):
    """Answered legs: (talk 100, hold null, ACW null) and (talk null, hold 10, ACW 20) → talk 100, hold 10, ACW 20,
    answered 2 → AHT 130/2 = 65.0."""
    build(con, [queued_leg("a", talk=100, hold=None, acw=None), queued_leg("b", talk=None, hold=10, acw=20)])
    r = one(con, "09:00:00")
    assert (r["answered"], r["talk_s"], r["hold_s"], r["acw_s"], r["aht_s"]) == (2, 100, 10, 20, 65.0)


def test_agent_state_alone_makes_a_row_with_zero_counts_and_erlang_zero(con):
    """Q2 has agents logged in at 10:00 but no legs: a row with every count 0, rates over counts null,
    occupancy 300/(300+600) = 1/3, Erlang 0 (λ = 0). Its name comes from Q2's legs at other times."""
    build(con, [queued_leg("a", queue="Q2")], agent_state=[(at("10:00:00"), "Q2", 300, 600)])
    r = one(con, "10:00:00", "Q2")
    assert r["queue_name"] == "Q2 name"
    assert all(r[c] == 0 for c in COUNT_COLUMNS if c not in IVR_COLUMNS + ["on_contact_s", "idle_s"])
    assert r["occupancy"] == pytest.approx(1 / 3) and r["service_level"] is None and r["aht_s"] is None
    assert r["erlang_c_required_agents"] == 0


def test_rows_without_agent_state_have_null_occupancy_even_when_the_table_exists(con):
    """Agent-state data only for 09:00; the 10:00 row has none → on_contact_s, idle_s, occupancy null."""
    build(con, [queued_leg("a", "09:05:00"), queued_leg("b", "10:05:00")],
          agent_state=[(at("09:00:00"), "Q", 100, 100)])
    assert one(con, "09:00:00")["occupancy"] == 0.5
    late = one(con, "10:00:00")
    assert (late["on_contact_s"], late["idle_s"], late["occupancy"]) == (None, None, None)


def test_outbound_and_unqueued_rows_are_not_in_the_queue_population(con):
    """A non-queued row with AgentSkillId null is outside P; only the queued leg counts."""
    build(con, [queued_leg("a"), row("ivr", "IVR", initiation_method="INBOUND"),
                row("out", "VOICE", initiation_method="OUTBOUND", is_outbound=1)])
    assert [(r["queue_id"], r["queued"]) for r in rows_of(con)] == [("Q", 1)]


def test_window_replacement_is_idempotent_and_removes_stale_rows(con):
    """Build 09:00–10:00 twice → identical rows. Then leg b disappears from jar (updated record moved it) and the
    window is rebuilt: the 09:30 row goes; the 11:00 row, outside the window, is left alone."""
    rows = [queued_leg("a", "09:05:00"), queued_leg("b", "09:35:00"), queued_leg("c", "11:05:00")]
    build(con, rows)
    first = rows_of(con)
    con.execute("BEGIN")
    assert marts.build_kpi_interval(con, settings(), at("09:00:00"), at("10:00:00")) == 2
    con.execute("COMMIT")
    assert rows_of(con) == first
    con.execute("DELETE FROM jar WHERE \"SessionId\" IN ('b', 'c')")
    marts.build_kpi_interval(con, settings(), at("09:00:00"), at("10:00:00"))
    assert [r["interval_key"] for r in rows_of(con)] == ["2026-01-05-09:00", "2026-01-05-11:00"]


def test_rollback_of_the_callers_transaction_keeps_the_old_rows(con):
    build(con, [queued_leg("a")])
    before = rows_of(con)
    con.execute("BEGIN")
    con.execute("DELETE FROM jar")
    marts.build_kpi_interval(con, settings(), at("09:00:00"), at("10:00:00"))
    assert rows_of(con) == []
    con.execute("ROLLBACK")
    assert rows_of(con) == before


def test_tz_aware_window_bounds_are_read_as_utc(con):
    from datetime import timezone
    create_jar(con, [queued_leg("a", "09:05:00")])
    start = at("10:00:00").replace(tzinfo=timezone(timedelta(hours=1)))  # 09:00 UTC
    assert marts.build_kpi_interval(con, settings(), start, start + timedelta(minutes=15)) == 1


def test_left_queue_within_sla_uses_the_sla_setting_of_the_build(con):
    """QueueTime 25: outside SLA 20, inside SLA 30 (the jar flags are the JAR's; this count is the mart's)."""
    build(con, [queued_leg("a", queue_time=25)])
    assert one(con, "09:00:00")["left_queue_within_sla"] == 0
    build(con, [queued_leg("a", queue_time=25)], sla=30)
    assert one(con, "09:00:00")["left_queue_within_sla"] == 1


def test_local_interval_start_follows_the_report_time_zone(con):
    """09:00 UTC on 5 January is 10:00 in Stockholm (CET, UTC+1)."""
    build(con, [queued_leg("a")], tz="Europe/Stockholm")
    r = one(con, "09:00:00")
    assert (r["interval_key"], r["interval_start_local"]) == ("2026-01-05-09:00", at("10:00:00"))


def test_column_types(con):
    build(con, [queued_leg("a")])
    types = dict((c[0], c[1]) for c in con.execute("DESCRIBE kpi_interval").fetchall())
    assert types["interval_start"] == "TIMESTAMP" and types["interval_start_local"] == "TIMESTAMP"
    assert all(types[c] == "BIGINT" for c in COUNT_COLUMNS) and types["erlang_c_required_agents"] == "BIGINT"
    assert all(types[c] == "DOUBLE" for c in RATE_COLUMNS)
