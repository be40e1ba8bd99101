"""JAR resolution (IsResolved, IsResolvedFinal: car-jar.md §4) and customer identity (CUST_ID: §2).

Default leg: starts 09:00:00, ends (ACW end) 09:02:40 when it has an agent, N = CC_FCR_DAYS = 7.
"""
from datetime import datetime, timedelta, timezone

from cc_reporting.models.analytics.jar import refresh_jar

from .jar_journeys import at, bot_session, crm, jar_rows, jar_table, leg, settings, stage, stage_sessions


def cust(c):
    return {"customerId": c}


def answered(cid, start="09:00:00", day=0, attributes=None, **kw):
    return leg(cid, start, day, queue="billing", agent="jane", attributes=attributes, **kw)


def refresh(con, as_of, **kw):
    return refresh_jar(con, settings(**kw), as_of)


def test_repeat_contact_within_n_days_is_not_resolved_and_stays_provisional_until_end_plus_n(con):
    """r1 (C1) ends day0 09:02:40; r2 (C1) starts day3 -> r1 not resolved; r2 resolved (nothing after).
    r1 final from as_of = 2026-01-12 09:02:40 (end + 7 days) on, not one second earlier."""
    stage(con, answered("r1", attributes=cust("C1")), answered("r2", day=3, attributes=cust("C1")))
    meta = refresh(con, at("12:00:00", 1))
    rows = jar_rows(con)
    assert (rows["r1"]["IsResolved"], rows["r2"]["IsResolved"]) == (False, True)
    assert (rows["r1"]["IsResolvedFinal"], rows["r2"]["IsResolvedFinal"]) == (False, False)
    assert meta["provisional_rows"] == 2
    end_plus_n = at("09:02:40", 7)
    refresh(con, end_plus_n - timedelta(seconds=1))
    assert jar_rows(con)["r1"]["IsResolvedFinal"] is False
    refresh(con, end_plus_n)
    assert jar_rows(con)["r1"]["IsResolvedFinal"] is True


def test_fcr_window_is_end_exclusive_to_end_plus_n_inclusive(con):
    """C1: next session starts exactly at end + 7 d (day7 09:02:40) -> inside -> not resolved.
    C2: one second later -> beyond N days -> resolved. C3: next session starts exactly at the end -> outside."""
    stage(con, answered("a1", attributes=cust("C1")), leg("a2", "09:02:40", 7, attributes=cust("C1")),
          answered("b1", attributes=cust("C2")), leg("b2", "09:02:41", 7, attributes=cust("C2")),
          answered("c1", attributes=cust("C3")), leg("c2", "09:02:40", 0, attributes=cust("C3")))
    refresh(con, at("00:00:00", 30))
    rows = jar_rows(con)
    assert {k: rows[k]["IsResolved"] for k in ("a1", "b1", "c1")} == {"a1": False, "b1": True, "c1": True}
    assert all(r["IsResolvedFinal"] for r in rows.values())


def test_only_other_customer_started_sessions_of_the_customer_count(con):
    """o1 (C4) then an OUTBOUND call to C4 on day1 (its step 1 is outbound) -> o1 still resolved.
    t1 (C5) -> TRANSFER t2 in the same universal session (starts after t1 ends) -> t1 still resolved.
    m1 (C6) then session us-m on day1: a chatbot without customer, then a call with customerId C6: the session
    belongs to C6 and is customer-started -> m1 not resolved.
    n1 without any customer -> IsResolved null (still final once N days passed)."""
    stage(con, answered("o1", attributes=cust("C4")), leg("o2", day=1, method="OUTBOUND", agent="jane",
                                                          attributes=cust("C4")),
          answered("t1", attributes=cust("C5"), next_contact="t2"),
          answered("t2", "09:05:00", method="TRANSFER", initial="t1", previous="t1", attributes=cust("C5")),
          answered("m1", attributes=cust("C6")),
          answered("m2", "10:00:00", 1, attributes={"customerId": "C6", "universalSessionId": "us-m"}),
          answered("n1", phone=None))
    stage_sessions(con, bot_session("wb-m", "09:50:00", "09:55:00", day=1, universal_session_id="us-m"))
    refresh(con, at("00:00:00", 30))
    rows = jar_rows(con)
    assert {k: rows[k]["IsResolved"] for k in ("o1", "t1", "m1", "n1")} == \
        {"o1": True, "t1": True, "m1": False, "n1": None}
    assert rows["n1"]["IsResolvedFinal"] is True and rows["n1"]["CUST_ID"] is None


def test_is_resolved_attribute_wins_and_is_final_invalid_falls_back_to_fcr(con):
    """a1 (C7, isResolved TRUE) has a repeat a2 on day1 -> still true, final right away (as_of day1).
    a3 (' false ') -> false, final. a4 ('yes', C8, no repeat) -> invalid, counted; FCR -> true, provisional.
    External wb-r with resolved true and a repeat call -> true, final."""
    stage(con, answered("a1", attributes={"customerId": "C7", "isResolved": "TRUE"}),
          answered("a2", day=1, attributes=cust("C7")),
          answered("a3", attributes={"customerId": "C9", "isResolved": " false "}),
          answered("a4", attributes={"customerId": "C8", "isResolved": "yes"}),
          answered("a5", "12:00:00", attributes=cust("C10")))
    stage_sessions(con, bot_session("wb-r", customer_id="C10", resolved=True))
    meta = refresh(con, at("12:00:00", 1))
    rows = jar_rows(con)
    got = {k: (rows[k]["IsResolved"], rows[k]["IsResolvedFinal"], rows[k]["is_resolved_origin"])
           for k in ("a1", "a3", "a4", "wb-r")}
    assert got == {"a1": (True, True, "attribute"), "a3": (False, True, "attribute"),
                   "a4": (True, False, "fcr"), "wb-r": (True, True, "attribute")}
    assert meta["invalid_values"]["is_resolved"] == 1


