"""The `jar` table (docs/analytics.md §3) and the small tables its incremental refresh keeps beside it.

The 34 seed variables come first, spelled exactly as the seed spells them, then the extras (snake_case, except
`IsResolvedFinal`). Flags are INTEGER 0/1 and never null so they can be summed.
"""
from __future__ import annotations

from cc_reporting.staging.instances import add_instance_column

SEED_COLUMNS = (
    ("ChannelType", "VARCHAR"), ("UniversalSessionId", "VARCHAR"), ("SessionId", "VARCHAR"), ("CUST_ID", "VARCHAR"),
    ("SessionStartTime", "TIMESTAMP"), ("InteractionStartTime", "TIMESTAMP"), ("InteractionEndTime", "TIMESTAMP"),
    ("SessionEndTime", "TIMESTAMP"), ("HoldTime", "INTEGER"), ("AgentId", "VARCHAR"), ("AgentSkillId", "VARCHAR"),
    ("Department", "VARCHAR"), ("Team", "VARCHAR"), ("IntentCategory", "VARCHAR"), ("Intent", "VARCHAR"),
    ("JourneyStep", "INTEGER"), ("IsResolved", "BOOLEAN"), ("IsTransferred", "BOOLEAN"),
    ("ChannelTypeTransferred", "VARCHAR"), ("IsDigitalOffered", "BOOLEAN"), ("IsDigitalAccepted", "BOOLEAN"),
    ("AgentIdTransferred", "VARCHAR"), ("AgentSkillIdTransferred", "VARCHAR"), ("ExitReasonCode", "VARCHAR"),
    ("InteractionNotes", "VARCHAR"), ("IsTransferredToSurvey", "BOOLEAN"), ("CSATScore", "INTEGER"),
    ("IsCallBack", "BOOLEAN"), ("CallBackSessionId", "VARCHAR"), ("SessionDuration", "INTEGER"),
    ("CustomerDuration", "INTEGER"), ("AgentDuration", "INTEGER"), ("InteractionDuration", "INTEGER"),
    ("QueueTime", "INTEGER"),
)

FLAG_COLUMNS = ("is_queued", "is_answered", "is_abandoned", "is_short_abandon", "answered_within_sla",
                "abandoned_within_sla", "is_outbound", "is_transfer_in")

EXTRA_COLUMNS = (
    ("IsResolvedFinal", "BOOLEAN"), ("journey_path", "VARCHAR"),
    ("source", "VARCHAR"), ("root_contact_id", "VARCHAR"), ("initiation_method", "VARCHAR"),
    ("queue_name", "VARCHAR"), ("enqueued_at", "TIMESTAMP"), ("acw_duration", "INTEGER"), ("device", "VARCHAR"),
    ("previous_contact_id", "VARCHAR"),  # PreviousContactId: docs/kpis.md's callback_requests reads it
    *((f, "INTEGER NOT NULL") for f in FLAG_COLUMNS),
    # Provenance, so metadata and the next refresh need not re-read staging:
    ("cust_id_origin", "VARCHAR"),       # attribute | phone | ambiguous_phone | none
    ("is_resolved_origin", "VARCHAR"),   # attribute (attr isResolved / field resolved) | fcr
    ("connect_instance", "VARCHAR"),     # the instance whose landing prefix held the leg or session (docs/instances.md)
)

JAR_COLUMNS = tuple(name for name, _ in SEED_COLUMNS + EXTRA_COLUMNS)


def _q(name: str) -> str:
    return f'"{name}"'


JAR_DDL = "CREATE TABLE IF NOT EXISTS jar (\n    " + ",\n    ".join(
    f"{_q(name)} {sql_type}" for name, sql_type in SEED_COLUMNS + EXTRA_COLUMNS) + "\n)"

# Sparse: one row per present-but-invalid attribute value (no value stored: attributes may hold personal data).
INVALID_DDL = """
CREATE TABLE IF NOT EXISTS jar_invalid_attribute (SessionId VARCHAR NOT NULL, attribute VARCHAR NOT NULL)
"""

# What the last refresh was built from, so the next one can find what changed without re-reading everything.
STATE_DDL = """
CREATE TABLE IF NOT EXISTS jar_refresh_state (
    config_hash VARCHAR NOT NULL,      -- mapping + settings + logic version: a change forces a full rebuild
    as_of TIMESTAMP NOT NULL,
    staged_through TIMESTAMPTZ,        -- greatest staging ingested_at the refresh saw
    refreshed_at TIMESTAMPTZ NOT NULL
)
"""
PHONE_MAP_DDL = """
CREATE TABLE IF NOT EXISTS jar_phone_map (phone_hash VARCHAR PRIMARY KEY, cust_id VARCHAR, customers INTEGER NOT NULL)
"""
CALLBACK_ROOT_DDL = """
CREATE TABLE IF NOT EXISTS jar_callback_root (contact_id VARCHAR PRIMARY KEY, root VARCHAR)
"""

# Every jar row's SessionId -> the day of its SessionStartTime (jar_days: lookups by id that read only those days).
SESSION_DAY_DDL = "CREATE TABLE IF NOT EXISTS jar_session_day (session_id VARCHAR PRIMARY KEY, day DATE)"


def ensure_jar_tables(con) -> None:
    for ddl in (JAR_DDL, INVALID_DDL, STATE_DDL, PHONE_MAP_DDL, CALLBACK_ROOT_DDL, SESSION_DAY_DDL):
        con.execute(ddl)
    add_instance_column(con, "jar")


def table_exists(con, name: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [name]
    ).fetchone()[0] > 0
