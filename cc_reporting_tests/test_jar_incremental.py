"""Incremental JAR refresh (car-jar.md §7): late and updated records re-derive the rows they reach, and an
incremental refresh always leaves exactly the table a full rebuild gives."""
import random
from datetime import timezone

import duckdb
import pytest

from cc_reporting.models.analytics.jar import pending_session_ids, refresh_jar, refresh_jar_pending

from .jar_journeys import (
    CUSTOMER_PHONES,
    at,
    bot_session,
    crm,
    jar_rows,
    jar_table,
    leg,
    random_journeys,
    settings,
    stage,
    stage_mixed,
    stage_sessions,
    synthetic_legs,
)


def connect():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    return c


@pytest.fixture
def con():
    c = connect()
    yield c
    c.close()


def full_rebuild_of(con, as_of, **kw) -> list:
    """The table a full rebuild gives from the same staging (run on a copy: `con` stays untouched)."""
    other = connect()
    try:
        for table in ("stg_ctr", "stg_channel_session", "stg_crm_customer"):
            if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchall()[0][0]:
                rows = con.sql(f"SELECT * FROM {table}").to_arrow_table()
                other.register("_copy", rows)
                other.execute(f"CREATE TABLE {table} AS SELECT * FROM _copy")
                other.unregister("_copy")
        refresh_jar(other, settings(**kw), as_of, None)
        return jar_table(other)
    finally:
        other.close()


def test_late_legs_update_earlier_rows_incrementally_like_a_full_rebuild(con):
    """Refresh 1 (full) sees: wb-1 (us-1, C1) -> v1 (attr us-1, C1, NextContactId v2 not landed yet); k1 (C2,
    day0 10:00, queued, unanswered); t5 (TRANSFER whose InitialContactId is cbx, not landed); ivr-x (unrelated).
    Then v2 (IVR-only transfer from v1), k2 (C2, day 4) and cbx (CALLBACK, PreviousContactId k1) arrive.
    Refresh 2 (incremental) must give: v1 transferred to IVR; v2 in us-1 at step 3, path WEBCHAT_BOT>VOICE>IVR;
    k1 no longer resolved (k2 starts within 7 days of its end) and its CallBackSessionId = cbx; t5's root
    moves from cbx to k1 (cbx is a callback of k1) and so does its universal session.
    Recomputed rows: seeds v2, k2, cbx; t5 (root cbx); v1 (next v2, previous of v2); k1 (previous of cbx);
    wb-1 (session us-1) = 7. ivr-x is untouched."""
    stage(con, leg("v1", "09:01:00", queue="billing", agent="jane", next_contact="v2",
                   attributes={"universalSessionId": "us-1", "customerId": "C1"}),
          leg("k1", "10:00:00", queue="billing", next_contact="cbx", attributes={"customerId": "C2"}),
          leg("t5", "11:30:00", method="TRANSFER", initial="cbx", queue="tech", agent="amy"),
          leg("ivr-x", "12:00:00"))
    stage_sessions(con, bot_session("wb-1", universal_session_id="us-1", customer_id="C1", handed_off_to="VOICE"))
    assert pending_session_ids(con) is None  # never refreshed: a full rebuild
    as_of = at("23:00:00", 1)
    assert refresh_jar_pending(con, settings(), as_of)["mode"] == "full"
    before = jar_rows(con)
    assert (before["v1"]["ChannelTypeTransferred"], before["v1"]["journey_path"]) == ("VOICE", "WEBCHAT_BOT>VOICE")
    assert (before["k1"]["IsResolved"], before["t5"]["root_contact_id"], before["t5"]["UniversalSessionId"]) == \
        (True, "cbx", "cbx")
    assert pending_session_ids(con) == []

    stage(con, leg("v2", "09:02:20", method="TRANSFER", initial="v1", previous="v1", ivr=60),
          leg("k2", "09:00:00", 4, queue="billing", agent="jane", attributes={"customerId": "C2"}),
          leg("cbx", "11:00:00", method="CALLBACK", previous="k1", ivr=0, queue="billing", agent="bob"), batch="b2")
    assert sorted(pending_session_ids(con)) == ["cbx", "k2", "v2"]
    meta = refresh_jar_pending(con, settings(), as_of)
    rows = jar_rows(con)
    assert (meta["mode"], meta["rows_recomputed"]) == ("incremental", 7)
    assert rows["v1"]["ChannelTypeTransferred"] == "IVR"
    assert (rows["v2"]["UniversalSessionId"], rows["v2"]["JourneyStep"]) == ("us-1", 3)
    assert {rows[k]["journey_path"] for k in ("wb-1", "v1", "v2")} == {"WEBCHAT_BOT>VOICE>IVR"}
    assert (rows["k1"]["IsResolved"], rows["k1"]["CallBackSessionId"]) == (False, "cbx")
    assert (rows["t5"]["root_contact_id"], rows["t5"]["UniversalSessionId"], rows["cbx"]["root_contact_id"]) == \
        ("k1", "k1", "k1")
    assert [rows[k]["JourneyStep"] for k in ("k1", "cbx", "t5")] == [1, 2, 3]
    assert rows["ivr-x"] == before["ivr-x"]
    assert jar_table(con) == full_rebuild_of(con, as_of)


