"""The incremental JAR refresh's scope (jar.py steps 1-3) and the time bounds that keep its lookups off old history.

`incremental_scope` fills `_jar_base` with the rows to recompute and `_jar_scope(id)` with their ids; the bounds
are constants (not subqueries) so DuckDB can skip row groups of `jar` and `stg_ctr` by their min/max statistics.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from cc_reporting.models.analytics import jar_rows as RW
from cc_reporting.models.analytics.jar_config import JarMapping
from cc_reporting.models.analytics.jar_days import days_of, days_predicate
from cc_reporting.resources.warehouse import ids_in


def incremental_scope(con, mapping: JarMapping, settings,
                       changed_ids: list[str]) -> tuple[dict, datetime | None, str]:
    """Fill `_jar_base` with the rows to recompute and `_jar_scope(id)` with their ids (steps 1-3 of jar.py);
    returns counts, where the search for relatives began (None: all history) and a predicate naming the days
    that hold the scope's stored rows."""
    # Explicit DDL: see jar_rows.create_base_table (an empty CTAS followed by a large INSERT misbehaves).
    con.execute("CREATE OR REPLACE TEMP TABLE _jar_seed (id VARCHAR)")
    # The ids bind as one DuckDB LIST: no Arrow built from Python objects (pyarrow would import pandas, ~0.4 s).
    con.execute("INSERT INTO _jar_seed SELECT DISTINCT unnest(?::VARCHAR[])", [list(changed_ids)])
    # CRM: hashes whose lookup outcome (one customer / ambiguous / none) changed since the last refresh.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _jar_phone_changed AS
        SELECT coalesce(o.phone_hash, n.phone_hash) AS phone_hash
        FROM jar_phone_map o FULL JOIN _jar_phone_map_new n ON n.phone_hash = o.phone_hash
        WHERE o.cust_id IS DISTINCT FROM n.cust_id OR (o.customers > 1) IS DISTINCT FROM (n.customers > 1)""")
    con.execute("""INSERT INTO _jar_seed SELECT contact_id FROM stg_ctr
                   WHERE customer_phone_hash IN (SELECT phone_hash FROM _jar_phone_changed)""")
    # Callback legs whose resolved root moved: every leg whose walk starts there moves with it.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _jar_cb_changed AS
        SELECT coalesce(o.contact_id, n.contact_id) AS id
        FROM jar_callback_root o FULL JOIN _jar_cb_root n ON n.contact_id = o.contact_id
        WHERE o.root IS DISTINCT FROM n.root""")
    con.execute("""INSERT INTO _jar_seed SELECT contact_id FROM stg_ctr
                   WHERE root_contact_id IN (SELECT id FROM _jar_cb_changed)""")
    seeds = [r[0] for r in con.execute("SELECT DISTINCT id FROM _jar_seed").fetchall()]
    # Relatives of the seeds are searched only from `since` on: journeys last at most CC_JAR_LOOKBACK_DAYS, so
    # older row groups (most of the history) are skipped by their min/max statistics.
    since = lookback_start(con, seeds, "SELECT id FROM _jar_seed", int(settings.jar_lookback_days))
    in_jar, in_stg = starts_since('"SessionStartTime"', since), starts_since("initiation_ts", since, "+00")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _jar_pre AS
        SELECT id FROM _jar_seed
        UNION SELECT "SessionId" FROM jar WHERE root_contact_id IN (SELECT id FROM _jar_seed) AND {in_jar}
        UNION SELECT contact_id FROM stg_ctr WHERE next_contact_id IN (SELECT id FROM _jar_seed) AND {in_stg}
        UNION SELECT previous_contact_id FROM stg_ctr
              WHERE {ids_in('contact_id', seeds, 'SELECT id FROM _jar_seed')} AND previous_contact_id IS NOT NULL
        UNION SELECT previous_contact_id FROM jar
              WHERE "SessionId" IN (SELECT id FROM _jar_seed) AND previous_contact_id IS NOT NULL AND {in_jar}""")
    RW.add_connect_rows(con, mapping, settings, "_jar_pre")
    RW.add_external_rows(con, "_jar_pre")
    # Whole universal sessions, as they are now and as they were. The stored rows of the scope lie on the days of
    # the _jar_pre ids (the side table) and on the days the session scan finds its rows on.
    pre_days = days_of(con, "SELECT id FROM _jar_pre")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _jar_session_rows AS
        SELECT "SessionId" AS id, CAST("SessionStartTime" AS DATE) AS day FROM jar
        WHERE {in_jar} AND "UniversalSessionId" IN (
            SELECT "UniversalSessionId" FROM _jar_base
            UNION SELECT "UniversalSessionId" FROM jar WHERE "SessionId" IN (SELECT id FROM _jar_pre) AND {in_jar}
                  AND {days_predicate(pre_days)})""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _jar_scope AS
                   SELECT id FROM _jar_pre UNION SELECT id FROM _jar_session_rows""")
    scope_days = days_predicate(pre_days + [r[0] for r in con.execute(
        "SELECT DISTINCT day FROM _jar_session_rows").fetchall()])
    con.execute("""CREATE OR REPLACE TEMP TABLE _jar_rest AS
                   SELECT id FROM _jar_scope WHERE id NOT IN (SELECT id FROM _jar_pre)""")
    RW.add_connect_rows(con, mapping, settings, "_jar_rest")
    RW.add_external_rows(con, "_jar_rest")
    count = lambda t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: E731
    return {"changed_ids": len(changed_ids), "lookback_from": since.isoformat(sep=" ") if since else "all history",
            "crm_phone_changes": count("_jar_phone_changed"),
            "callback_root_changes": count("_jar_cb_changed"), "seed_rows": count("_jar_seed")}, since, scope_days


