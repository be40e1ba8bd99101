"""The id -> day side table (`jar_session_day`, jar_days): lookups of stored JAR rows by id read only the days that
hold them, exactly, whatever their age; the table holds exactly jar's ids, and an incremental refresh over many
small batches still equals a full rebuild row for row."""
import random
from datetime import date, timezone

import pytest

from cc_reporting.models.analytics.jar import refresh_jar, refresh_jar_pending
from cc_reporting.models.analytics.jar_days import stored_days

from .jar_journeys import (
    CUSTOMER_PHONES,
    at,
    crm,
    jar_rows,
    jar_table,
    leg,
    random_journeys,
    settings,
    stage,
    stage_mixed,
)
from .test_jar_incremental import connect, full_rebuild_of


@pytest.fixture
def con():
    c = connect()
    yield c
    c.close()


def side_table(con) -> list:
    return con.execute("SELECT session_id, day FROM jar_session_day ORDER BY ALL").fetchall()


def jar_days(con) -> list:
    return con.execute('SELECT "SessionId", CAST("SessionStartTime" AS DATE) FROM jar ORDER BY ALL').fetchall()


def test_a_contact_re_sent_on_a_later_day_keeps_one_row_and_moves_its_day(con):
    """a is staged on day 0, then an updated copy starts on day 20 (a 1-day look-back): one jar row, one side-table
    row on day 20, and the table a full rebuild gives."""
    stage(con, leg("a", queue="q", agent="jane"), leg("b", "10:00:00", queue="q", agent="jane"))
    as_of = at("23:00:00", 30)
    refresh_jar(con, settings(lookback_days=1), as_of, None)
    assert side_table(con) == jar_days(con) == [("a", date(2026, 1, 5)), ("b", date(2026, 1, 5))]
    stage(con, leg("a", "09:00:00", 20, queue="q", agent="jane"), batch="b2")
    meta = refresh_jar_pending(con, settings(lookback_days=1), as_of)
    assert (meta["mode"], meta["rows_replaced"]) == ("incremental", 1)
    assert side_table(con) == jar_days(con) == [("a", date(2026, 1, 25)), ("b", date(2026, 1, 5))]
    assert jar_table(con) == full_rebuild_of(con, as_of, lookback_days=1)


def test_an_old_requester_beyond_the_lookback_is_replaced_on_its_own_day(con):
    """r1 (day 0) is named as PreviousContactId by a callback landing on day 20 with a 1-day look-back: r1's stored
    row, 20 days older than anything else in the increment, is found on its day and replaced (CallBackSessionId
    set), not duplicated."""
    stage(con, leg("r1", queue="q", attributes={"universalSessionId": "us-r"}), leg("x", "10:00:00", 19))
    as_of = at("23:00:00", 30)
    refresh_jar(con, settings(lookback_days=1), as_of, None)
    stage(con, leg("cb", "10:00:00", 20, method="CALLBACK", previous="r1", queue="q", agent="jane",
                   attributes={"universalSessionId": "us-cb"}), batch="b2")
    meta = refresh_jar_pending(con, settings(lookback_days=1), as_of)
    assert (meta["rows_replaced"], jar_rows(con)["r1"]["CallBackSessionId"]) == (1, "cb")
    assert con.execute('SELECT count(*), count(DISTINCT "SessionId") FROM jar').fetchone() == (3, 3)
    assert side_table(con) == jar_days(con)
    assert jar_table(con) == full_rebuild_of(con, as_of, lookback_days=1)


def test_a_side_table_out_of_step_with_jar_is_refilled_before_it_is_used(con):
    """A warehouse from before the side table (here: emptied) refills it from jar, so the re-sent a still replaces
    its row instead of being inserted beside it."""
    stage(con, leg("a", queue="q", agent="jane"), leg("b", "10:00:00"))
    as_of = at("23:00:00", 2)
    refresh_jar(con, settings(), as_of, None)
    con.execute("DELETE FROM jar_session_day")
    stage(con, leg("a", queue="q", agent="bob", updated_s=9000), batch="b2")
    meta = refresh_jar_pending(con, settings(), as_of)
    assert (meta["session_day_refilled"], meta["rows_replaced"], jar_rows(con)["a"]["AgentId"]) == (True, 1, "bob")
    assert side_table(con) == jar_days(con)
    assert jar_table(con) == full_rebuild_of(con, as_of)


def test_stored_days_are_constant_ranges_of_the_days_holding_the_ids(con):
    """Ids on days 0 and 1 (merged into one range) and day 5; an id jar does not hold adds nothing."""
    stage(con, leg("a"), leg("b", "09:00:00", 1), leg("c", "09:00:00", 5), leg("d", "09:00:00", 3))
    refresh_jar(con, settings(), at("23:00:00", 6), None)
    con.execute("CREATE TEMP TABLE wanted AS SELECT unnest(['a', 'b', 'c', 'nobody']) AS id")
    predicate = stored_days(con, "SELECT id FROM wanted")
    assert predicate == ("((\"SessionStartTime\" >= TIMESTAMP '2026-01-05' AND \"SessionStartTime\" < "
                         "TIMESTAMP '2026-01-07') OR (\"SessionStartTime\" >= TIMESTAMP '2026-01-10' AND "
                         "\"SessionStartTime\" < TIMESTAMP '2026-01-11'))")
    assert sorted(r[0] for r in con.execute(f'SELECT "SessionId" FROM jar WHERE {predicate}').fetchall()) == \
        ["a", "b", "c"]
    assert stored_days(con, "SELECT 'nobody' AS id") == "false"


@pytest.mark.parametrize("seed", [5, 6])
def test_many_small_batches_incremental_equals_full_rebuild_row_for_row(con, seed):
    """Random journeys land in 10 shuffled batches, as_of moving forward by day and once back; after every
    incremental refresh the table equals a full rebuild and the side table holds exactly jar's ids and days."""
    rng = random.Random(seed)
    items = random_journeys(rng)
    rng.shuffle(items)
    crm(con, {c: p for c, p in CUSTOMER_PHONES.items() if c != "C3"})
    refresh_jar(con, settings(), at("00:00:00"), None)
    days = [1, 2, 3, 5, 8, 4, 9, 11, 12, 14]
    for n, day in enumerate(days):
        stage_mixed(con, items[n::len(days)], batch=f"b{n}")
        if n == 5:  # a new CRM extract: C3 appears
            crm(con, CUSTOMER_PHONES)
        as_of = at("06:00:00", day).astimezone(timezone.utc)
        assert refresh_jar_pending(con, settings(), as_of)["mode"] == "incremental"
        assert jar_table(con) == full_rebuild_of(con, as_of), f"batch {n}"
        assert side_table(con) == jar_days(con), f"batch {n}"
