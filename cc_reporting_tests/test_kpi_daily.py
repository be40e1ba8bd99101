"""kpi_daily (kpis.md section 1 grains, "Where each KPI is filled") on hand-made `jar` rows."""
from datetime import date, datetime, timedelta

import duckdb
import pytest

from cc_reporting.models.kpi import marts
from cc_reporting.models.kpi.marts_sql import COUNT_COLUMNS, IVR_COLUMNS

from .kpi_rows import DAY, at, create_agent_state, create_jar, fetch, queued_leg, row, settings, worked_example

IVR_RATES = ["ivr_containment_rate", "digital_offer_rate", "digital_acceptance_rate"]


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def daily(con, rows, days, tz="UTC", agent_state=None):
    create_jar(con, rows)
    if agent_state is not None:
        create_agent_state(con, agent_state)
    con.execute("BEGIN")
    n = marts.build_kpi_daily(con, settings(tz=tz), days)
    con.execute("COMMIT")
    return n


def channel_rows(con, day=DAY):
    return {r["channel"]: r for r in fetch(con, "SELECT * FROM kpi_daily WHERE grain = 'channel' AND day = ?", [day])}


def queue_rows(con, day=DAY):
    return {r["queue_id"]: r for r in fetch(con, "SELECT * FROM kpi_daily WHERE grain = 'queue' AND day = ?", [day])}


def dst_legs(first_utc: datetime, hours: int) -> list[dict]:
    """One queued leg every 15 minutes (enqueued at mm:07) over `hours` UTC hours; outcomes and durations vary
    with the index so every sum is exercised."""
    legs = []
    for i in range(hours * 4):
        t = first_utc + timedelta(minutes=15 * i, seconds=7)
        outcome = ["answered", "answered", "abandoned", "left"][i % 4]
        legs.append(queued_leg(f"d{i}", t, queue="Q" if i % 3 else "R", outcome=outcome, queue_time=i % 40,
                               talk=60 + i, hold=i % 7, acw=i % 11, method="TRANSFER" if i % 5 == 0 else "INBOUND",
                               CSATScore=1 + i % 5))
    return legs


@pytest.mark.parametrize("day, hours_in_day", [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25),
                                               (date(2026, 1, 15), 24)])
def test_daily_queue_rows_equal_the_sum_of_their_local_days_interval_rows_across_dst(con, day, hours_in_day):
    """Europe/Stockholm: 29 March 2026 has 23 hours (02:00 → 03:00), 25 October 25 hours (03:00 → 02:00).
    Legs every 15 minutes from 22:00 UTC two days before to 02:00 UTC the day after cover the local day and spill
    into its neighbours. Per queue, every count and sum of the daily row equals the sum over the interval rows
    whose interval_start_local is on that day; the day holds hours_in_day × 4 legs; the five days built around it
    together hold every leg exactly once. Agent-state rows (100/50 s per interval and queue Q) follow the same rule."""
    tz = "Europe/Stockholm"
    first = datetime.combine(day - timedelta(days=2), datetime.min.time()) + timedelta(hours=22)
    legs = dst_legs(first, 52)
    state = [(first + timedelta(minutes=15 * i), "Q", 100, 50) for i in range(52 * 4)]
    days = [day + timedelta(days=k) for k in range(-2, 3)]
    create_jar(con, legs)
    create_agent_state(con, state)
    s = settings(tz=tz)
    marts.build_kpi_interval(con, s, first, first + timedelta(hours=52))
    marts.build_kpi_daily(con, s, days)
    sums = ", ".join(f"sum({c}) AS {c}" for c in COUNT_COLUMNS if c not in IVR_COLUMNS)
    by_intervals = {r["queue_id"]: r for r in fetch(con, f"""
        SELECT queue_id, count(*) AS n_intervals, {sums} FROM kpi_interval
        WHERE CAST(interval_start_local AS DATE) = ? GROUP BY queue_id""", [day])}
    daily_rows = queue_rows(con, day)
    assert set(daily_rows) == set(by_intervals) == {"Q", "R"}
    for q, d in daily_rows.items():
        for c in COUNT_COLUMNS:
            if c not in IVR_COLUMNS:
                assert d[c] == by_intervals[q][c], (q, c)
    assert sum(d["queued"] for d in daily_rows.values()) == hours_in_day * 4
    assert by_intervals["Q"]["on_contact_s"] == hours_in_day * 4 * 100
    everything = fetch(con, "SELECT sum(queued) AS n FROM kpi_daily WHERE grain = 'queue'")[0]["n"]
    assert everything == len(legs)  # nothing lost or doubled


