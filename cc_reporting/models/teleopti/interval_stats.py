"""Teleopti interval statistics (docs/teleopti-feed.md), computed set-based in DuckDB from stg_ctr / stg_agent_report.

Every builder replaces the rows of a UTC window [start, end) inside the caller's transaction: rerunning a window
gives the same rows (delete the window, insert).
"""
from __future__ import annotations

from datetime import datetime

from cc_reporting.models.teleopti import rules
from cc_reporting.realtime import intervals as agent_state
from cc_reporting.staging.dimension_tables import dimension_queue_names
from cc_reporting.staging.instances import (
    add_instance_column,
    configured_instances,
    have_instance_column,
    root_instance_name,
)

QUEUE_STATS_COLUMNS = [
    "interval", "date", "time", "queue", "queue_name", "offd_direct_call_cnt", "overflow_in_call_cnt",
    "aband_call_cnt", "overflow_out_call_cnt", "answ_call_cnt", "queued_and_answ_call_dur",
    "queued_and_aband_call_dur", "talking_call_dur", "wrap_up_dur", "queued_answ_longest_que_dur",
    "queued_aband_longest_que_dur", "avg_avail_member_cnt", "ans_servicelevel_cnt", "wait_dur",
    "aband_short_call_cnt", "aband_within_sl_cnt",
]
AGENT_QUEUE_STATS_COLUMNS = [
    "interval", "date", "time", "agent_id", "agent_name", "queue", "queue_name", "talking_call_dur",
    "wrap_up_dur", "answ_call_cnt", "transfer_out_call_cnt",
]
AGENT_PERFORMANCE_COLUMNS = [
    "interval", "date", "time", "agent_id", "agent_name", "tot_work_dur", "pause_dur", "avail_dur", "wait_dur",
    "admin_dur", "direct_out_call_cnt", "direct_out_call_dur", "direct_in_call_cnt", "direct_in_call_dur",
]
CONTACT_FILE_COLUMNS = [
    "Agent_ARN", "Agent_AfterContactWorkDuration", "Agent_AgentInteractionDuration", "Agent_CustomerHoldDuration",
    "Agent_Username", "Channel", "ContactID", "InitiationMethod", "InitiationTimestamp", "Queue_ARN",
    "Queue_Duration", "Queue_EnqueueTimestamp", "Queue_Name", "SystemEndpoint_Address",
    "TransferCompletedTimestamp", "TransferredToEndpoint",
]

DDL = {
    "teleopti_queue_stats": """CREATE TABLE IF NOT EXISTS teleopti_queue_stats (
        interval_start TIMESTAMPTZ NOT NULL, interval INTEGER, date VARCHAR, time VARCHAR, queue VARCHAR,
        queue_name VARCHAR, offd_direct_call_cnt BIGINT, overflow_in_call_cnt BIGINT, aband_call_cnt BIGINT,
        overflow_out_call_cnt BIGINT, answ_call_cnt BIGINT, queued_and_answ_call_dur BIGINT,
        queued_and_aband_call_dur BIGINT, talking_call_dur BIGINT, wrap_up_dur BIGINT,
        queued_answ_longest_que_dur BIGINT, queued_aband_longest_que_dur BIGINT, avg_avail_member_cnt DOUBLE,
        ans_servicelevel_cnt BIGINT, wait_dur BIGINT, aband_short_call_cnt BIGINT, aband_within_sl_cnt BIGINT,
        left_unanswered_cnt BIGINT, null_queue_duration_cnt BIGINT, connect_instance VARCHAR)""",
    "teleopti_agent_queue_stats": """CREATE TABLE IF NOT EXISTS teleopti_agent_queue_stats (
        interval_start TIMESTAMPTZ NOT NULL, interval INTEGER, date VARCHAR, time VARCHAR, agent_id VARCHAR,
        agent_name VARCHAR, queue VARCHAR, queue_name VARCHAR, talking_call_dur BIGINT, wrap_up_dur BIGINT,
        answ_call_cnt BIGINT, transfer_out_call_cnt BIGINT, connect_instance VARCHAR)""",
    "teleopti_agent_performance": """CREATE TABLE IF NOT EXISTS teleopti_agent_performance (
        interval_start TIMESTAMPTZ NOT NULL, interval INTEGER, date VARCHAR, time VARCHAR, agent_id VARCHAR,
        agent_name VARCHAR, tot_work_dur BIGINT, pause_dur BIGINT, avail_dur BIGINT, wait_dur BIGINT,
        admin_dur BIGINT, direct_out_call_cnt BIGINT, direct_out_call_dur BIGINT, direct_in_call_cnt BIGINT,
        direct_in_call_dur BIGINT, source VARCHAR, connect_instance VARCHAR)""",
    "teleopti_contacts": """CREATE TABLE IF NOT EXISTS teleopti_contacts (
        interval_start TIMESTAMPTZ NOT NULL, Agent_ARN VARCHAR, Agent_AfterContactWorkDuration INTEGER,
        Agent_AgentInteractionDuration INTEGER, Agent_CustomerHoldDuration INTEGER, Agent_Username VARCHAR,
        Channel VARCHAR, ContactID VARCHAR, InitiationMethod VARCHAR, InitiationTimestamp VARCHAR,
        Queue_ARN VARCHAR, Queue_Duration INTEGER, Queue_EnqueueTimestamp VARCHAR, Queue_Name VARCHAR,
        SystemEndpoint_Address VARCHAR, TransferCompletedTimestamp VARCHAR, TransferredToEndpoint VARCHAR,
        connect_instance VARCHAR)""",
}


