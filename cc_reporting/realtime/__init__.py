"""Agent state from the agent event stream: the RTA state log, agent time per 15-minute interval, queue and
Teleopti derivations. See `state_log` and `intervals` for the rules and tables."""
from cc_reporting.realtime.intervals import (
    BUCKETS,
    INTERVALS_TABLE,
    PIECES_TABLE,
    QUEUE_TABLE,
    TELEOPTI_AGENT_VIEW,
    TELEOPTI_QUEUE_VIEW,
    agent_state_queue_intervals,
    build_agent_state_intervals,
    ensure_tables,
    rebuild_agent_state,
    teleopti_agent_durations,
    teleopti_queue_availability,
)
from cc_reporting.realtime.state_log import (
    EVENTS_TABLE,
    load_state_log,
    log_files,
    spool_events,
    write_state_log,
)

__all__ = [
    "BUCKETS", "EVENTS_TABLE", "INTERVALS_TABLE", "PIECES_TABLE", "QUEUE_TABLE", "TELEOPTI_AGENT_VIEW",
    "TELEOPTI_QUEUE_VIEW", "agent_state_queue_intervals", "build_agent_state_intervals", "ensure_tables",
    "load_state_log", "log_files", "rebuild_agent_state", "spool_events", "teleopti_agent_durations",
    "teleopti_queue_availability", "write_state_log",
]
