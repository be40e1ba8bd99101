"""The leg classification rules of teleopti-feed.md ("Which contacts count"), as SQL expressions over stg_ctr.

Each rule is written once here; the queue, agent-queue and KPI models all use these expressions.
"""

IS_QUEUED = "(queue_id IS NOT NULL AND enqueue_ts IS NOT NULL)"
IS_ANSWERED = "(agent_connected_ts IS NOT NULL)"
LEFT_BY_TRANSFER_OR_CALLBACK_SIGN = "(next_contact_id IS NOT NULL OR transfer_completed_ts IS NOT NULL)"
IS_ABANDONED = f"(NOT {IS_ANSWERED} AND NOT {LEFT_BY_TRANSFER_OR_CALLBACK_SIGN})"
IS_LEFT_UNANSWERED = f"(NOT {IS_ANSWERED} AND {LEFT_BY_TRANSFER_OR_CALLBACK_SIGN})"
IS_TRANSFER_IN = "(initiation_method IN ('TRANSFER', 'QUEUE_TRANSFER'))"
# Handle time as Amazon Connect reports it: talk + hold (Teleopti's own mapping dropped hold).
TALK_PLUS_HOLD = "(coalesce(agent_interaction_duration, 0) + coalesce(customer_hold_duration, 0))"


def answered_within_sla(sla: int) -> str:
    return f"({IS_ANSWERED} AND queue_duration <= {int(sla)})"


def short_abandon(short: int) -> str:
    return f"({IS_ABANDONED} AND queue_duration < {int(short)})"


def abandoned_within_sla(short: int, sla: int) -> str:
    """Short abandons are excluded: SHORT <= Queue.Duration <= SLA."""
    return f"({IS_ABANDONED} AND queue_duration >= {int(short)} AND queue_duration <= {int(sla)})"


def local_date_time(column: str, tz: str) -> tuple[str, str]:
    """`yyyymmdd` and `HH:MM` of a UTC instant as wall time in the report time zone."""
    quoted = tz.replace("'", "''")
    local = f"timezone('{quoted}', {column})"
    return f"strftime({local}, '%Y%m%d')", f"strftime({local}, '%H:%M')"