def test_cust_id_attribute_then_unique_phone_ambiguous_phone_none_and_monitor(con):
    """CRM: C1 +12065550142; C2 '+1 206 555 0143' and C3 +12065550143 share a number after normalising.
    p1 (…0142) -> C1 by phone; p2 (…0143) -> two customers -> null, counted ambiguous;
    p3 (…0100, unknown) -> null;
    p4: attribute C404 (missing from the CRM) wins over its phone; p5: MONITOR leg with C1's phone -> null."""
    crm(con, {"C1": "+12065550142", "C2": "+1 206 555 0143", "C3": "+12065550143"})
    stage(con, leg("p1"), leg("p2", phone="+12065550143"), leg("p3", phone="+12065550100"),
          leg("p4", attributes=cust("C404")), leg("p5", method="MONITOR"))
    meta = refresh(con, at("12:00:00"))
    rows = jar_rows(con)
    assert {k: (r["CUST_ID"], r["cust_id_origin"]) for k, r in rows.items()} == {
        "p1": ("C1", "phone"), "p2": (None, "ambiguous_phone"), "p3": (None, "none"),
        "p4": ("C404", "attribute"), "p5": (None, "none")}
    assert meta["cust_id_by_origin"] == {"attribute": 1, "phone": 1, "ambiguous_phone": 1, "none": 2}


def test_without_a_crm_table_nobody_is_found_by_phone(con):
    """No stg_crm_customer yet: p1's phone matches nothing -> CUST_ID null, origin none."""
    stage(con, leg("p1"))
    refresh(con, at("12:00:00"))
    assert (jar_rows(con)["p1"]["CUST_ID"], jar_rows(con)["p1"]["cust_id_origin"]) == (None, "none")


def test_new_crm_extract_re_resolves_phone_lookups_and_their_fcr(con):
    """First extract: nobody has p1/p2's number. A new extract gives it to C1: an incremental refresh with no
    changed contacts re-resolves both legs to C1; p2 (day 2) now makes p1 unresolved. Then the number becomes
    ambiguous -> both null again. Each state equals a full rebuild."""
    crm(con, {"C0": "+12065550199"})
    stage(con, answered("p1"), answered("p2", day=2))
    refresh_jar(con, settings(), at("12:00:00", 3), None)
    assert jar_rows(con)["p1"]["CUST_ID"] is None
    # changes: C0's number left and C1's came (2); then C1's number became ambiguous (1)
    for extract, changes, expected in (({"C1": "+12065550142"}, 2, ("C1", False)),
                                       ({"C1": "+12065550142", "C2": "+12065550142"}, 1, (None, None))):
        crm(con, extract)
        meta = refresh_jar(con, settings(), at("12:00:00", 3), [])
        assert (meta["mode"], meta["crm_phone_changes"]) == ("incremental", changes)
        incremental = jar_table(con)
        assert (jar_rows(con)["p1"]["CUST_ID"], jar_rows(con)["p1"]["IsResolved"]) == expected
        refresh_jar(con, settings(), at("12:00:00", 3), None)
        assert jar_table(con) == incremental


def test_provisional_rows_finalize_through_normal_refreshes_and_follow_as_of(con):
    """r1 (C1) day0, no repeat: provisional at as_of day1; an incremental refresh with nothing new at day 8
    finalizes it (end + 7 d = day7 09:02:40); a refresh back at day 1 makes it provisional again."""
    stage(con, answered("r1", attributes=cust("C1")))
    refresh_jar(con, settings(), at("00:00:00", 1), None)
    assert jar_rows(con)["r1"]["IsResolvedFinal"] is False
    meta = refresh_jar(con, settings(), at("00:00:00", 8), [])
    assert (jar_rows(con)["r1"]["IsResolvedFinal"], meta["rows_finalized"], meta["provisional_rows"]) == (True, 1, 0)
    refresh_jar(con, settings(), at("00:00:00", 1), [])
    assert jar_rows(con)["r1"]["IsResolvedFinal"] is False


def test_changing_fcr_days_rebuilds_in_full(con):
    """With N = 1 a repeat on day 3 is beyond the window: r1 resolved. The setting change forces a full rebuild
    even when the caller asks for an incremental one."""
    stage(con, answered("r1", attributes=cust("C1")), answered("r2", day=3, attributes=cust("C1")))
    refresh_jar(con, settings(), at("00:00:00", 30), None)
    assert jar_rows(con)["r1"]["IsResolved"] is False
    meta = refresh_jar(con, settings(fcr_days=1), at("00:00:00", 30), [])
    assert meta["mode"] == "full" and jar_rows(con)["r1"]["IsResolved"] is True


def test_same_inputs_and_as_of_give_identical_rows(con):
    stage(con, answered("r1", attributes=cust("C1")), answered("r2", day=3, attributes=cust("C1")), leg("ivr"))
    stage_sessions(con, bot_session("wb", customer_id="C1"))
    as_of = datetime(2026, 1, 9, tzinfo=timezone.utc)
    refresh_jar(con, settings(), as_of, None)
    first = jar_table(con)
    refresh_jar(con, settings(), as_of, None)
    assert jar_table(con) == first
    refresh_jar(con, settings(), as_of, ["r1", "wb", "ivr"])
    assert jar_table(con) == first
