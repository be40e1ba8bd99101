"""One Amazon Connect agent event, normalised: the row of the RTA state log and of every agent-state model.

The shape is the contract between the RTA sensor (which writes the log) and the agent-state intervals (which read
it): docs/connect-inputs.md §4, with the rules decided there — `AgentStatus.Type` derived from the name when absent,
`AgentHierarchyGroups`/`HierarchyGroups` both accepted, timestamps parsed leniently.
"""
from __future__ import annotations

from datetime import datetime, timezone

# Real LOGIN events carry `CurrentAgentSnapshot: null`. The agent is logged in from then on, but Connect has not
# said in which status: until the next event says otherwise the agent counts as online and not available (a
# non-productive "Logged in" status), so no idle time or queue availability is claimed that nobody reported.
LOGIN_WITHOUT_SNAPSHOT_STATUS = {"Name": "Logged in", "Type": "CUSTOM"}

# Fields of a normalised event, in log order.
FIELDS = (
    "event_id", "event_type", "event_ts", "agent_arn", "agent_id", "username", "first_name", "last_name",
    "status_name", "status_type", "status_start_ts", "contact_states", "contact_ids", "routing_profile_id",
    "inbound_queue_ids", "shard_id", "sequence_number",
)


class MalformedEvent(ValueError):
    """An event this project cannot use (counted and skipped, never fatal)."""


def _tail(arn) -> str | None:
    return arn.rsplit("/", 1)[-1] if isinstance(arn, str) and arn else None


def parse_event_time(value) -> datetime:
    """`2026-01-05T09:05:02.123Z`, with or without milliseconds or a `Z` (lenient, as the spec asks)."""
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"EventTimestamp is not a timestamp: {value!r}")
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MalformedEvent(f"EventTimestamp is not a timestamp: {value!r}") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def status_type(status: dict | None) -> str | None:
    """ROUTABLE / CUSTOM / OFFLINE; older events lack `Type`: Available → ROUTABLE, Offline → OFFLINE, else CUSTOM."""
    if not status:
        return None
    declared = status.get("Type")
    if isinstance(declared, str) and declared:
        return declared.upper()
    name = (status.get("Name") or "").strip().lower()
    return "ROUTABLE" if name == "available" else "OFFLINE" if name == "offline" else "CUSTOM"


def normalize_event(raw, shard_id: str, sequence_number: str) -> dict:
    """The normalised form of one raw event (a dict decoded from the stream); raises MalformedEvent."""
    if not isinstance(raw, dict):
        raise MalformedEvent("event is not a JSON object")
    event_id, event_type, agent_arn = raw.get("EventId"), raw.get("EventType"), raw.get("AgentARN")
    if not (isinstance(event_id, str) and event_id and isinstance(event_type, str) and isinstance(agent_arn, str)):
        raise MalformedEvent("EventId, EventType or AgentARN missing")
    snapshot = raw.get("CurrentAgentSnapshot") or {}
    if not isinstance(snapshot, dict):
        raise MalformedEvent("CurrentAgentSnapshot is not an object")
    status = snapshot.get("AgentStatus") or None
    if status is None and event_type.upper() == "LOGIN":
        status = {**LOGIN_WITHOUT_SNAPSHOT_STATUS, "StartTimestamp": raw.get("EventTimestamp")}
    config = snapshot.get("Configuration") or {}
    profile = config.get("RoutingProfile") or {}
    contacts = [c for c in (snapshot.get("Contacts") or []) if isinstance(c, dict)]
    return {
        "event_id": event_id,
        "event_type": event_type.upper(),
        "event_ts": parse_event_time(raw.get("EventTimestamp")).isoformat(timespec="milliseconds"),
        "agent_arn": agent_arn,
        "agent_id": _tail(agent_arn),
        "username": config.get("Username"),
        "first_name": config.get("FirstName"),
        "last_name": config.get("LastName"),
        "status_name": status.get("Name") if status else None,
        "status_type": status_type(status),
        "status_start_ts": status.get("StartTimestamp") if status else None,
        "contact_states": [str(c.get("State") or "").upper() for c in contacts],
        "contact_ids": [c.get("ContactId") for c in contacts],
        "routing_profile_id": _tail(profile.get("ARN")),
        "inbound_queue_ids": [q for q in (_tail(x.get("ARN")) for x in (profile.get("InboundQueues") or [])
                                          if isinstance(x, dict)) if q],
        "shard_id": shard_id,
        "sequence_number": sequence_number,
    }


# docs/connect-inputs.md §4, agent time from the event stream: the bucket table, written once. Both the live RTA state
# (Python, per event) and the agent-state intervals (SQL, per stretch) are generated from it.
CONTACT_BUCKETS = (
    (("CONNECTED", "CONNECTED_ONHOLD"), "on_contact"),  # row 3: talk / hold
    (("ENDED",), "acw"),  # row 4: after-contact work
    (("CONNECTING", "INCOMING", "PENDING"), "connecting"),  # row 5: neither idle nor on contact
)


def bucket_of(status_type: str | None, contact_states, logged_out: bool) -> str:
    """The first matching row of the table; `unknown` when the event carried no status at all."""
    if logged_out or status_type == "OFFLINE":
        return "offline"  # row 1
    if status_type is None:
        return "unknown"
    if status_type == "CUSTOM":
        return "non_productive"  # row 2, whatever the contacts
    states = set(contact_states or ())
    for wanted, bucket in CONTACT_BUCKETS:
        if states.intersection(wanted):
            return bucket
    return "idle"  # row 6: no contacts, or only MISSED / REJECTED / ERROR


def bucket_sql(status_type: str, contact_states: str, logged_out: str) -> str:
    """The same table as a SQL CASE over the given column expressions."""
    whens = [f"WHEN {status_type} = 'OFFLINE' OR {logged_out} THEN 'offline'",
             f"WHEN {status_type} IS NULL THEN 'unknown'",
             f"WHEN {status_type} = 'CUSTOM' THEN 'non_productive'"]
    for wanted, bucket in CONTACT_BUCKETS:
        listed = ", ".join(f"'{s}'" for s in wanted)
        whens.append(f"WHEN list_has_any({contact_states}, [{listed}]) THEN '{bucket}'")
    return "CASE " + " ".join(whens) + " ELSE 'idle' END"


# The gap rule, shared by the interval model and the live RTA state: a state other than offline / unknown is carried
# from its event for at most `max_gap_s` seconds (CC_AGENT_STATE_MAX_GAP_SECONDS). Real streams have minutes between
# events (204-376 s seen, heartbeats every 120 s only when nothing else was published); past the limit the agent's
# state is unknown: stale, not online. Offline holds until the next event whatever the gap.
def carries_state(bucket: str) -> bool:
    return bucket not in ("offline", "unknown")


def is_stale(bucket: str, seconds_since_event: float, max_gap_s: int) -> bool:
    """The state of an event `seconds_since_event` old is no longer known (a gap of exactly the limit still is)."""
    return carries_state(bucket) and seconds_since_event > max_gap_s


def known_until_sql(bucket: str, start: str, max_gap_s: int) -> str:
    """SQL twin of `is_stale`: the instant a stretch starting at `start` stops being known (NULL: never)."""
    return (f"CASE WHEN {bucket} IN ('offline', 'unknown') THEN NULL "
            f"ELSE {start} + INTERVAL {int(max_gap_s)} SECOND END")
