"""JAR rules that read other rows (docs/analytics.md §2 chain root and next contact, §4 FCR), as set-based SQL.

Temp tables, in the order the refresh builds them:
- `_jar_cb_root(contact_id, root)`: for every callback leg `c`, the chain root reached when the walk of §2
  arrives at `c`. Only callback legs continue a walk, so resolving them alone resolves every leg:
  root(leg) = `_jar_cb_root.root` of its `InitialContactId`-or-self when that is a callback, else that id.
- `_jar_phone_map_new(phone_hash, cust_id, customers)`: the CRM lookup (cust_id only when exactly one customer).
- `_jar_work`: `_jar_base` with the cross-row columns filled in; `_jar_base` must hold whole universal sessions.
- `_jar_fcr(SessionId, resolved)`: the FCR rule for the target rows.
"""
from __future__ import annotations

from cc_reporting.models.analytics.follow_up import followed_sql
from cc_reporting.models.analytics.jar_rows import CHANNEL_TYPE
from cc_reporting.models.analytics.jar_schema import table_exists
from cc_reporting.resources.warehouse import ids_in

MAX_CALLBACK_HOPS = 20


def build_callback_roots(con, changed_sql: str | None = None, walk_from=None) -> int:
    """Resolve callback legs' roots with a few UPDATE passes (one hop each); returns the passes run.

    A full refresh (`changed_sql` None) walks every callback. An incremental one re-walks only callbacks initiated
    from `walk_from` on (naive UTC; None: all) and takes the other, unchanged ones' roots from the previous refresh
    (`jar_callback_root`): a walk reaching an older callback ends at that callback's stored root. Callbacks come
    after the leg they call back, so an older callback's walk holds no changed leg."""
    # One hop from callback c: row p = c.PreviousContactId, go to p's InitialContactId (p itself when that is
    # null or p is not staged). stg_ctr.root_contact_id is already coalesce(InitialContactId, ContactId).
    recent = "true" if walk_from is None else (
        f"(initiation_ts >= TIMESTAMPTZ '{walk_from.isoformat(sep=' ')}+00' OR initiation_ts IS NULL)")
    callbacks = f"""SELECT contact_id, previous_contact_id FROM stg_ctr
                    WHERE initiation_method = 'CALLBACK' AND previous_contact_id IS NOT NULL AND {recent}"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _jar_cb_walk AS {callbacks}")
    requesters = [r[0] for r in con.execute("SELECT DISTINCT previous_contact_id FROM _jar_cb_walk").fetchall()]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _jar_cb_step AS
        SELECT c.contact_id, coalesce(p.root_contact_id, c.previous_contact_id) AS step
        FROM _jar_cb_walk c LEFT JOIN (
            SELECT contact_id, root_contact_id FROM stg_ctr
            WHERE {ids_in('contact_id', requesters, 'SELECT previous_contact_id FROM _jar_cb_walk')}) p
          ON p.contact_id = c.previous_contact_id""")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _jar_cb_root AS SELECT contact_id, step AS root, 1 AS hops FROM _jar_cb_step")
    passes = 0
    while passes < MAX_CALLBACK_HOPS - 1:
        updated = con.execute(f"""
            UPDATE _jar_cb_root SET root = s.step, hops = hops + 1 FROM _jar_cb_step s
            WHERE _jar_cb_root.root = s.contact_id AND _jar_cb_root.hops < {MAX_CALLBACK_HOPS}""").fetchone()[0]
        passes += 1
        if not updated:
            break
    if changed_sql is not None:
        kept = f"""SELECT contact_id, root FROM jar_callback_root
                   WHERE contact_id NOT IN (SELECT contact_id FROM _jar_cb_step)
                     AND contact_id NOT IN ({changed_sql})"""  # a changed leg may no longer be a callback
        con.execute(f"""UPDATE _jar_cb_root SET root = o.root FROM ({kept}) o WHERE _jar_cb_root.root = o.contact_id""")
        con.execute(f"INSERT INTO _jar_cb_root SELECT contact_id, root, 0 FROM ({kept})")
    con.execute("DROP TABLE _jar_cb_step")
    con.execute("DROP TABLE _jar_cb_walk")
    return passes