def test_a_leg_moving_to_another_universal_session_renumbers_both(con):
    """a (us-A, 09:00), b (us-A, 10:00), c (us-B, 11:00). An updated copy of a moves it to us-B:
    us-A = [b] -> b step 1, path VOICE; us-B = [a, c] -> steps 1, 2, path VOICE>IVR."""
    stage(con, leg("a", queue="q", agent="jane", attributes={"universalSessionId": "us-A"}),
          leg("b", "10:00:00", queue="q", agent="jane", attributes={"universalSessionId": "us-A"}),
          leg("c", "11:00:00", attributes={"universalSessionId": "us-B"}))
    refresh_jar(con, settings(), at("23:00:00"), None)
    assert jar_rows(con)["b"]["JourneyStep"] == 2
    stage(con, leg("a", queue="q", agent="jane", attributes={"universalSessionId": "us-B"}, updated_s=9000),
          batch="b2")
    refresh_jar(con, settings(), at("23:00:00"), ["a"])
    rows = jar_rows(con)
    assert (rows["b"]["JourneyStep"], rows["b"]["journey_path"]) == (1, "VOICE")
    assert [(rows[k]["UniversalSessionId"], rows[k]["JourneyStep"]) for k in ("a", "c")] == [("us-B", 1), ("us-B", 2)]
    assert rows["c"]["journey_path"] == "VOICE>IVR"
    assert jar_table(con) == full_rebuild_of(con, at("23:00:00"))


def test_nothing_staged_since_the_last_refresh_recomputes_nothing(con):
    stage(con, leg("a"), leg("b", "10:00:00"))
    refresh_jar(con, settings(), at("23:00:00"), None)
    table = jar_table(con)
    meta = refresh_jar_pending(con, settings(), at("23:00:00"))
    assert (meta["mode"], meta["rows_recomputed"], jar_table(con)) == ("incremental", 0, table)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_journeys_arriving_in_batches_incremental_equals_full_rebuild(con, seed):
    """Random journeys (transfers, callbacks of callbacks, hand-offs, repeats, updated copies, a CRM extract
    that changes half-way) land in 4 shuffled batches; after each incremental refresh the table equals a full
    rebuild of the same staging and as_of."""
    rng = random.Random(seed)
    items = random_journeys(rng)
    rng.shuffle(items)
    crm(con, {c: p for c, p in CUSTOMER_PHONES.items() if c != "C3"})
    refresh_jar(con, settings(), at("00:00:00"), None)
    for n in range(4):
        stage_mixed(con, items[n::4], batch=f"b{n}")
        if n == 2:  # a new CRM extract: C3 appears, C1 changes number
            crm(con, {**{c: p for c, p in CUSTOMER_PHONES.items() if c != "C1"}, "C1": "+12065550111"})
        as_of = at("00:00:00", 3 * n + 2).astimezone(timezone.utc)
        meta = refresh_jar_pending(con, settings(), as_of)
        assert meta["mode"] == "incremental"
        assert jar_table(con) == full_rebuild_of(con, as_of), f"batch {n}"
    assert con.execute('SELECT count(*) = count(DISTINCT "SessionId") FROM jar').fetchone()[0]


def test_next_contact_landing_later_without_back_links_updates_transfer_columns(con):
    """a (NextContactId n) is refreshed before n lands: transferred to its own Channel, VOICE. n lands with
    neither InitialContactId nor PreviousContactId (another chain), queued and answered by bob on 'tech':
    a becomes VOICE / bob / tech through the NextContactId link alone."""
    stage(con, leg("a", queue="q", agent="jane", next_contact="n"))
    refresh_jar(con, settings(), at("23:00:00"), None)
    assert jar_rows(con)["a"]["AgentIdTransferred"] is None
    stage(con, leg("n", "09:02:20", method="QUEUE_TRANSFER", queue="tech", agent="bob"), batch="b2")
    refresh_jar_pending(con, settings(), at("23:00:00"))
    a = jar_rows(con)["a"]
    assert (a["ChannelTypeTransferred"], a["AgentIdTransferred"], a["AgentSkillIdTransferred"]) == \
        ("VOICE", "bob", "tech")
    assert jar_table(con) == full_rebuild_of(con, at("23:00:00"))


def test_updated_callback_pointing_at_another_requester_moves_the_callback_link(con):
    """cb (its own universal session us-cb, so no session links it to r1) first names r1 as PreviousContactId,
    an updated copy names r2: r1's CallBackSessionId goes back to null, r2's becomes cb, and cb's chain root
    moves from r1 to r2."""
    us_cb = {"universalSessionId": "us-cb"}
    stage(con, leg("r1", queue="q"), leg("r2", "09:10:00", queue="q"),
          leg("cb", "10:00:00", method="CALLBACK", previous="r1", queue="q", agent="jane", attributes=us_cb))
    refresh_jar(con, settings(), at("23:00:00"), None)
    assert (jar_rows(con)["r1"]["CallBackSessionId"], jar_rows(con)["cb"]["root_contact_id"]) == ("cb", "r1")
    stage(con, leg("cb", "10:00:00", method="CALLBACK", previous="r2", queue="q", agent="jane", updated_s=9000,
              attributes=us_cb),
          batch="b2")
    refresh_jar_pending(con, settings(), at("23:00:00"))
    rows = jar_rows(con)
    assert (rows["r1"]["CallBackSessionId"], rows["r2"]["CallBackSessionId"], rows["cb"]["root_contact_id"]) == \
        (None, "cb", "r2")
    assert jar_table(con) == full_rebuild_of(con, at("23:00:00"))


