"""The leg classification rules of docs/teleopti-feed.md §2, as SQL expressions over stg_ctr.

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


# Where an agent's time in an interval comes from (docs/teleopti-feed.md §5), over the joined rows `st`
# (agent-state timeline) and `h` (the report row's half): the timeline when it covers the whole interval; else the
# report's split where the report has online time; else the timeline's part wherever it shows online time (real
# streams without a scheduled report: every agent with online time gets a row); else the report's zeros.
AGENT_TIME_SOURCE = """CASE WHEN st.covered THEN 'agent events'
    WHEN h.tot_work_dur > 0 THEN 'report split'
    WHEN st.tot_work_dur > 0 THEN 'agent events (partial)'
    WHEN h.agent_username IS NOT NULL THEN 'report split' ELSE 'contacts only' END"""


def agent_time(column: str, source: str = "source") -> str:
    """The agent-time `column` (tot_work_dur, pause_dur, avail_dur, wait_dur) from the source picked above."""
    return (f"CASE {source} WHEN 'report split' THEN h.{column} WHEN 'contacts only' THEN 0 "
            f"ELSE st.{column} END")


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


def latest_queue_name(name: str = "queue_name", at: str = "enqueue_ts", key: str = "contact_id") -> str:
    """Latest, not max: a queue's name for a group of legs is the name on its latest named leg by the time that
    attributes the leg (`at`), ties broken by the leg's id (`key`), then the name. One leg carrying an old or
    different name cannot rename the queue for the interval. An aggregate over the group's rows."""
    return f"arg_max({name}, struct_pack(at := {at}, key := {key}, name := {name}))"