def ensure_tables(con) -> None:
    agent_state.ensure_tables(con)  # the agent-state views the statistics join (empty without agent events)
    for table, ddl in DDL.items():
        con.execute(ddl)
        add_instance_column(con, table)


def instance_columns_exist(con, tables: list[str] | None = None) -> bool:
    """The statistics tables have `connect_instance` (a warehouse made before instances existed lacks it)."""
    return have_instance_column(con, tables or list(DDL))


def tables_exist(con, names: list[str]) -> bool:
    """Every one of `names` exists as a table or view (one catalog query)."""
    return con.execute(
        """SELECT count(DISTINCT table_name) FROM information_schema.tables
           WHERE table_schema = current_schema() AND table_name IN (SELECT unnest(?::VARCHAR[]))""",
        [names]).fetchone()[0] == len(set(names))


def _replace_window(con, table: str, select_sql: str, start: datetime, end: datetime, params: list) -> int:
    con.execute(f"DELETE FROM {table} WHERE interval_start >= ? AND interval_start < ?", [start, end])
    con.execute(f"INSERT INTO {table} BY NAME {select_sql}", params)
    return con.execute(
        f"SELECT count(*) FROM {table} WHERE interval_start >= ? AND interval_start < ?", [start, end]
    ).fetchone()[0]


def _bucket(column: str) -> str:
    return f"time_bucket(INTERVAL 15 MINUTE, {column})"


# The instance's name of the queue (connect_dimensions), else the latest name on its legs.
DIMENSION_NAME_FIRST = f"coalesce(any_value(dimension_names.dimension_queue_name), {rules.latest_queue_name()}, '')"
# First and last name as the agent event stream gave them (docs/teleopti-feed.md §2: else the user name).
AGENT_NAMES = "SELECT agent_id, any_value(agent_name) AS agent_name FROM agent_state_teleopti_agent GROUP BY agent_id"