def lookback_start(con, seeds: list[str], seeds_sql: str, lookback_days: int) -> datetime | None:
    """The earliest start among the seeds' legs and sessions less the look-back (naive UTC); None: no bound.
    `seeds_sql`: the same seeds as a query (for ids that cannot be literals)."""
    legs = ids_in("contact_id", seeds, seeds_sql)
    sessions = ids_in("session_id", seeds, seeds_sql)
    earliest, unknown = con.execute(f"""
        SELECT min(t), count(*) FILTER (WHERE t IS NULL) FROM (
            SELECT timezone('UTC', initiation_ts) AS t FROM stg_ctr WHERE {legs}
            UNION ALL SELECT timezone('UTC', started_at) FROM stg_channel_session WHERE {sessions})""").fetchone()
    if earliest is None or unknown:  # a seed without a start could be related to anything
        return None
    return earliest - timedelta(days=lookback_days)


def starts_since(column: str, since: datetime | None, zone: str = "") -> str:
    """`column` from `since` on, or unknown (a row without a start is never ruled out); a constant, so prunable."""
    if since is None:
        return "true"
    kind = "TIMESTAMPTZ" if zone else "TIMESTAMP"
    return f"({column} >= {kind} '{since.isoformat(sep=' ')}{zone}' OR {column} IS NULL)"


def fcr_targets_since(con) -> datetime | None:
    """The earliest SessionEndTime of an FCR target: a recomputed row, or a stored row in its customer's window."""
    return con.execute("""
        SELECT least((SELECT min("SessionEndTime") FROM _jar_work
                      WHERE is_resolved_origin = 'fcr' AND "CUST_ID" IS NOT NULL),
                     (SELECT min(lo) FROM _jar_aff_cust))""").fetchone()[0]


def ts_literal(moment: datetime | None) -> str:
    """A constant DuckDB can prune row groups with (a subquery it cannot); None: no target, nothing qualifies."""
    return "TIMESTAMP 'infinity'" if moment is None else f"TIMESTAMP '{moment.isoformat(sep=' ')}'"


def affected_customers(con, fcr_days: int, since: datetime | None, scope_days: str) -> None:
    """`_jar_aff_cust(cust, lo, hi)`: customers of the replaced rows (before and after) and the SessionEndTime
    range [lo, hi) of their other rows whose FCR window can contain an affected session's start. The stored rows
    of the scope were all found from `since` on; `scope_days` names the days they lie on."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _jar_aff_cust AS
        WITH starts AS (
            SELECT "CUST_ID" AS cust, min("SessionStartTime") OVER (PARTITION BY "UniversalSessionId") AS start
            FROM jar WHERE "SessionId" IN (SELECT id FROM _jar_scope) AND {starts_since('"SessionStartTime"', since)}
              AND {scope_days}
            UNION ALL
            SELECT "CUST_ID", min("SessionStartTime") OVER (PARTITION BY "UniversalSessionId") FROM _jar_work
        )
        SELECT cust, min(start) - INTERVAL ({int(fcr_days)}) DAY AS lo, max(start) AS hi
        FROM starts WHERE cust IS NOT NULL GROUP BY cust""")
