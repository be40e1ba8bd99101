"""KPI marts `kpi_interval` and `kpi_daily` (docs/kpis.md), computed set-based in DuckDB from `jar`.

Both builders replace their window's rows (delete, insert) inside the caller's transaction, so a rerun gives the same
rows. Occupancy reads `agent_state_queue_intervals(interval_start, queue_id, on_contact_s, idle_s)` when that table
exists (one or more rows per queue and interval, summed); without it the two sums and `occupancy` are null.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from cc_reporting.models.kpi import marts_sql
from cc_reporting.models.kpi.erlang import erlang_settings, register_udf
from cc_reporting.staging.dimension_tables import dimension_queue_names
from cc_reporting.staging.instances import add_instance_column, root_instance_name

INTERVAL_S = 900
AGENT_STATE_TABLE = "agent_state_queue_intervals"
# Reconciliation pairs for the Teleopti asset check: kpi_interval expression ↔ teleopti_queue_stats expression.
TELEOPTI_PAIRS = [
    ("offered", "offd_direct_call_cnt"), ("overflow_in", "overflow_in_call_cnt"), ("answered", "answ_call_cnt"),
    ("abandoned", "aband_call_cnt"), ("short_abandons", "aband_short_call_cnt"),
    ("answered_within_sla", "ans_servicelevel_cnt"), ("abandoned_within_sla", "aband_within_sl_cnt"),
    ("queue_answered_s", "queued_and_answ_call_dur"), ("talk_s + hold_s", "talking_call_dur"),
    ("acw_s", "wrap_up_dur"),
]


def ensure_tables(con) -> None:
    for table, ddl in marts_sql.DDL.items():
        con.execute(ddl)
        add_instance_column(con, table)
    if table_exists(con, "jar"):  # a jar built before instances existed: its rows are the root instance's
        add_instance_column(con, "jar")


def naive_utc(t: datetime) -> datetime:
    """Dagster windows are tz-aware; `jar` timestamps are naive UTC."""
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def table_exists(con, name: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()",
        [name]).fetchall()[0][0] > 0


def _agent_state(con) -> str:
    """The agent-state relation, or an empty one with the same columns (sums then stay null)."""
    if table_exists(con, AGENT_STATE_TABLE):
        return AGENT_STATE_TABLE
    return ("(SELECT NULL::TIMESTAMP AS interval_start, NULL::VARCHAR AS queue_id, NULL::BIGINT AS on_contact_s,"
            " NULL::BIGINT AS idle_s WHERE false)")


def _counts(prefix: str, columns: list[str], zero: bool) -> str:
    """Count columns taken from one side of a FULL JOIN: 0 where the side is missing, or left null."""
    return ", ".join(f"coalesce({prefix}.{c}, 0) AS {c}" if zero else f"{prefix}.{c} AS {c}" for c in columns)


def _nulls(columns: list[str]) -> str:
    return ", ".join(f"NULL::BIGINT AS {c}" for c in columns)


def _queue_names(con, source: str) -> str:
    """The instance's name of the queue (`dim_queue`), else the legs' name; a row that has agent-state time but no
    legs takes name and instance from the queue's latest queued leg (agent events name no instance; a queue no leg
    names goes to the root instance, else the first configured)."""
    root = root_instance_name().replace("'", "''")
    return f"""SELECT r.* REPLACE (coalesce(d.dimension_queue_name, r.queue_name, n.name) AS queue_name,
                                   coalesce(r.connect_instance, n.instance, '{root}') AS connect_instance)
        FROM {source} r
        LEFT JOIN (SELECT "AgentSkillId" AS queue_id, {marts_sql.latest_queue_name("enqueued_at")} AS name,
                          {marts_sql.latest_name_rule("connect_instance", "enqueued_at", '"SessionId"')} AS instance
                   FROM jar
                   WHERE is_queued = 1 AND "AgentSkillId" IN (SELECT queue_id FROM {source} WHERE queue_name IS NULL)
                   GROUP BY 1) n USING (queue_id)
        LEFT JOIN {dimension_queue_names(con)} d ON d.dimension_queue_id = r.queue_id"""


def build_kpi_interval(con, settings, start: datetime, end: datetime) -> int:
    """Replace the `kpi_interval` rows whose `interval_start` is in the UTC window [start, end); returns their count.

    P = queued legs of the queue (`AgentSkillId`) whose `enqueued_at` falls in the interval; a row also exists when
    the queue's agents have agent-state time there.
    """
    start, end = naive_utc(start), naive_utc(end)
    ensure_tables(con)
    udf = register_udf(con)
    goal, cap = erlang_settings(settings)
    aggs = marts_sql.queue_aggregates(settings.sla_seconds)
    sql = f"""
        WITH p AS ({marts_sql.jar_base("is_queued = 1 AND enqueued_at >= ? - INTERVAL 15 MINUTE AND enqueued_at < ?",
                               since=start - timedelta(minutes=15))}),
        legs AS (
            SELECT time_bucket(INTERVAL 15 MINUTE, attr_ts) AS interval_start, connect_instance,
                   "AgentSkillId" AS queue_id,
                   {marts_sql.latest_queue_name("attr_ts")} AS queue_name, {marts_sql.select_list(aggs)}
            FROM p GROUP BY ALL),
        agents AS (
            SELECT interval_start, queue_id, sum(on_contact_s) AS on_contact_s, sum(idle_s) AS idle_s
            FROM {_agent_state(con)} WHERE interval_start >= ? AND interval_start < ? GROUP BY ALL),
        counts AS (
            SELECT interval_start, queue_id, l.connect_instance, l.queue_name, {_counts('l', list(aggs), zero=True)},
                   {_nulls(marts_sql.IVR_COLUMNS)}, a.on_contact_s, a.idle_s
            FROM legs l FULL OUTER JOIN agents a USING (interval_start, queue_id)
            WHERE interval_start >= ? AND interval_start < ?),
        named AS ({_queue_names(con, 'counts')}),
        rated AS (SELECT *, {marts_sql.rate_select()} FROM named)
        SELECT *, strftime(interval_start, '%Y-%m-%d-%H:%M') AS interval_key,
            {marts_sql.local_ts('interval_start', settings.report_timezone)} AS interval_start_local,
            {udf}(queued, aht_s, {INTERVAL_S}, {int(settings.sla_seconds)}, CAST(? AS DOUBLE), CAST(? AS DOUBLE))
            AS erlang_c_required_agents
        FROM rated"""
    con.execute("DELETE FROM kpi_interval WHERE interval_start >= ? AND interval_start < ?", [start, end])
    con.execute(f"INSERT INTO kpi_interval BY NAME {sql}", [start, end, start, end, start, end, goal, cap])
    return con.execute("SELECT count(*) FROM kpi_interval WHERE interval_start >= ? AND interval_start < ?",
                       [start, end]).fetchall()[0][0]


def build_kpi_daily(con, settings, days: list[date]) -> int:
    """Replace the `kpi_daily` rows of these local days (`CC_REPORT_TIMEZONE`); returns their count.

    `queue` rows: queued legs of the queue attributed to the day (the sums of that day's `kpi_interval` rows).
    `channel` rows: every `jar` row of the `ChannelType` attributed to the day, external sessions included; the IVR
    columns only on the `IVR` row (created whenever IVR-entered legs exist), occupancy on none.
    """
    days = sorted(set(days))
    if not days:
        return 0
    ensure_tables(con)
    tz = settings.report_timezone
    # Local days lie within a day of their UTC dates (offsets are at most ±14 h): a coarse UTC pre-filter.
    lo = datetime.combine(days[0], datetime.min.time()) - timedelta(days=1)
    hi = datetime.combine(days[-1], datetime.min.time()) + timedelta(days=2)
    aggs = marts_sql.queue_aggregates(settings.sla_seconds)
    queue_cols, ivr_cols = list(aggs), marts_sql.IVR_COLUMNS
    sql = f"""
        WITH days AS (SELECT unnest(CAST(? AS DATE[])) AS day),
        b AS (
            SELECT *, CAST({marts_sql.local_ts('attr_ts', tz)} AS DATE) AS day
            FROM ({marts_sql.jar_base("attr_ts >= ? AND attr_ts < ?", since=lo)})
            WHERE CAST({marts_sql.local_ts('attr_ts', tz)} AS DATE) IN (SELECT day FROM days)),
        later AS (  -- the largest JourneyStep of a queued row in each universal session holding an IVR row
            SELECT "UniversalSessionId" AS usid, max("JourneyStep") AS queued_step FROM jar
            WHERE is_queued = 1 AND "SessionStartTime" >= TIMESTAMP '{lo - timedelta(days=1):%Y-%m-%d %H:%M:%S}'
              AND "UniversalSessionId" IN (SELECT "UniversalSessionId" FROM b WHERE "ChannelType" = 'IVR')
            GROUP BY 1),
        bi AS (
            SELECT b.*, coalesce(later.queued_step > b."JourneyStep", false) AS later_queued
            FROM b LEFT JOIN later ON later.usid = b."UniversalSessionId"),
        q_legs AS (
            SELECT day, connect_instance, "AgentSkillId" AS queue_id,
                   {marts_sql.latest_queue_name("attr_ts")} AS queue_name, {marts_sql.select_list(aggs)}
            FROM b WHERE is_queued = 1 GROUP BY ALL),
        q_agents AS (
            SELECT * FROM (
                SELECT CAST({marts_sql.local_ts('interval_start', tz)} AS DATE) AS day, queue_id,
                       sum(on_contact_s) AS on_contact_s, sum(idle_s) AS idle_s
                FROM {_agent_state(con)} WHERE interval_start >= ? AND interval_start < ? GROUP BY ALL)
            WHERE day IN (SELECT day FROM days)),
        q AS (
            SELECT day, 'queue' AS grain, queue_id, l.connect_instance, l.queue_name, NULL::VARCHAR AS channel,
                   {_counts('l', queue_cols, zero=True)}, {_nulls(ivr_cols)}, a.on_contact_s, a.idle_s
            FROM q_legs l FULL OUTER JOIN q_agents a USING (day, queue_id)),
        c_rows AS (
            SELECT day, "ChannelType" AS channel, connect_instance, {marts_sql.select_list(aggs)} FROM b GROUP BY ALL),
        ivr AS (
            SELECT * FROM (SELECT day, 'IVR' AS channel, connect_instance,
                                  {marts_sql.select_list(marts_sql.ivr_aggregates())}
                           FROM bi GROUP BY ALL)
            WHERE ivr_entered > 0),
        c AS (
            SELECT day, 'channel' AS grain, NULL::VARCHAR AS queue_id, NULL::VARCHAR AS queue_name, channel,
                   connect_instance, {_counts('r', queue_cols, zero=True)}, {_counts('i', ivr_cols, zero=False)},
                   {_nulls(marts_sql.AGENT_STATE_COLUMNS)}
            FROM c_rows r FULL OUTER JOIN ivr i USING (day, channel, connect_instance)),
        named AS ({_queue_names(con, 'q')}),
        all_rows AS (SELECT * FROM named UNION ALL BY NAME SELECT * FROM c)
        SELECT *, {marts_sql.rate_select()} FROM all_rows"""
    con.execute("DELETE FROM kpi_daily WHERE day IN (SELECT unnest(CAST(? AS DATE[])))", [days])
    con.execute(f"INSERT INTO kpi_daily BY NAME {sql}", [days, lo, hi, lo, hi])
    return con.execute("SELECT count(*) FROM kpi_daily WHERE day IN (SELECT unnest(CAST(? AS DATE[])))",
                       [days]).fetchall()[0][0]


def null_queue_time_legs(con, start: datetime, end: datetime) -> int:
    """Queued legs enqueued in [start, end) without `QueueTime`: counted in their outcome, never within SLA
    (docs/kpis.md §1); for asset metadata."""
    return con.execute(
        'SELECT count(*) FROM jar WHERE is_queued = 1 AND "QueueTime" IS NULL AND enqueued_at >= ? AND enqueued_at < ?',
        [naive_utc(start), naive_utc(end)]).fetchall()[0][0]


def kpi_vs_teleopti_mismatches(con, start: datetime, end: datetime) -> list[dict]:
    """Every (interval, queue, measure) of [start, end) where `kpi_interval` and `teleopti_queue_stats` disagree.

    A row missing on one side counts as zeros there (a quiet queue with agent-state time has no Teleopti row).
    Each mismatch: interval_start, queue_id, kpi_column, teleopti_column, kpi_value, teleopti_value.
    """
    start, end = naive_utc(start), naive_utc(end)
    ensure_tables(con)
    k_cols = ", ".join(f"{k} AS k{i}" for i, (k, _) in enumerate(TELEOPTI_PAIRS))
    t_cols = ", ".join(f"{t} AS t{i}" for i, (_, t) in enumerate(TELEOPTI_PAIRS))
    stats_exist = table_exists(con, "teleopti_queue_stats")
    if stats_exist:  # statistics from before instances existed: their rows are the root instance's
        add_instance_column(con, "teleopti_queue_stats")
    teleopti = (f"SELECT * FROM (SELECT (interval_start AT TIME ZONE 'UTC') AS interval_start, queue AS queue_id,"
                f" connect_instance, {t_cols} FROM teleopti_queue_stats)" if stats_exist else
                "SELECT NULL::TIMESTAMP AS interval_start, NULL::VARCHAR AS queue_id, "
                "NULL::VARCHAR AS connect_instance, "
                + ", ".join(f"NULL::BIGINT AS t{i}" for i in range(len(TELEOPTI_PAIRS))) + " WHERE false")
    checks = " UNION ALL ".join(
        f"SELECT interval_start, queue_id, '{k}' AS kpi_column, '{t}' AS teleopti_column,"
        f" coalesce(k{i}, 0) AS kpi_value, coalesce(t{i}, 0) AS teleopti_value FROM joined"
        f" WHERE coalesce(k{i}, 0) <> coalesce(t{i}, 0)"
        for i, (k, t) in enumerate(TELEOPTI_PAIRS))
    cur = con.execute(f"""
        WITH k AS (SELECT interval_start, queue_id, connect_instance, {k_cols} FROM kpi_interval
                   WHERE interval_start >= ? AND interval_start < ?),
        t AS (SELECT * FROM ({teleopti}) WHERE interval_start >= ? AND interval_start < ?),
        joined AS (SELECT * FROM k FULL OUTER JOIN t USING (interval_start, queue_id, connect_instance))
        SELECT * FROM ({checks}) ORDER BY interval_start, queue_id, kpi_column""", [start, end, start, end])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]
