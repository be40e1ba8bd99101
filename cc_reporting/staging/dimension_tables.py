"""The Connect instance's own names (`dim_queue`, `dim_agent`, `dim_routing_profile`, `dim_hierarchy_group`), synced
by the `connect_dimensions` asset from Connect's List* APIs.

Every query that prints a queue name LEFT JOINs `dimension_queue_names(con)`: the instance's names once the tables
exist, an empty relation before (a warehouse that never synced keeps exactly the tables and names it had). With no
name there, a name is the one the contact records carry.
"""
from __future__ import annotations

DIMENSION_DDL = {
    "dim_queue": """CREATE TABLE IF NOT EXISTS dim_queue (
        instance_id VARCHAR, queue_id VARCHAR, queue_arn VARCHAR, queue_name VARCHAR, queue_type VARCHAR,
        synced_at TIMESTAMP)""",
    "dim_agent": """CREATE TABLE IF NOT EXISTS dim_agent (
        instance_id VARCHAR, user_id VARCHAR, user_arn VARCHAR, username VARCHAR, synced_at TIMESTAMP)""",
    "dim_routing_profile": """CREATE TABLE IF NOT EXISTS dim_routing_profile (
        instance_id VARCHAR, routing_profile_id VARCHAR, routing_profile_arn VARCHAR, routing_profile_name VARCHAR,
        synced_at TIMESTAMP)""",
    "dim_hierarchy_group": """CREATE TABLE IF NOT EXISTS dim_hierarchy_group (
        instance_id VARCHAR, hierarchy_group_id VARCHAR, hierarchy_group_arn VARCHAR, hierarchy_group_name VARCHAR,
        synced_at TIMESTAMP)""",
}

# One name per queue id, as the contact records key queues (the ARN's last segment). An agent's own queue
# (`.../queue/agent/<user id>`) is keyed by the agent's user id: Connect may list it without a name, and then the
# agent's user name names it. A listed queue name comes first (rank 0). Queue ids are unique across instances (UUIDs).
_QUEUE_NAMES = """(
    SELECT dimension_queue_id, arg_min(name, struct_pack(rank := rank, name := name)) AS dimension_queue_name
    FROM (SELECT queue_id AS dimension_queue_id, queue_name AS name, 0 AS rank FROM dim_queue
          UNION ALL
          SELECT user_id, username, 1 FROM dim_agent)
    WHERE name IS NOT NULL GROUP BY dimension_queue_id)"""


_NO_NAMES = "(SELECT NULL::VARCHAR AS dimension_queue_id, NULL::VARCHAR AS dimension_queue_name WHERE false)"


def dimension_queue_names(con) -> str:
    """A relation (dimension_queue_id, dimension_queue_name), one row per queue the instance names."""
    present = con.execute(
        """SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()
           AND table_name IN ('dim_queue', 'dim_agent')""").fetchone()[0]
    return _QUEUE_NAMES if present == 2 else _NO_NAMES


def ensure_dimension_tables(con) -> None:
    for ddl in DIMENSION_DDL.values():
        con.execute(ddl)