def build_queue_stats(con, start: datetime, end: datetime, sla: int, short: int, tz: str) -> int:
    date, time = rules.local_date_time("interval_start", tz)
    sql = f"""
        WITH legs AS (
            SELECT *, {_bucket('enqueue_ts')} AS interval_start FROM stg_ctr
            WHERE {rules.IS_QUEUED} AND enqueue_ts >= ? AND enqueue_ts < ?)
        SELECT legs.interval_start, 15 AS interval, {date.replace('interval_start', 'legs.interval_start')} AS date,
            {time.replace('interval_start', 'legs.interval_start')} AS time,
            legs.connect_instance, legs.queue_id AS queue, {DIMENSION_NAME_FIRST} AS queue_name,
            count(*) FILTER (WHERE NOT {rules.IS_TRANSFER_IN}) AS offd_direct_call_cnt,
            count(*) FILTER (WHERE {rules.IS_TRANSFER_IN}) AS overflow_in_call_cnt,
            count(*) FILTER (WHERE {rules.IS_ABANDONED}) AS aband_call_cnt,
            count(*) FILTER (WHERE {rules.LEFT_BY_TRANSFER_OR_CALLBACK_SIGN}) AS overflow_out_call_cnt,
            count(*) FILTER (WHERE {rules.IS_ANSWERED}) AS answ_call_cnt,
            coalesce(sum(queue_duration) FILTER (WHERE {rules.IS_ANSWERED}), 0) AS queued_and_answ_call_dur,
            coalesce(sum(queue_duration) FILTER (WHERE {rules.IS_ABANDONED}), 0) AS queued_and_aband_call_dur,
            coalesce(sum({rules.TALK_PLUS_HOLD}) FILTER (WHERE {rules.IS_ANSWERED}), 0) AS talking_call_dur,
            coalesce(sum(acw_duration) FILTER (WHERE {rules.IS_ANSWERED}), 0) AS wrap_up_dur,
            coalesce(max(queue_duration) FILTER (WHERE {rules.IS_ANSWERED}), 0) AS queued_answ_longest_que_dur,
            coalesce(max(queue_duration) FILTER (WHERE {rules.IS_ABANDONED}), 0) AS queued_aband_longest_que_dur,
            coalesce(any_value(a.avg_avail_member_cnt), 0) AS avg_avail_member_cnt,
            count(*) FILTER (WHERE {rules.answered_within_sla(sla)}) AS ans_servicelevel_cnt,
            coalesce(any_value(a.wait_dur), 0) AS wait_dur,
            count(*) FILTER (WHERE {rules.short_abandon(short)}) AS aband_short_call_cnt,
            count(*) FILTER (WHERE {rules.abandoned_within_sla(short, sla)}) AS aband_within_sl_cnt,
            count(*) FILTER (WHERE {rules.IS_LEFT_UNANSWERED}) AS left_unanswered_cnt,
            count(*) FILTER (WHERE queue_duration IS NULL) AS null_queue_duration_cnt
        FROM legs LEFT JOIN agent_state_teleopti_queue a
            ON a.interval_start = timezone('UTC', legs.interval_start) AND a.queue_id = legs.queue_id
        LEFT JOIN {dimension_queue_names(con)} dimension_names ON dimension_names.dimension_queue_id = legs.queue_id
        -- a queue is (instance, queue): two instances' queues never merge, whatever their names or ids
        GROUP BY legs.interval_start, legs.connect_instance, legs.queue_id"""
    return _replace_window(con, "teleopti_queue_stats", sql, start, end, [start, end])


def build_agent_queue_stats(con, start: datetime, end: datetime, tz: str) -> int:
    date, time = rules.local_date_time("interval_start", tz)
    sql = f"""
        WITH legs AS (
            SELECT *, {_bucket('enqueue_ts')} AS interval_start FROM stg_ctr
            WHERE {rules.IS_QUEUED} AND {rules.IS_ANSWERED} AND agent_username IS NOT NULL
              AND enqueue_ts >= ? AND enqueue_ts < ?)
        SELECT interval_start, 15 AS interval, {date} AS date, {time} AS time,
            connect_instance, agent_username AS agent_id,
            coalesce(any_value(n.agent_name), agent_username) AS agent_name,
            queue_id AS queue, {DIMENSION_NAME_FIRST} AS queue_name,
            sum({rules.TALK_PLUS_HOLD}) AS talking_call_dur, coalesce(sum(acw_duration), 0) AS wrap_up_dur,
            count(*) AS answ_call_cnt,
            count(*) FILTER (WHERE {rules.LEFT_BY_TRANSFER_OR_CALLBACK_SIGN}) AS transfer_out_call_cnt
        FROM legs LEFT JOIN ({AGENT_NAMES}) n ON n.agent_id = legs.agent_username
        LEFT JOIN {dimension_queue_names(con)} dimension_names ON dimension_names.dimension_queue_id = legs.queue_id
        GROUP BY interval_start, connect_instance, agent_username, queue_id"""
    return _replace_window(con, "teleopti_agent_queue_stats", sql, start, end, [start, end])


