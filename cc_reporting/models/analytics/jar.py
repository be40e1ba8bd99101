"""The JAR refresh (docs/analytics.md §1-§5): one transaction, set-based SQL, full or incremental.

A full rebuild recomputes every row from staging. An incremental refresh recomputes only the rows a change can
reach and replaces them; because every row is always derived from staging the same way, the result equals a
full rebuild with the same inputs and `as_of`. From the changed ids (the *seeds*) it takes:
1. seeds = changed legs/sessions + legs whose phone-lookup outcome changed with the CRM extract + legs whose
   chain root moved because a callback leg anywhere on their walk changed;
2. + legs whose chain root is a seed (their UniversalSessionId reads the root row's attribute),
   + legs whose NextContactId is a seed (transfer columns), + the legs seeds name as PreviousContactId, now or
   before (CallBackSessionId of the requester);
3. + every row of every universal session those rows belong to, now or before (JourneyStep, journey_path,
   the external next contact);
4. then IsResolved of the same customers' other rows that end within N days before a start of an affected
   session (old or new start) is recomputed in place, and IsResolvedFinal of every row is brought up to `as_of`.
What the previous refresh was built from (CRM phone map, callback roots, settings, staging watermark) is kept
in small `jar_*` tables so the next one can tell what changed; `jar_session_day` (jar_days) maps every row's
SessionId to its day, so stored rows named by id are read and replaced on their own days, whatever their age.
Usual call, after staging in the same run:
`refresh_jar_pending(con, settings, as_of)` (a full rebuild the first time, incremental afterwards).
"""
from __future__ import annotations

from datetime import datetime, timezone

from cc_reporting.models.analytics import jar_links, jar_scope
from cc_reporting.models.analytics import jar_rows as RW
from cc_reporting.models.analytics.car import mark_car_pending
from cc_reporting.models.analytics.jar_config import VALIDATED_KEYS, JarMapping, config_hash, load_jar_mapping
from cc_reporting.models.analytics.jar_days import refill_if_out_of_step, replace_days
from cc_reporting.models.analytics.jar_schema import ensure_jar_tables
from cc_reporting.staging.channel_sessions import ensure_channel_session_table
from cc_reporting.staging.ctr_table import STG_CTR_DDL

CUST_ID_ORIGINS = ("attribute", "phone", "ambiguous_phone", "none")
_TEMP_TABLES = ("_jar_changed", "_jar_seed", "_jar_pre", "_jar_scope", "_jar_session_rows", "_jar_rest",
                "_jar_phone_changed", "_jar_cb_changed", "_jar_cb_root", "_jar_phone_map_new", "_jar_base", "_jar_work",
                "_jar_aff_cust", "_jar_cust_sessions", "_jar_fcr")


def _utc_naive(t: datetime) -> datetime:
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def _final(fcr_days: int) -> str:
    """IsResolvedFinal: the attribute is final; the FCR rule once its N-day window has passed at as_of."""
    return (f"(is_resolved_origin = 'attribute' OR "
            f"coalesce($as_of >= \"SessionEndTime\" + INTERVAL ({int(fcr_days)}) DAY, false))")


def ensure_jar_inputs(con) -> None:
    """Staging tables the JAR reads (empty when nothing landed yet) and the JAR's own tables."""
    con.execute(STG_CTR_DDL)
    ensure_channel_session_table(con)
    ensure_jar_tables(con)


_STAGED_THROUGH = """SELECT max(t) FROM (SELECT max(ingested_at) AS t FROM stg_ctr
                                        UNION ALL SELECT max(ingested_at) FROM stg_channel_session)"""