def test_more_legs_than_a_duckdb_row_group_all_reach_the_jar(con):
    """130,000 legs (more than DuckDB's 122,880-row group) in a full rebuild, then 1,000 more incrementally:
    one row per leg, none without JourneyStep or journey_path, and the increment equals a full rebuild.
    (Regression: in DuckDB 2.0 a temp table created empty by CTAS inside a transaction and then filled with
    a large INSERT returned no rows to GROUP BY and joins, which emptied the JAR.)"""
    synthetic_legs(con, 130_000)
    as_of = at("23:00:00", 1)
    assert refresh_jar(con, settings(), as_of, None)["rows"] == 130_000
    synthetic_legs(con, 1_000, start_id=130_000)
    meta = refresh_jar_pending(con, settings(), as_of)
    assert (meta["mode"], meta["rows"]) == ("incremental", 131_000)
    assert con.execute("""SELECT count(*), count(DISTINCT "SessionId"), count("JourneyStep"), count(journey_path)
                          FROM jar""").fetchall() == [(131_000,) * 4]
    assert jar_table(con) == full_rebuild_of(con, as_of)


@pytest.mark.parametrize("lookback_days, linked", [(3, True), (2, False)])
def test_relatives_are_searched_back_as_far_as_the_jar_lookback(con, lookback_days, linked):
    """CC_JAR_LOOKBACK_DAYS bounds how far back an incremental refresh searches for a changed leg's relatives (rows
    that name it or share its universal session), so an increment does not scan the whole history. A voice leg
    landing 2 days 23 hours after the chat of its universal session: found with 3 days (the refresh equals a full
    rebuild), left as it was with 2 (the documented limit; a full rebuild links it)."""
    stage_sessions(con, bot_session("wb-1", universal_session_id="us-1", customer_id="C1", handed_off_to="VOICE"))
    stage(con, leg("ivr-x", "12:00:00"))
    as_of = at("23:00:00", 4)
    refresh_jar_pending(con, settings(lookback_days=lookback_days), as_of)
    assert jar_rows(con)["wb-1"]["journey_path"] == "WEBCHAT_BOT"

    stage(con, leg("v1", "07:55:00", 3, queue="billing", agent="jane",
                   attributes={"universalSessionId": "us-1", "customerId": "C1"}), batch="b2")
    meta = refresh_jar_pending(con, settings(lookback_days=lookback_days), as_of)
    assert meta["mode"] == "incremental"
    rows = jar_rows(con)
    assert rows["v1"]["UniversalSessionId"] == "us-1"
    assert (rows["wb-1"]["journey_path"] == "WEBCHAT_BOT>VOICE") is linked
    assert (jar_table(con) == full_rebuild_of(con, as_of, lookback_days=lookback_days)) is linked


def test_callbacks_older_than_the_lookback_keep_their_stored_root_for_newer_walks(con):
    """The incremental refresh re-walks only callbacks from the look-back on; a newer walk that reaches an older
    callback continues from that callback's stored root. cb2 (day 3) calls back cb1 (day 0), which called back k1:
    with a 1-day look-back cb1 is not re-walked, yet cb2 and the transfer t after it reach k1 as a full rebuild
    does (each leg in its own universal session, so the 3-day span is no journey longer than the look-back)."""
    stage(con, leg("k1", "10:00:00", queue="billing", attributes={"universalSessionId": "us-k"}),
          leg("cb1", "11:00:00", method="CALLBACK", previous="k1", ivr=0, queue="billing", agent="bob",
              attributes={"universalSessionId": "us-c1"}))
    as_of = at("23:00:00", 4)
    refresh_jar_pending(con, settings(lookback_days=1), as_of)
    assert jar_rows(con)["cb1"]["root_contact_id"] == "k1"

    stage(con, leg("cb2", "09:00:00", 3, method="CALLBACK", previous="cb1", ivr=0, queue="billing", agent="amy",
                   attributes={"universalSessionId": "us-c2"}),
          leg("t", "09:10:00", 3, method="TRANSFER", initial="cb2", queue="tech", agent="jane",
              attributes={"universalSessionId": "us-c2"}), batch="b2")
    meta = refresh_jar_pending(con, settings(lookback_days=1), as_of)
    rows = jar_rows(con)
    assert meta["mode"] == "incremental" and meta["lookback_from"].startswith("2026-01-07")
    assert [rows[k]["root_contact_id"] for k in ("cb1", "cb2", "t")] == ["k1", "k1", "k1"]
    assert jar_table(con) == full_rebuild_of(con, as_of)