# Agent events come from one stream for every instance: an agent's instance is the Connect instance id in the agent's
# ARN (`arn:...:instance/<id>/agent/<id>`), named through the CTRs staged from that instance's prefix.
_STATE_INSTANCE_JOIN = """LEFT JOIN (
    SELECT DISTINCT i.username, c.connect_instance FROM agent_state_intervals i
    JOIN (SELECT DISTINCT instance_id, connect_instance FROM stg_ctr) c
      ON split_part(i.agent_arn, '/', 2) = c.instance_id
    ) agent_instance ON agent_instance.username = agent_state_teleopti_agent.agent_id"""


def _state_instance() -> str:
    """The instance of an agent-state row: with one instance a constant; else by the agent's ARN, and an agent no
    staged CTR names goes to the root instance (or the first configured)."""
    root = root_instance_name().replace("'", "''")
    if len(configured_instances()) == 1:
        return f"'{root}'"
    return f"coalesce(agent_instance.connect_instance, '{root}')"


def build_agent_performance(con, start: datetime, end: datetime, tz: str) -> int:
    """30-minute report rows split into two 15-minute rows, the first half taking the odd second."""
    date, time = rules.local_date_time("interval_start", tz)
    sql = f"""
        WITH report AS (
            SELECT connect_instance, agent_username, interval_start AS row_start, max(agent_name) AS agent_name,
                   coalesce(online_s, 0) AS online, coalesce(non_productive_s, 0) AS pause,
                   coalesce(online_s, 0) - coalesce(non_productive_s, 0) AS avail, coalesce(idle_s, 0) AS idle
            FROM stg_agent_report
            WHERE interval_start >= ? - INTERVAL 15 MINUTE AND interval_start < ?
            GROUP BY ALL),
        halves AS (
            SELECT connect_instance, agent_username, agent_name,
                   row_start + INTERVAL (h * 15) MINUTE AS interval_start,
                   CASE WHEN h = 0 THEN ceil(online / 2) ELSE floor(online / 2) END AS tot_work_dur,
                   CASE WHEN h = 0 THEN ceil(pause / 2) ELSE floor(pause / 2) END AS pause_dur,
                   CASE WHEN h = 0 THEN ceil(avail / 2) ELSE floor(avail / 2) END AS avail_dur,
                   CASE WHEN h = 0 THEN ceil(idle / 2) ELSE floor(idle / 2) END AS wait_dur
            FROM report CROSS JOIN (VALUES (0), (1)) AS half(h)),
        outbound AS (
            SELECT connect_instance, agent_username, {_bucket('agent_connected_ts')} AS interval_start,
                   count(*) AS direct_out_call_cnt, sum({rules.TALK_PLUS_HOLD}) AS direct_out_call_dur
            FROM stg_ctr WHERE initiation_method = 'OUTBOUND' AND agent_username IS NOT NULL
              AND agent_connected_ts >= ? AND agent_connected_ts < ? GROUP BY ALL),
        direct_in AS (
            SELECT connect_instance, agent_username, {_bucket('enqueue_ts')} AS interval_start,
                   count(*) AS direct_in_call_cnt, sum({rules.TALK_PLUS_HOLD}) AS direct_in_call_dur
            FROM stg_ctr
            WHERE is_agent_queue AND {rules.IS_QUEUED} AND {rules.IS_ANSWERED} AND agent_username IS NOT NULL
              AND enqueue_ts >= ? AND enqueue_ts < ? GROUP BY ALL),
        state AS (
            SELECT {_state_instance()} AS connect_instance, agent_id AS agent_username,
                   timezone('UTC', interval_start) AS interval_start, agent_name,
                   tot_work_dur, pause_dur, avail_dur, wait_dur, covered
            FROM agent_state_teleopti_agent {_STATE_INSTANCE_JOIN if len(configured_instances()) > 1 else ''}
            WHERE agent_id IS NOT NULL AND interval_start >= timezone('UTC', ?::TIMESTAMPTZ)
              AND interval_start < timezone('UTC', ?::TIMESTAMPTZ)),
        agents AS (
            SELECT connect_instance, agent_username, interval_start FROM halves WHERE tot_work_dur > 0
            UNION SELECT connect_instance, agent_username, interval_start FROM state WHERE tot_work_dur > 0
            UNION SELECT connect_instance, agent_username, interval_start FROM outbound
            UNION SELECT connect_instance, agent_username, interval_start FROM direct_in),
        picked AS (
            SELECT a.*, {rules.AGENT_TIME_SOURCE} AS source,
                   coalesce(st.agent_name, h.agent_name, a.agent_username) AS agent_name
            FROM agents a
            LEFT JOIN state st USING (connect_instance, agent_username, interval_start)
            LEFT JOIN halves h USING (connect_instance, agent_username, interval_start))
        SELECT a.interval_start, 15 AS interval, {date.replace('interval_start', 'a.interval_start')} AS date,
            {time.replace('interval_start', 'a.interval_start')} AS time,
            a.connect_instance, a.agent_username AS agent_id, a.agent_name,
            {rules.agent_time('tot_work_dur', 'a.source')} AS tot_work_dur,
            {rules.agent_time('pause_dur', 'a.source')} AS pause_dur,
            {rules.agent_time('avail_dur', 'a.source')} AS avail_dur,
            {rules.agent_time('wait_dur', 'a.source')} AS wait_dur,
            0 AS admin_dur,
            coalesce(o.direct_out_call_cnt, 0) AS direct_out_call_cnt,
            coalesce(o.direct_out_call_dur, 0) AS direct_out_call_dur,
            coalesce(d.direct_in_call_cnt, 0) AS direct_in_call_cnt,
            coalesce(d.direct_in_call_dur, 0) AS direct_in_call_dur, a.source
        FROM picked a
        LEFT JOIN state st USING (connect_instance, agent_username, interval_start)
        LEFT JOIN halves h USING (connect_instance, agent_username, interval_start)
        LEFT JOIN outbound o USING (connect_instance, agent_username, interval_start)
        LEFT JOIN direct_in d USING (connect_instance, agent_username, interval_start)
        WHERE a.interval_start >= ? AND a.interval_start < ?"""
    return _replace_window(con, "teleopti_agent_performance", sql, start, end,
                           [start, end, start, end, start, end, start, end, start, end])