def _pending(con) -> tuple[list[str] | None, datetime | None]:
    """(ids staged after the last refresh's watermark up to now, the new watermark)."""
    ensure_jar_inputs(con)
    through = con.execute(_STAGED_THROUGH).fetchone()[0]
    state = con.execute("SELECT staged_through FROM jar_refresh_state").fetchone()
    if state is None:
        return None, through
    rows = con.execute(
        """SELECT contact_id FROM stg_ctr WHERE ingested_at > coalesce($t, '-infinity'::TIMESTAMPTZ)
                                            AND ingested_at <= $through
           UNION
           SELECT session_id FROM stg_channel_session WHERE ingested_at > coalesce($t, '-infinity'::TIMESTAMPTZ)
                                                        AND ingested_at <= $through""",
        {"t": state[0], "through": through},
    ).fetchall()
    return [r[0] for r in rows], through


def pending_session_ids(con) -> list[str] | None:
    """Ids staged or changed since the last refresh; None when the JAR was never built (a full rebuild)."""
    return _pending(con)[0]


def refresh_jar_pending(con, settings, as_of: datetime, mapping: JarMapping | None = None) -> dict:
    """Refresh with whatever staging changed since the last refresh (incremental once the JAR exists)."""
    ids, through = _pending(con)
    return refresh_jar(con, settings, as_of, ids, mapping, staged_through=through)


def refresh_jar(con, settings, as_of: datetime, changed_session_ids: list[str] | None = None,
                mapping: JarMapping | None = None, *, staged_through: datetime | None = None) -> dict:
    """Bring `jar` up to date as of `as_of`; None = full rebuild. Returns metadata counts (docs/analytics.md §5).

    Runs its own transaction: call it outside one. A changed mapping or setting forces a full rebuild.
    `staged_through`: the staging watermark the changed ids cover (default: all staged when the refresh
    starts); the next `pending_session_ids` starts after it."""
    mapping = mapping or load_jar_mapping()
    ensure_jar_inputs(con)
    cfg = config_hash(mapping, settings)
    fcr_days = int(settings.fcr_days)
    as_of_naive = _utc_naive(as_of)
    con.execute("BEGIN TRANSACTION")
    try:
        if staged_through is None:
            staged_through = con.execute(_STAGED_THROUGH).fetchone()[0]
        state = con.execute("SELECT config_hash FROM jar_refresh_state").fetchone()
        full = changed_session_ids is None or state is None or state[0] != cfg
        stats = _prepare_links(con, None if full else changed_session_ids, int(settings.jar_lookback_days))
        since = None
        if full:
            _work_rows_of_everything(con, mapping, settings, fcr_days)
        else:
            since = _work_rows_of_the_changes(con, mapping, settings, fcr_days, changed_session_ids, stats)
        stats["rows_recomputed"] = con.execute("SELECT count(*) FROM _jar_work").fetchone()[0]
        _insert_work_rows(con, fcr_days, as_of_naive, full)
        if not full:
            stats.update(_update_stored_verdicts(con, fcr_days, as_of_naive, since))
        # The CAR recomputes just these customers (all of them after a full rebuild).
        mark_car_pending(con, None if full else "SELECT cust FROM _jar_aff_cust")
        _save_state(con, full, cfg, as_of_naive, staged_through)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in _TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS temp.{name}")
    stats.update(jar_summary(con))
    return stats


def _prepare_links(con, changed_session_ids: list[str] | None, lookback_days: int) -> dict:
    """Callback roots and the phone map (temp tables) for a full rebuild (None) or for the changed legs.

    A callback's root can move only when a leg on its walk changed, and callbacks come after what they call back:
    the incremental refresh re-walks the callbacks from the changed legs' look-back on."""
    walk_from, changed = None, None
    if changed_session_ids is not None:
        con.execute("CREATE OR REPLACE TEMP TABLE _jar_changed AS SELECT unnest($ids::VARCHAR[]) AS id",
                    {"ids": list(changed_session_ids)})
        changed = "SELECT id FROM _jar_changed"
        walk_from = jar_scope.lookback_start(con, changed_session_ids, changed, lookback_days)
    passes = jar_links.build_callback_roots(con, changed, walk_from)
    jar_links.build_phone_map(con)
    RW.create_base_table(con)
    return {"mode": "incremental" if changed else "full", "callback_root_passes": passes}