def build_phone_map(con) -> None:
    """The latest CRM extract's phone hashes; a hash shared by two or more customers matches nobody."""
    if table_exists(con, "stg_crm_customer"):
        source = """SELECT phone_hash, Cust_ID FROM stg_crm_customer
                    WHERE phone_hash IS NOT NULL AND Cust_ID IS NOT NULL"""
    else:  # the CRM has not landed yet: nobody can be found by phone
        source = "SELECT NULL::VARCHAR AS phone_hash, NULL::VARCHAR AS Cust_ID WHERE false"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _jar_phone_map_new AS
        SELECT phone_hash, CASE WHEN count(DISTINCT Cust_ID) = 1 THEN min(Cust_ID) END AS cust_id,
               CAST(count(DISTINCT Cust_ID) AS INTEGER) AS customers
        FROM ({source}) GROUP BY phone_hash""")


def link_rows(con) -> None:
    """`_jar_work` = `_jar_base` + next contact, callback links, JourneyStep, journey_path."""
    next_sql = "SELECT next_contact_id FROM _jar_base WHERE next_contact_id IS NOT NULL"
    next_ids = [r[0] for r in con.execute(next_sql).fetchall()]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _jar_work AS
        WITH nxt AS (  -- the next contact of Connect legs, read from staging: it may lie outside the scope
            SELECT contact_id, {CHANNEL_TYPE} AS channel_type, agent_username, queue_id FROM stg_ctr
            WHERE {ids_in('contact_id', next_ids, next_sql)}
        ), requested AS (  -- legs that requested a callback: the earliest callback leg pointing back at them
            SELECT previous_contact_id AS requester,
                   first(contact_id ORDER BY initiation_ts NULLS LAST, contact_id) AS callback_id
            FROM stg_ctr
            WHERE initiation_method = 'CALLBACK'
              AND previous_contact_id IN (SELECT "SessionId" FROM _jar_base WHERE source = 'connect')
            GROUP BY previous_contact_id
        ), stepped AS (
            SELECT "SessionId", row_number() OVER w AS step,
                   lead("AgentId") OVER w AS next_agent, lead("AgentSkillId") OVER w AS next_skill
            FROM _jar_base
            WINDOW w AS (PARTITION BY "UniversalSessionId" ORDER BY "SessionStartTime" NULLS LAST, "SessionId")
        ), paths AS (
            SELECT "UniversalSessionId",
                   string_agg(coalesce("ChannelType", 'UNKNOWN'), '>'
                              ORDER BY "SessionStartTime" NULLS LAST, "SessionId") AS path
            FROM _jar_base GROUP BY "UniversalSessionId"
        )
        SELECT b.* REPLACE (
            CAST(st.step AS INTEGER) AS "JourneyStep",
            p.path AS journey_path,
            CASE WHEN b.source <> 'connect' THEN b."ChannelTypeTransferred"
                 WHEN b.next_contact_id IS NOT NULL THEN coalesce(n.channel_type, b.channel)  -- own Channel
                 ELSE b."ChannelTypeTransferred" END AS "ChannelTypeTransferred",          -- EXTERNAL or null
            CASE WHEN b.source <> 'connect' THEN st.next_agent ELSE n.agent_username END AS "AgentIdTransferred",
            CASE WHEN b.source <> 'connect' THEN st.next_skill ELSE n.queue_id END AS "AgentSkillIdTransferred",
            CASE WHEN b.source <> 'connect' OR b."IsCallBack" THEN b."CallBackSessionId"
                 ELSE r.callback_id END AS "CallBackSessionId")
        FROM _jar_base b
        JOIN stepped st USING ("SessionId")
        JOIN paths p USING ("UniversalSessionId")
        LEFT JOIN nxt n ON n.contact_id = b.next_contact_id
        LEFT JOIN requested r ON r.requester = b."SessionId" AND b.source = 'connect'""")


def customer_sessions(con, work_filter: str = "true", jar_filter: str = "false", since=None) -> None:
    """`_jar_cust_sessions(cust, usid, start)`: customer-started universal sessions per customer (§4).

    Sessions come from `_jar_work` rows passing `work_filter` and from stored `jar` rows passing `jar_filter`;
    the two never share a universal session (the work table holds whole sessions and replaces them).
    `since`: only stored sessions starting after it are wanted (every row of such a session starts after it;
    a row without a start keeps its session's membership)."""
    after = "true" if since is None else f"\"SessionStartTime\" > TIMESTAMP '{since.isoformat(sep=' ')}'"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _jar_cust_sessions AS
        WITH member AS (
            SELECT DISTINCT "CUST_ID" AS cust, "UniversalSessionId" AS usid FROM _jar_work
            WHERE "CUST_ID" IS NOT NULL AND ({work_filter})
            UNION
            SELECT DISTINCT "CUST_ID", "UniversalSessionId" FROM jar
            WHERE "CUST_ID" IS NOT NULL AND ({jar_filter}) AND ({after} OR "SessionStartTime" IS NULL)
        ), firsts AS (
            SELECT "UniversalSessionId" AS usid, "SessionStartTime" AS start, is_outbound
            FROM _jar_work WHERE "JourneyStep" = 1
            UNION ALL
            SELECT "UniversalSessionId", "SessionStartTime", is_outbound FROM jar
            WHERE "JourneyStep" = 1 AND {after} AND "UniversalSessionId" IN (SELECT usid FROM member)
        )
        SELECT m.cust, m.usid, f.start FROM member m JOIN firsts f USING (usid) WHERE f.is_outbound = 0""")


def fcr(con, fcr_days: int, targets_sql: str) -> None:
    """`_jar_fcr`: a target row is resolved when no other customer-started session of its customer starts in
    (SessionEndTime, SessionEndTime + N days]. `targets_sql` yields SessionId, CUST_ID, UniversalSessionId,
    SessionEndTime of rows whose IsResolved comes from this rule and whose CUST_ID is known."""
    targets = f"""SELECT "SessionId", "CUST_ID" AS cust, "UniversalSessionId" AS usid, "SessionEndTime" AS ended
                  FROM ({targets_sql})"""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _jar_fcr AS
        SELECT "SessionId", NOT bool_or(followed) AS resolved
        FROM ({followed_sql(targets, "SELECT cust, usid, start FROM _jar_cust_sessions",
                            f"INTERVAL ({int(fcr_days)}) DAY")})
        GROUP BY "SessionId"
        """)
