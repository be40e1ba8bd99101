"""JAR columns that a row's own record decides (docs/analytics.md §2-§3), for Connect legs and external sessions.

Both builders append to the temp table `_jar_base` (the `jar` columns plus a few helper columns) for the rows
whose id is in a scope table `(id VARCHAR)`, or for every staged row when the scope is None. They read two temp
tables the refresh prepares first: `_jar_cb_root` (chain roots through callbacks) and `_jar_phone_map_new`
(the CRM phone lookup). Columns that read other rows are placeholders here; jar_links fills them in.
"""
from __future__ import annotations

from cc_reporting.models.analytics.jar_config import (
    JarMapping,
    attr,
    attr_bool,
    attr_csat,
    attribute_list_sql,
    invalid_attributes_sql,
)
from cc_reporting.models.analytics.jar_schema import EXTRA_COLUMNS, SEED_COLUMNS
from cc_reporting.models.teleopti import rules as teleopti_rules
from cc_reporting.resources.warehouse import ids_in
from cc_reporting.staging.instances import instance_sql

# Every rule below that Teleopti also uses comes from teleopti/rules.py, so the JAR's flags and the Teleopti
# queue statistics cannot drift apart. The expressions use stg_ctr's bare column names.
CHANNEL_TYPE = (f"(CASE WHEN channel = 'VOICE' AND NOT {teleopti_rules.IS_QUEUED} "
                f"AND NOT {teleopti_rules.IS_ANSWERED} THEN 'IVR' ELSE channel END)")
HAS_AGENT = "(agent_connected_ts IS NOT NULL OR agent_username IS NOT NULL OR agent_id IS NOT NULL)"

HELPER_COLUMNS = "next_contact_id VARCHAR, channel VARCHAR, invalid_attrs VARCHAR[]"


def utc(column: str) -> str:
    """TIMESTAMPTZ -> TIMESTAMP in UTC, whatever the session time zone."""
    return f"timezone('UTC', {column})"


def seconds(start: str, end: str) -> str:
    """Whole seconds from start to end, floored (a difference of two timestamps)."""
    return f"CAST(floor((epoch_us({end}) - epoch_us({start})) / 1000000.0) AS INTEGER)"


def flag(condition: str) -> str:
    return f"CAST(coalesce({condition}, false) AS INTEGER)"