def _work_rows_of_everything(con, mapping: JarMapping, settings, fcr_days: int) -> None:
    """`_jar_work` and `_jar_fcr` for every leg and session; the stored JAR emptied for the rewrite."""
    RW.add_connect_rows(con, mapping, settings, None)
    RW.add_external_rows(con, None)
    jar_links.link_rows(con)
    con.execute("DELETE FROM jar")
    con.execute("DELETE FROM jar_invalid_attribute")
    jar_links.customer_sessions(con)
    jar_links.fcr(con, fcr_days, """SELECT "SessionId", "CUST_ID", "UniversalSessionId", "SessionEndTime"
                     FROM _jar_work WHERE is_resolved_origin = 'fcr' AND "CUST_ID" IS NOT NULL""")


def _work_rows_of_the_changes(con, mapping: JarMapping, settings, fcr_days: int, changed_session_ids: list[str],
                              stats: dict) -> datetime | None:
    """`_jar_work` for the changed legs and their relatives, `_jar_fcr` for the affected customers' FCR targets;
    the stored rows they replace deleted; counts into `stats`. Leaves `_jar_aff_cust` for the verdict update and
    the CAR; returns the earliest FCR target end (None: no target)."""
    stats["session_day_refilled"] = refill_if_out_of_step(con)
    scope_stats, since, scope_days = jar_scope.incremental_scope(con, mapping, settings, changed_session_ids)
    stats.update(scope_stats)
    jar_links.link_rows(con)
    jar_scope.affected_customers(con, fcr_days, since, scope_days)  # reads the stored rows before they are replaced
    stats["rows_replaced"] = con.execute(
        f'DELETE FROM jar WHERE "SessionId" IN (SELECT id FROM _jar_scope) AND {scope_days}').fetchone()[0]
    con.execute("DELETE FROM jar_invalid_attribute WHERE SessionId IN (SELECT id FROM _jar_scope)")
    # No FCR target ends before `since`, so only sessions starting after it can decide one: a bound that lets
    # DuckDB skip the older row groups of jar (the rest of the customers' history).
    since = jar_scope.fcr_targets_since(con)
    in_aff = '"CUST_ID" IN (SELECT cust FROM _jar_aff_cust)'
    jar_links.customer_sessions(con, work_filter="true", jar_filter=in_aff, since=since)
    jar_links.fcr(con, fcr_days, f"""
        SELECT "SessionId", "CUST_ID", "UniversalSessionId", "SessionEndTime" FROM _jar_work
        WHERE is_resolved_origin = 'fcr' AND "CUST_ID" IS NOT NULL
        UNION ALL
        SELECT j."SessionId", j."CUST_ID", j."UniversalSessionId", j."SessionEndTime"
        FROM jar j JOIN _jar_aff_cust a ON a.cust = j."CUST_ID"
        WHERE j.is_resolved_origin = 'fcr' AND j."SessionEndTime" >= a.lo AND j."SessionEndTime" < a.hi
          AND j."SessionEndTime" >= {jar_scope.ts_literal(since)}""")
    return since


def _insert_work_rows(con, fcr_days: int, as_of: datetime, full: bool) -> None:
    """The recomputed rows into `jar` with their FCR verdicts, their days into the side table, their invalid
    attributes into `jar_invalid_attribute`."""
    con.execute(f"""
        INSERT INTO jar BY NAME
        SELECT w.* EXCLUDE (next_contact_id, channel, invalid_attrs) REPLACE (
            CASE WHEN w.is_resolved_origin = 'attribute' THEN w."IsResolved" ELSE f.resolved END AS "IsResolved",
            {_final(fcr_days)} AS "IsResolvedFinal")
        FROM _jar_work w LEFT JOIN _jar_fcr f ON f."SessionId" = w."SessionId" """, {"as_of": as_of})
    replace_days(con, None if full else "SELECT id FROM _jar_scope",
                 'SELECT "SessionId", "SessionStartTime" FROM _jar_work')
    con.execute("""INSERT INTO jar_invalid_attribute
                   SELECT "SessionId", unnest(invalid_attrs) FROM _jar_work WHERE len(invalid_attrs) > 0""")


