""""Followed by another session of the same customer within N days" (the FCR rule of docs/analytics.md §4 and the CAR's
repeat_contact_rate), in time linear in the customer's sessions.

A join of each target with every session of its customer costs targets × sessions per customer, which grows with
the square of the history. Instead the sessions are grouped by (customer, start) and each target takes, with an
ASOF join, the first start after its end: another session follows within N days exactly when that first start is
within N days and belongs to a session other than the target's own, or, when it is the target's own session
alone, the next start after it is within N days.
"""
from __future__ import annotations


def followed_sql(targets: str, sessions: str, horizon: str) -> str:
    """`targets` (a query with columns cust, usid, ended and any others) with a BOOLEAN `followed`: some session of
    `sessions` (cust, usid, start) other than the target's own starts in (ended, ended + horizon].

    A null ended, customer or own universal session follows nothing (as comparisons with null match nothing);
    sessions without a start, customer or id are never followers."""
    return f"""
        WITH follow_starts AS (
            SELECT cust, start, count(DISTINCT usid) AS sessions, min(usid) AS usid,
                   lead(start) OVER (PARTITION BY cust ORDER BY start) AS next_start
            FROM ({sessions}) WHERE start IS NOT NULL AND usid IS NOT NULL AND cust IS NOT NULL
            GROUP BY cust, start
        )
        SELECT t.*, coalesce(t.usid IS NOT NULL AND f.start <= t.ended + {horizon}
                             AND (f.sessions > 1 OR f.usid <> t.usid OR f.next_start <= t.ended + {horizon}),
                             false) AS followed
        FROM ({targets}) t ASOF LEFT JOIN follow_starts f ON f.cust = t.cust AND f.start > t.ended"""