def _iso(column: str) -> str:
    return f"strftime({column}, '%Y-%m-%dT%H:%M:%SZ')"


def build_contacts(con, start: datetime, end: datetime) -> int:
    """Every leg, attributed like the queue statistics (enqueue time) or, when not queued, by initiation time."""
    sql = f"""
        WITH legs AS (
            SELECT *, coalesce(CASE WHEN {rules.IS_QUEUED} THEN enqueue_ts END, initiation_ts) AS attributed_ts
            FROM stg_ctr
            -- attributed_ts is one of the two: a superset DuckDB can prune row groups with (the coalesce it cannot)
            WHERE (enqueue_ts >= $1 AND enqueue_ts < $2) OR (initiation_ts >= $1 AND initiation_ts < $2))
        SELECT {_bucket('attributed_ts')} AS interval_start, connect_instance,
            agent_id AS Agent_ARN, acw_duration AS Agent_AfterContactWorkDuration,
            agent_interaction_duration AS Agent_AgentInteractionDuration,
            customer_hold_duration AS Agent_CustomerHoldDuration, agent_username AS Agent_Username,
            channel AS Channel, contact_id AS ContactID, initiation_method AS InitiationMethod,
            {_iso('initiation_ts')} AS InitiationTimestamp, queue_id AS Queue_ARN, queue_duration AS Queue_Duration,
            {_iso('enqueue_ts')} AS Queue_EnqueueTimestamp,
            coalesce(dimension_names.dimension_queue_name, queue_name) AS Queue_Name,
            system_endpoint_address AS SystemEndpoint_Address,
            {_iso('transfer_completed_ts')} AS TransferCompletedTimestamp,
            transferred_to_endpoint_address AS TransferredToEndpoint
        FROM legs LEFT JOIN {dimension_queue_names(con)} dimension_names
            ON dimension_names.dimension_queue_id = legs.queue_id
        WHERE attributed_ts >= $1 AND attributed_ts < $2"""
    return _replace_window(con, "teleopti_contacts", sql, start, end, [start, end])