def _update_stored_verdicts(con, fcr_days: int, as_of: datetime, since: datetime | None) -> dict:
    """After an incremental refresh: stored FCR targets an affected session decides, and provisional verdicts."""
    # Same customer's earlier rows whose N-day window saw an affected session start. The recomputed rows were
    # inserted with their value: only stored targets (ending at or after `since`) can differ.
    updated = con.execute(f"""
        UPDATE jar SET "IsResolved" = f.resolved FROM _jar_fcr f
        WHERE jar."SessionId" = f."SessionId" AND jar."IsResolved" IS DISTINCT FROM f.resolved
          AND jar."SessionEndTime" >= {jar_scope.ts_literal(since)}""").fetchone()[0]
    # Provisional rows reach their final value here as as_of moves (and go back if it moves back).
    finalized = con.execute(f"""
        UPDATE jar SET "IsResolvedFinal" = {_final(fcr_days)}
        WHERE ("IsResolvedFinal" = false OR "SessionEndTime" > $as_of - INTERVAL ({fcr_days}) DAY)
          AND "IsResolvedFinal" IS DISTINCT FROM {_final(fcr_days)}""", {"as_of": as_of}).fetchone()[0]
    return {"fcr_rows_updated": updated, "rows_finalized": finalized}


def _save_state(con, full: bool, cfg: str, as_of: datetime, staged_through) -> None:
    """Remember what this refresh was built from: the next refresh diffs against it."""
    if full:
        con.execute("DELETE FROM jar_phone_map")
        con.execute("INSERT INTO jar_phone_map SELECT * FROM _jar_phone_map_new")
        con.execute("DELETE FROM jar_callback_root")
        con.execute("INSERT INTO jar_callback_root SELECT contact_id, root FROM _jar_cb_root")
    else:
        con.execute("DELETE FROM jar_phone_map WHERE phone_hash IN (SELECT phone_hash FROM _jar_phone_changed)")
        con.execute("""INSERT INTO jar_phone_map SELECT * FROM _jar_phone_map_new
                       WHERE phone_hash IN (SELECT phone_hash FROM _jar_phone_changed)""")
        con.execute("DELETE FROM jar_callback_root WHERE contact_id IN (SELECT id FROM _jar_cb_changed)")
        con.execute("""INSERT INTO jar_callback_root SELECT contact_id, root FROM _jar_cb_root
                       WHERE contact_id IN (SELECT id FROM _jar_cb_changed)""")
    con.execute("DELETE FROM jar_refresh_state")
    con.execute("INSERT INTO jar_refresh_state VALUES (?, ?, ?, now())", [cfg, as_of, staged_through])


def jar_summary(con) -> dict:
    """Table-wide metadata (docs/analytics.md §5): rows by source, CUST_ID by origin, invalid values, provisional."""
    by_source: dict = {}
    origins = dict.fromkeys(CUST_ID_ORIGINS, 0)
    provisional = 0
    for source, origin, final, count in con.execute(
            'SELECT source, cust_id_origin, "IsResolvedFinal", count(*) FROM jar GROUP BY ALL ORDER BY ALL').fetchall():
        by_source[source] = by_source.get(source, 0) + count
        origins[origin] = origins.get(origin, 0) + count
        provisional += count if final is False else 0
    invalid = dict.fromkeys(VALIDATED_KEYS, 0)
    invalid.update(dict(con.execute(
        "SELECT attribute, count(*) FROM jar_invalid_attribute GROUP BY attribute").fetchall()))
    return {"rows": sum(by_source.values()), "rows_by_source": by_source, "cust_id_by_origin": origins,
            "invalid_values": invalid, "provisional_rows": provisional}
