"""`jar_session_day`: every `jar` row's SessionId -> the UTC day of its SessionStartTime (null without a start).

`jar` has no index, so finding rows by SessionId scans the whole column and costs more every day of history. The
side table's primary key answers "which days hold these ids" from index probes; the lookup in `jar` then names
those days as constant ranges of SessionStartTime, and DuckDB reads only the row groups whose min/max overlap
them. Exact whatever a row's age: a row is found on its own day, never missed for being old, and the side table
changes with `jar` in the same transaction. A side table out of step with `jar` (a warehouse from before it
existed, or a copy without it) is refilled from `jar` before it is used.
"""
from __future__ import annotations

from datetime import timedelta

from cc_reporting.resources.warehouse import ids_in


def refill_if_out_of_step(con) -> bool:
    """Refill from `jar` when the row counts differ (the tables are kept equal by id); returns whether it did."""
    if con.execute("SELECT (SELECT count(*) FROM jar) = (SELECT count(*) FROM jar_session_day)").fetchall()[0][0]:
        return False
    con.execute("DELETE FROM jar_session_day")
    con.execute('INSERT INTO jar_session_day SELECT "SessionId", CAST("SessionStartTime" AS DATE) FROM jar')
    return True


def days_of(con, ids_sql: str) -> list:
    """The distinct days (None: no start) holding the stored rows of the ids of `ids_sql` (a query of `id`)."""
    ids = [r[0] for r in con.execute(ids_sql).fetchall()]
    return [r[0] for r in con.execute(f"""
        SELECT DISTINCT day FROM jar_session_day WHERE {ids_in('session_id', ids, ids_sql)}""").fetchall()]


def days_predicate(days) -> str:
    """A predicate on `jar` rows: SessionStartTime on one of `days` (None: no start), as constant ranges
    (consecutive days merged), or 'false' when there are none."""
    days = sorted(set(days), key=lambda d: (d is not None, d))
    terms = ['"SessionStartTime" IS NULL'] if days and days[0] is None else []
    ranges: list[list] = []
    for day in (d for d in days if d is not None):
        if ranges and ranges[-1][1] == day:
            ranges[-1][1] = day + timedelta(days=1)
        else:
            ranges.append([day, day + timedelta(days=1)])
    terms += [f"(\"SessionStartTime\" >= TIMESTAMP '{lo}' AND \"SessionStartTime\" < TIMESTAMP '{hi}')"
              for lo, hi in ranges]
    return "(" + " OR ".join(terms) + ")" if terms else "false"


def stored_days(con, ids_sql: str) -> str:
    """`days_predicate` of the days holding the ids of `ids_sql`."""
    return days_predicate(days_of(con, ids_sql))


def replace_days(con, removed_ids_sql: str | None, added_rows_sql: str) -> None:
    """Drop the ids `removed_ids_sql` (a query of `id`; None: all) and add `added_rows_sql` (SessionId,
    SessionStartTime), as the refresh does with `jar`."""
    if removed_ids_sql is None:
        con.execute("DELETE FROM jar_session_day")
    else:
        ids = [r[0] for r in con.execute(removed_ids_sql).fetchall()]
        con.execute(f"DELETE FROM jar_session_day WHERE {ids_in('session_id', ids, removed_ids_sql)}")
    con.execute(f"""INSERT INTO jar_session_day
                    SELECT "SessionId", CAST("SessionStartTime" AS DATE) FROM ({added_rows_sql})""")