def create_base_table(con) -> None:
    # Explicit DDL, not `CREATE TABLE AS ... LIMIT 0`: in DuckDB 2.0 a table created empty by CTAS inside a
    # transaction and then filled with a large INSERT returns no rows to GROUP BY and joins.
    columns = ", ".join(f'"{name}" {sql_type.replace(" NOT NULL", "")}'
                        for name, sql_type in SEED_COLUMNS + EXTRA_COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _jar_base ({columns}, {HELPER_COLUMNS})")


# The stg_ctr columns the JAR reads (not `s.*`: a scan reads every column it projects, for every row).
LEG_COLUMNS = ("contact_id, previous_contact_id, next_contact_id, root_contact_id, channel, initiation_method, "
               "initiation_ts, disconnect_ts, disconnect_reason, transfer_completed_ts, agent_id, agent_username, "
               "agent_connected_ts, agent_interaction_duration, customer_hold_duration, acw_start_ts, acw_end_ts, "
               "acw_duration, queue_id, queue_name, enqueue_ts, queue_duration, customer_phone_hash, connect_instance")


def _scope_filter(con, column: str, scope: str | None) -> str:
    """`WHERE column IN scope` as an index lookup (the scopes are small; the tables grow with the history)."""
    if not scope:
        return ""
    ids = [r[0] for r in con.execute(f"SELECT id FROM {scope}").fetchall()]
    return f"WHERE {ids_in(column, ids, f'SELECT id FROM {scope}')}"


def add_connect_rows(con, mapping: JarMapping, settings, scope: str | None) -> None:
    """One row per staged leg in scope."""
    usid_pos = mapping.index("universal_session_id")
    where = _scope_filter(con, "s.contact_id", scope)
    # 1. The legs, their attributes parsed once, and their chain root (through callbacks, see jar_links).
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _jar_legs AS
        SELECT {', '.join('s.' + c for c in LEG_COLUMNS.split(', '))},
               {', '.join(f's.hierarchy_level{n}' for n in sorted({mapping.department_level, mapping.team_level}))},
               {attribute_list_sql(mapping, 's.attributes')} AS av,
               coalesce(cb.root, s.root_contact_id) AS chain_root
        FROM stg_ctr s LEFT JOIN _jar_cb_root cb ON cb.contact_id = s.root_contact_id
        {where}""")
    # 2. The root row's universal session id, for legs without their own: a chain never splits.
    roots_sql = f"SELECT chain_root FROM _jar_legs WHERE av[{usid_pos}] IS NULL AND chain_root <> contact_id"
    roots = [r[0] for r in con.execute(roots_sql).fetchall()]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _jar_root_usid AS
        SELECT contact_id, {attribute_list_sql(mapping)}[{usid_pos}] AS usid FROM stg_ctr
        WHERE {ids_in('contact_id', roots, roots_sql)}""")
    a = lambda key: attr(mapping, key)  # noqa: E731
    b = lambda key: attr_bool(mapping, key)  # noqa: E731
    # absent -> false; present -> true/false, or null when invalid
    absent_false = lambda key: f"(CASE WHEN {a(key)} IS NULL THEN false ELSE {b(key)} END)"  # noqa: E731
    voice_inbound = "(channel = 'VOICE' AND initiation_method = 'INBOUND')"
    queued = teleopti_rules.IS_QUEUED
    sla, short = int(settings.sla_seconds), int(settings.short_abandon_seconds)
    session_end = "coalesce(acw_end_ts, disconnect_ts)"
    con.execute(f"""
        INSERT INTO _jar_base BY NAME
        SELECT
            {CHANNEL_TYPE} AS "ChannelType",
            coalesce({a('universal_session_id')}, ru.usid, l.chain_root) AS "UniversalSessionId",
            l.contact_id AS "SessionId",
            CASE WHEN initiation_method = 'MONITOR' THEN NULL  -- supervisors, not customers
                 WHEN {a('customer_id')} IS NOT NULL THEN {a('customer_id')}
                 WHEN pm.customers = 1 THEN pm.cust_id END AS "CUST_ID",
            {utc('initiation_ts')} AS "SessionStartTime",
            {utc('agent_connected_ts')} AS "InteractionStartTime",
            CASE WHEN agent_connected_ts IS NOT NULL THEN {utc('coalesce(acw_start_ts, disconnect_ts)')} END
                AS "InteractionEndTime",
            {utc(session_end)} AS "SessionEndTime",
            CASE WHEN {HAS_AGENT} THEN customer_hold_duration END AS "HoldTime",
            agent_username AS "AgentId",
            queue_id AS "AgentSkillId",
            hierarchy_level{mapping.department_level} AS "Department",
            hierarchy_level{mapping.team_level} AS "Team",
            {a('intent_category')} AS "IntentCategory",
            {a('intent')} AS "Intent",
            {b('is_resolved')} AS "IsResolved",  -- the FCR rule fills the rest (jar_links)
            {teleopti_rules.LEFT_BY_TRANSFER_OR_CALLBACK_SIGN} AS "IsTransferred",
            CASE WHEN next_contact_id IS NULL AND transfer_completed_ts IS NOT NULL THEN 'EXTERNAL' END
                AS "ChannelTypeTransferred",
            CASE WHEN {voice_inbound} THEN {absent_false('digital_offered')} END
                AS "IsDigitalOffered",
            CASE WHEN {voice_inbound} THEN {absent_false('digital_accepted')} END
                AS "IsDigitalAccepted",
            coalesce({a('exit_reason')}, disconnect_reason) AS "ExitReasonCode",
            {a('wrap_up_notes')} AS "InteractionNotes",
            {absent_false('survey_offered')} AS "IsTransferredToSurvey",
            {attr_csat(mapping)} AS "CSATScore",
            coalesce(initiation_method = 'CALLBACK', false) AS "IsCallBack",
            CASE WHEN initiation_method = 'CALLBACK' THEN previous_contact_id END AS "CallBackSessionId",
            {seconds('initiation_ts', session_end)} AS "SessionDuration",
            {seconds('initiation_ts', 'disconnect_ts')} AS "CustomerDuration",
            CASE WHEN {HAS_AGENT} THEN coalesce(agent_interaction_duration, 0) + coalesce(customer_hold_duration, 0)
                                       + coalesce(acw_duration, 0) END AS "AgentDuration",
            CASE WHEN {HAS_AGENT} THEN agent_interaction_duration END AS "InteractionDuration",
            CASE WHEN {queued} THEN queue_duration END AS "QueueTime",
            'connect' AS source,
            l.chain_root AS root_contact_id,
            initiation_method, queue_name,
            {utc('enqueue_ts')} AS enqueued_at,
            CASE WHEN {HAS_AGENT} THEN acw_duration END AS acw_duration,
            CASE WHEN {CHANNEL_TYPE} IN ('IVR', 'VOICE') THEN 'PHONE' ELSE {a('device')} END AS device,
            previous_contact_id,
            {flag(queued)} AS is_queued,
            {flag(f'{queued} AND {teleopti_rules.IS_ANSWERED}')} AS is_answered,
            {flag(f'{queued} AND {teleopti_rules.IS_ABANDONED}')} AS is_abandoned,
            {flag(f'{queued} AND {teleopti_rules.short_abandon(short)}')} AS is_short_abandon,
            {flag(f'{queued} AND {teleopti_rules.answered_within_sla(sla)}')} AS answered_within_sla,
            {flag(f'{queued} AND {teleopti_rules.abandoned_within_sla(short, sla)}')} AS abandoned_within_sla,
            {flag("initiation_method = 'OUTBOUND'")} AS is_outbound,
            {flag(teleopti_rules.IS_TRANSFER_IN)} AS is_transfer_in,
            CASE WHEN initiation_method = 'MONITOR' THEN 'none'
                 WHEN {a('customer_id')} IS NOT NULL THEN 'attribute'
                 WHEN pm.customers = 1 THEN 'phone'
                 WHEN pm.customers > 1 THEN 'ambiguous_phone'
                 ELSE 'none' END AS cust_id_origin,
            CASE WHEN {b('is_resolved')} IS NOT NULL THEN 'attribute' ELSE 'fcr' END AS is_resolved_origin,
            connect_instance, next_contact_id, channel,
            {invalid_attributes_sql(mapping)} AS invalid_attrs
        FROM _jar_legs l
        LEFT JOIN _jar_root_usid ru ON ru.contact_id = l.chain_root
        LEFT JOIN _jar_phone_map_new pm ON pm.phone_hash = l.customer_phone_hash""")
    con.execute("DROP TABLE _jar_legs")
    con.execute("DROP TABLE _jar_root_usid")