def test_attribution_day_is_the_local_date_of_enqueue_or_session_start(con):
    """Stockholm (UTC+1 in January). Leg a: session starts 22:59:50 UTC on the 4th (23:59:50 local, the 4th) but is
    enqueued 23:00:10 UTC (00:00:10 local on the 5th) → the 5th. Chat session b starts 22:59:59 UTC on the 5th
    (23:59:59 local) and lasts past midnight → the 5th. Session c starts 23:00:00 UTC on the 5th → the 6th.
    Leg a is an inbound voice call, so the 5th also gets an IVR row (entered, then queued)."""
    a = queued_leg("a", at("23:00:10", DAY - timedelta(days=1)))
    a["SessionStartTime"] = at("22:59:50", DAY - timedelta(days=1))
    rows = [a, row("b", "CHAT", at("22:59:59")), row("c", "CHAT", at("23:00:00"))]
    daily(con, rows, [DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)], tz="Europe/Stockholm")
    got = fetch(con, "SELECT day, grain, coalesce(queue_id, channel) AS k, queued FROM kpi_daily ORDER BY ALL")
    assert [(r["day"], r["grain"], r["k"], r["queued"]) for r in got] == [
        (DAY, "channel", "CHAT", 0), (DAY, "channel", "IVR", 0), (DAY, "channel", "VOICE", 1), (DAY, "queue", "Q", 1),
        (DAY + timedelta(days=1), "channel", "CHAT", 0)]


def test_channel_rows_cover_every_row_of_the_channel_including_external_sessions(con):
    """VOICE: the worked example's ten legs on the 5th (the callback leg at 11:00 too: 11 queued, answered 7).
    WEBCHAT_BOT external sessions: w1 bot-handled and resolved (final), w2 handed off (IsTransferred) → fcr 1/1;
    they are never queued, so the queue counts are 0 and the queue rates null. Occupancy is null on channel rows
    even with agent-state data; the IVR-only columns are null on the non-IVR rows."""
    web = [row("w1", "WEBCHAT_BOT", at("08:00:00"), InteractionStartTime=at("08:00:05"), IsResolved=True,
               IsResolvedFinal=True, CUST_ID="C9"),
           row("w2", "WEBCHAT_BOT", at("08:10:00"), InteractionStartTime=at("08:10:05"), IsTransferred=True,
               IsResolved=True, IsResolvedFinal=True)]
    daily(con, worked_example() + web, [DAY], agent_state=[(at("09:00:00"), "Q", 1200, 300)])
    ch = channel_rows(con)
    assert set(ch) == {"VOICE", "WEBCHAT_BOT", "IVR"}  # IVR: the INBOUND VOICE legs entered the IVR
    v, w = ch["VOICE"], ch["WEBCHAT_BOT"]
    assert (v["queued"], v["answered"], v["callback_requests"], v["fcr_eligible"], v["csat_responses"]) == \
        (11, 7, 1, 5, 3)
    assert (w["queued"], w["answered"], w["fcr_eligible"], w["fcr_resolved"], w["fcr_provisional"]) == (0, 0, 1, 1, 0)
    assert (w["service_level"], w["asa_s"], w["abandonment_rate"], w["fcr_rate"]) == (None, None, None, 1.0)
    for r in ch.values():
        assert (r["on_contact_s"], r["idle_s"], r["occupancy"]) == (None, None, None)
        assert r["queue_id"] is None and r["queue_name"] is None
    for r in (v, w):
        assert all(r[c] is None for c in IVR_COLUMNS + IVR_RATES)
    q = queue_rows(con)["Q"]
    assert (q["queued"], q["occupancy"], q["channel"]) == (11, 0.8, None)
    assert all(q[c] is None for c in IVR_COLUMNS + IVR_RATES)


