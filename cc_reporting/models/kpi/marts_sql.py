"""The KPI definitions of docs/kpis.md §3 and §4 as SQL fragments, written once for every grain.

Aggregates run over a relation of `jar` rows (columns of docs/analytics.md §3) extended with `attr_ts` and the
boolean `callback_requested`; rates run over the stored count columns, so `kpi_daily` and BI tools divide the same
way `kpi_interval` does.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from cc_reporting.models.teleopti.rules import latest_queue_name as latest_name_rule

KEY_COLUMNS_INTERVAL = {
    "interval_start": "TIMESTAMP", "interval_key": "VARCHAR", "interval_start_local": "TIMESTAMP",
    "queue_id": "VARCHAR", "queue_name": "VARCHAR", "connect_instance": "VARCHAR",
}
KEY_COLUMNS_DAILY = {"day": "DATE", "grain": "VARCHAR", "queue_id": "VARCHAR", "queue_name": "VARCHAR",
                     "channel": "VARCHAR", "connect_instance": "VARCHAR"}

_FCR_ELIGIBLE = ('("InteractionStartTime" IS NOT NULL AND is_outbound = 0 AND "IsTransferred" IS NOT TRUE'
                 ' AND "IsResolved" IS NOT NULL)')
# An IVR-entered leg: Channel VOICE + InitiationMethod INBOUND, whether it ended in the IVR or was queued after it.
IVR_LEG = "(initiation_method = 'INBOUND' AND \"ChannelType\" IN ('IVR', 'VOICE'))"


def queue_aggregates(sla: int) -> dict[str, str]:
    """Counts and second sums of section 2 that every grain fills. Flags are 0 on non-queued rows, so channel rows
    see only their queued legs in the queue columns without another filter."""
    sla = int(sla)
    answered = "is_answered = 1"
    return {
        "queued": "sum(is_queued)",
        "offered": "count(*) FILTER (WHERE is_queued = 1 AND is_transfer_in = 0)",
        "overflow_in": "count(*) FILTER (WHERE is_queued = 1 AND is_transfer_in = 1)",
        "answered": "sum(is_answered)",
        "abandoned": "sum(is_abandoned)",
        "short_abandons": "sum(is_short_abandon)",
        # Counted, not subtracted: equal to queued − answered − abandoned and never negative.
        "unanswered_transferred": "count(*) FILTER (WHERE is_queued = 1 AND is_answered = 0 AND is_abandoned = 0)",
        "answered_within_sla": "sum(answered_within_sla)",
        "abandoned_within_sla": "sum(abandoned_within_sla)",
        # A null QueueTime compares as null: never within SLA.
        "left_queue_within_sla": f'count(*) FILTER (WHERE is_queued = 1 AND "QueueTime" <= {sla})',
        "transferred_out": f'count(*) FILTER (WHERE {answered} AND "IsTransferred")',
        "callback_requests": "count(*) FILTER (WHERE is_queued = 1 AND callback_requested)",
        "queue_answered_s": f'coalesce(sum("QueueTime") FILTER (WHERE {answered}), 0)',
        "talk_s": f'coalesce(sum("InteractionDuration") FILTER (WHERE {answered}), 0)',
        "hold_s": f'coalesce(sum("HoldTime") FILTER (WHERE {answered}), 0)',
        "acw_s": f"coalesce(sum(acw_duration) FILTER (WHERE {answered}), 0)",
        "fcr_eligible": f"count(*) FILTER (WHERE {_FCR_ELIGIBLE})",
        "fcr_resolved": f'count(*) FILTER (WHERE {_FCR_ELIGIBLE} AND "IsResolved")',
        # Finality unknown counts as provisional: the rate is only called settled when every row says so.
        "fcr_provisional": f'count(*) FILTER (WHERE {_FCR_ELIGIBLE} AND "IsResolvedFinal" IS NOT TRUE)',
        "csat_responses": 'count("CSATScore")',
        "csat_top2": 'count(*) FILTER (WHERE "CSATScore" IN (4, 5))',
        "csat_sum": 'coalesce(sum("CSATScore"), 0)',
    }


def ivr_aggregates() -> dict[str, str]:
    """IVR-stage counts; filled on the daily `IVR` channel row only, over every IVR-entered leg of the day."""
    return {
        "ivr_entered": f"count(*) FILTER (WHERE {IVR_LEG})",
        "ivr_rows": f"count(*) FILTER (WHERE {IVR_LEG} AND \"ChannelType\" = 'IVR')",
        "digital_offered": f'count(*) FILTER (WHERE {IVR_LEG} AND "IsDigitalOffered")',
        "digital_accepted": f'count(*) FILTER (WHERE {IVR_LEG} AND "IsDigitalOffered" AND "IsDigitalAccepted")',
        "ivr_contained": f"count(*) FILTER (WHERE {IVR_LEG} AND \"ChannelType\" = 'IVR' AND NOT later_queued)",
    }


IVR_COLUMNS = list(ivr_aggregates())
AGENT_STATE_COLUMNS = ["on_contact_s", "idle_s"]
COUNT_COLUMNS = list(queue_aggregates(0)) + IVR_COLUMNS + AGENT_STATE_COLUMNS

RATES = {
    "service_level": ("answered_within_sla", "offered + overflow_in - short_abandons"),
    "service_level_connect": ("left_queue_within_sla", "queued"),
    "asa_s": ("queue_answered_s", "answered"),
    "aht_s": ("talk_s + hold_s + acw_s", "answered"),
    "avg_talk_s": ("talk_s", "answered"),
    "avg_hold_s": ("hold_s", "answered"),
    "avg_acw_s": ("acw_s", "answered"),
    "abandonment_rate": ("abandoned", "queued"),
    "abandonment_rate_excl_short": ("abandoned - short_abandons", "queued - short_abandons"),
    "transfer_rate": ("transferred_out", "answered"),
    "fcr_rate": ("fcr_resolved", "fcr_eligible"),
    "csat_top2_rate": ("csat_top2", "csat_responses"),
    "csat_mean": ("csat_sum", "csat_responses"),
    "digital_offer_rate": ("digital_offered", "ivr_entered"),
    "digital_acceptance_rate": ("digital_accepted", "digital_offered"),
    "callback_rate": ("callback_requests", "queued"),
    "ivr_containment_rate": ("ivr_contained", "ivr_entered"),
    "occupancy": ("on_contact_s", "on_contact_s + idle_s"),
}
RATE_COLUMNS = list(RATES)


def rate_select() -> str:
    """Every rate over the count columns: null on a zero (or null) denominator, never 0 or NaN."""
    return ",\n".join(f"CAST(({num}) AS DOUBLE) / nullif(({den}), 0) AS {name}"
                      for name, (num, den) in RATES.items())


def columns(keys: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**keys, **{c: "BIGINT" for c in COUNT_COLUMNS}, **{r: "DOUBLE" for r in RATE_COLUMNS}, **(extra or {})}


TABLE_COLUMNS = {
    "kpi_interval": columns(KEY_COLUMNS_INTERVAL, {"erlang_c_required_agents": "BIGINT"}),
    "kpi_daily": columns(KEY_COLUMNS_DAILY),
}
DDL = {table: f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(f'{c} {t}' for c, t in cols.items())})"
       for table, cols in TABLE_COLUMNS.items()}


def empty_relation(table: str) -> str:
    """A typed, empty stand-in for a KPI table that was never built (readers need not create it)."""
    cols = ", ".join(f"NULL::{t} AS {c}" for c, t in TABLE_COLUMNS[table].items())
    return f"(SELECT {cols} WHERE false)"


def local_ts(column: str, tz: str) -> str:
    """Wall time in `tz` of a naive UTC TIMESTAMP, whatever the session's TimeZone setting."""
    quoted = tz.replace("'", "''")
    return f"(({column} AT TIME ZONE 'UTC') AT TIME ZONE '{quoted}')"