def add_external_rows(con, scope: str | None) -> None:
    """One row per staged external session in scope (a Connect leg with the same id keeps the SessionId)."""
    where = _scope_filter(con, "e.session_id", scope)
    if scope:  # only the scope's ids can collide: look those up instead of anti-joining all of stg_ctr
        where += f" AND e.session_id NOT IN (SELECT contact_id FROM stg_ctr {_scope_filter(con, 'contact_id', scope)})"
    else:
        where = "WHERE NOT EXISTS (SELECT 1 FROM stg_ctr c WHERE c.contact_id = e.session_id)"
    con.execute(f"""
        INSERT INTO _jar_base BY NAME
        SELECT
            e.channel AS "ChannelType",
            coalesce(e.universal_session_id, e.session_id) AS "UniversalSessionId",
            e.session_id AS "SessionId",
            e.customer_id AS "CUST_ID",
            {utc('e.started_at')} AS "SessionStartTime",
            {utc('e.bot_started_at')} AS "InteractionStartTime",
            CASE WHEN e.bot_started_at IS NOT NULL THEN {utc('e.ended_at')} END AS "InteractionEndTime",
            {utc('e.ended_at')} AS "SessionEndTime",
            e.intent_category AS "IntentCategory", e.intent AS "Intent",
            e.resolved AS "IsResolved",
            e.handed_off_to IS NOT NULL AS "IsTransferred",
            e.handed_off_to AS "ChannelTypeTransferred",
            e.exit_reason AS "ExitReasonCode",
            false AS "IsCallBack",
            {seconds('e.started_at', 'e.ended_at')} AS "SessionDuration",
            {seconds('e.started_at', 'e.ended_at')} AS "CustomerDuration",
            {seconds('e.bot_started_at', 'e.ended_at')} AS "InteractionDuration",
            e.source, e.device,
            {', '.join(f'0 AS {f}' for f in ('is_queued', 'is_answered', 'is_abandoned', 'is_short_abandon',
                                              'answered_within_sla', 'abandoned_within_sla', 'is_outbound',
                                              'is_transfer_in'))},
            CASE WHEN e.customer_id IS NOT NULL THEN 'attribute' ELSE 'none' END AS cust_id_origin,
            CASE WHEN e.resolved IS NOT NULL THEN 'attribute' ELSE 'fcr' END AS is_resolved_origin,
            e.channel AS channel,
            {instance_sql('e.source_key')} AS connect_instance,  -- the instance whose landing prefix held the file
            []::VARCHAR[] AS invalid_attrs
        FROM stg_channel_session e {where}""")