def test_ivr_channel_row_example(con):
    """kpis.md: 20 inbound calls entered the IVR; 15 ended there (IVR rows), 5 were queued (VOICE rows); 8 of the 20
    heard a digital offer (6 IVR + 2 VOICE), 2 accepted (IVR) → containment 15/20 = 0.75, offer 8/20 = 0.40,
    acceptance 2/8 = 0.25. A queued chat gives the CHAT row; CHAT and VOICE carry null for the three."""
    ivr = [row(f"i{k}", "IVR", at("10:00:00") + timedelta(minutes=k), initiation_method="INBOUND",
               IsDigitalOffered=k < 6, IsDigitalAccepted=k < 2) for k in range(15)]
    voice = [queued_leg(f"v{k}", at("11:00:00") + timedelta(minutes=k), IsDigitalOffered=k < 2,
                        IsDigitalAccepted=False) for k in range(5)]
    chat = queued_leg("c1", "12:00:00", method="API", ChannelType="CHAT")
    daily(con, ivr + voice + [chat], [DAY])
    ch = channel_rows(con)
    i = ch["IVR"]
    assert (i["ivr_entered"], i["ivr_rows"], i["ivr_contained"], i["digital_offered"], i["digital_accepted"]) == \
        (20, 15, 15, 8, 2)
    assert (i["ivr_containment_rate"], i["digital_offer_rate"], i["digital_acceptance_rate"]) == (0.75, 0.40, 0.25)
    assert i["queued"] == 0 and i["service_level"] is None  # IVR rows are never queued
    for other in ("CHAT", "VOICE"):
        assert all(ch[other][c] is None for c in IVR_COLUMNS + IVR_RATES), other
    assert ch["VOICE"]["queued"] == 5 and ch["CHAT"]["queued"] == 1


def test_ivr_row_is_contained_unless_a_later_step_of_its_universal_session_was_queued(con):
    """Session A: IVR (step 1) then a queued VOICE leg (step 2) → not contained. Session B: IVR then a web bot
    (step 2, not queued) → contained. Session C: a queued VOICE leg (step 1) then IVR (step 2) → contained (only
    later steps count). Entered: A 2, B 1, C 2 = 5 (the bot is not a voice leg); contained 2 → 0.4."""
    ib = dict(initiation_method="INBOUND")
    rows = [row("a1", "IVR", at("09:00:00"), UniversalSessionId="A", **ib),
            queued_leg("a2", "09:10:00", UniversalSessionId="A", JourneyStep=2),
            row("b1", "IVR", at("09:00:00"), UniversalSessionId="B", **ib),
            row("b2", "WEBCHAT_BOT", at("09:05:00"), UniversalSessionId="B", JourneyStep=2),
            queued_leg("c1", "08:00:00", UniversalSessionId="C"),
            row("c2", "IVR", at("09:00:00"), UniversalSessionId="C", JourneyStep=2, **ib)]
    daily(con, rows, [DAY])
    i = channel_rows(con)["IVR"]
    assert (i["ivr_entered"], i["ivr_rows"], i["ivr_contained"], i["ivr_containment_rate"]) == (5, 3, 2, 0.4)


def test_ivr_row_exists_when_every_ivr_entered_call_was_queued(con):
    """Two INBOUND VOICE legs, no IVR-only rows: the IVR row still carries ivr_entered 2, containment 0/2 = 0.0."""
    daily(con, [queued_leg("a"), queued_leg("b")], [DAY])
    i = channel_rows(con)["IVR"]
    assert (i["ivr_entered"], i["ivr_rows"], i["ivr_containment_rate"], i["queued"]) == (2, 0, 0.0, 0)


def test_daily_replacement_is_idempotent_and_leaves_other_days_alone(con):
    """Build the 5th and 6th, rebuild the 5th twice → same rows; after leg b (the 5th) leaves jar, a rebuild of
    the 5th drops it and the 6th is untouched."""
    rows = [queued_leg("a"), queued_leg("b", queue="Q2"), queued_leg("c", at("09:00:00", DAY + timedelta(days=1)))]
    daily(con, rows, [DAY, DAY + timedelta(days=1)])
    everything = "SELECT * FROM kpi_daily ORDER BY day, grain, queue_id, channel"
    first = fetch(con, everything)
    assert marts.build_kpi_daily(con, settings(), [DAY]) == 4  # queues Q, Q2; channels VOICE, IVR
    assert marts.build_kpi_daily(con, settings(), [DAY]) == 4
    assert fetch(con, everything) == first
    con.execute("DELETE FROM jar WHERE \"SessionId\" = 'b'")
    marts.build_kpi_daily(con, settings(), [DAY])
    assert set(queue_rows(con)) == {"Q"}
    assert set(queue_rows(con, DAY + timedelta(days=1))) == {"Q"}
    assert marts.build_kpi_daily(con, settings(), []) == 0


def test_agent_state_alone_makes_a_daily_queue_row(con):
    """Q2 has 600 s on contact and 200 s idle over two intervals, no legs → queued 0, occupancy 0.75."""
    daily(con, [queued_leg("a")], [DAY],
          agent_state=[(at("09:00:00"), "Q2", 300, 100), (at("09:15:00"), "Q2", 300, 100)])
    q2 = queue_rows(con)["Q2"]
    assert (q2["queued"], q2["on_contact_s"], q2["idle_s"], q2["occupancy"]) == (0, 600, 200, 0.75)