def jar_base(where: str, since: datetime | None = None) -> str:
    """`jar` rows with their attribution time (docs/kpis.md §2) and whether a callback leg points back at them.

    `where` may use `attr_ts`. `since` (naive UTC): the caller wants attribution times from then on only; rows and
    callback legs that started more than a day before cannot matter, and saying so on the stored column lets DuckDB
    skip old row groups, so the cost follows the window, not the history.
    """
    recent = f"\"SessionStartTime\" >= TIMESTAMP '{since - timedelta(days=1):%Y-%m-%d %H:%M:%S}'" if since else "true"
    return f"""
        SELECT * FROM (
            SELECT j.*, coalesce(CASE WHEN j.is_queued = 1 THEN j.enqueued_at END, j."SessionStartTime") AS attr_ts,
                   cb.sid IS NOT NULL AS callback_requested
            FROM (SELECT * FROM jar WHERE {recent}) j
            LEFT JOIN (SELECT DISTINCT previous_contact_id AS sid FROM jar
                       WHERE "IsCallBack" AND previous_contact_id IS NOT NULL AND {recent}) cb ON cb.sid = j."SessionId"
        ) WHERE {where}"""


def latest_queue_name(at: str) -> str:
    """The queue-name rule of the Teleopti statistics (latest leg by attribution time `at`, not max) over `jar`."""
    return latest_name_rule("queue_name", at, '"SessionId"')


def select_list(exprs: dict[str, str]) -> str:
    """Aggregates as BIGINT columns (DuckDB sums integers to HUGEINT)."""
    return ",\n".join(f"CAST({expr} AS BIGINT) AS {name}" for name, expr in exprs.items())
