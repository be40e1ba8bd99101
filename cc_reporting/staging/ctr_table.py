"""`stg_ctr`: one typed row per contact leg, the copy with the latest `LastUpdateTimestamp` (connect-formats.md §1).

Raw records are loaded as JSON text and typed in one set-based SQL statement; the customer's phone number is
hashed here and never stored in clear.
"""
from __future__ import annotations

import pyarrow as pa

STG_CTR_DDL = """
CREATE TABLE IF NOT EXISTS stg_ctr (
    contact_id VARCHAR PRIMARY KEY,
    initial_contact_id VARCHAR, previous_contact_id VARCHAR, next_contact_id VARCHAR, related_contact_id VARCHAR,
    root_contact_id VARCHAR,
    channel VARCHAR, initiation_method VARCHAR,
    initiation_ts TIMESTAMPTZ, connected_to_system_ts TIMESTAMPTZ, disconnect_ts TIMESTAMPTZ,
    disconnect_reason VARCHAR, last_update_ts TIMESTAMPTZ NOT NULL,
    scheduled_ts TIMESTAMPTZ, transfer_completed_ts TIMESTAMPTZ,
    agent_connection_attempts INTEGER,
    aws_account_id VARCHAR, instance_id VARCHAR,
    agent_id VARCHAR, agent_username VARCHAR, agent_connected_ts TIMESTAMPTZ,
    agent_interaction_duration INTEGER, customer_hold_duration INTEGER,
    number_of_holds INTEGER, longest_hold_duration INTEGER,
    acw_start_ts TIMESTAMPTZ, acw_end_ts TIMESTAMPTZ, acw_duration INTEGER,
    routing_profile_id VARCHAR, routing_profile_name VARCHAR,
    hierarchy_level1 VARCHAR, hierarchy_level2 VARCHAR, hierarchy_level3 VARCHAR,
    hierarchy_level4 VARCHAR, hierarchy_level5 VARCHAR,
    queue_id VARCHAR, queue_name VARCHAR, is_agent_queue BOOLEAN,
    enqueue_ts TIMESTAMPTZ, dequeue_ts TIMESTAMPTZ, queue_duration INTEGER,
    customer_endpoint_type VARCHAR, customer_phone_hash VARCHAR,
    system_endpoint_address VARCHAR, system_endpoint_type VARCHAR,
    transferred_to_endpoint_address VARCHAR,
    recording_status VARCHAR,
    attributes JSON,
    record_hash VARCHAR NOT NULL,     -- md5 of the raw record: an identical re-send changes nothing
    source_key VARCHAR NOT NULL,      -- landing object the kept copy came from
    ingested_at TIMESTAMPTZ NOT NULL
)
"""

# Intervals whose facts may have changed, per staging batch: the Teleopti and KPI assets re-open them.
TOUCHED_DDL = """
CREATE TABLE IF NOT EXISTS stg_ctr_touched (
    batch_id VARCHAR NOT NULL, interval_start TIMESTAMPTZ NOT NULL, contacts INTEGER NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL
)
"""


def _ts(path: str) -> str:
    return f"TRY_CAST(r.raw ->> '{path}' AS TIMESTAMPTZ)"


def _int(path: str) -> str:
    # Durations are whole seconds; accept "12", 12 and 12.0 alike.
    return f"TRY_CAST(TRY_CAST(r.raw ->> '{path}' AS DOUBLE) AS INTEGER)"


def _tail(path: str) -> str:
    """An ARN's id: the part after the last `/`."""
    return f"NULLIF(regexp_extract(r.raw ->> '{path}', '[^/]*$'), '')"


TYPED_SELECT = f"""
SELECT
    r.raw ->> '$.ContactId' AS contact_id,
    r.raw ->> '$.InitialContactId' AS initial_contact_id,
    r.raw ->> '$.PreviousContactId' AS previous_contact_id,
    r.raw ->> '$.NextContactId' AS next_contact_id,
    r.raw ->> '$.RelatedContactId' AS related_contact_id,
    coalesce(r.raw ->> '$.InitialContactId', r.raw ->> '$.ContactId') AS root_contact_id,
    r.raw ->> '$.Channel' AS channel,
    r.raw ->> '$.InitiationMethod' AS initiation_method,
    {_ts('$.InitiationTimestamp')} AS initiation_ts,
    {_ts('$.ConnectedToSystemTimestamp')} AS connected_to_system_ts,
    {_ts('$.DisconnectTimestamp')} AS disconnect_ts,
    r.raw ->> '$.DisconnectReason' AS disconnect_reason,
    r.last_update_ts,
    {_ts('$.ScheduledTimestamp')} AS scheduled_ts,
    {_ts('$.TransferCompletedTimestamp')} AS transfer_completed_ts,
    {_int('$.AgentConnectionAttempts')} AS agent_connection_attempts,
    r.raw ->> '$.AWSAccountId' AS aws_account_id,
    {_tail('$.InstanceARN')} AS instance_id,
    {_tail('$.Agent.ARN')} AS agent_id,
    r.raw ->> '$.Agent.Username' AS agent_username,
    {_ts('$.Agent.ConnectedToAgentTimestamp')} AS agent_connected_ts,
    {_int('$.Agent.AgentInteractionDuration')} AS agent_interaction_duration,
    {_int('$.Agent.CustomerHoldDuration')} AS customer_hold_duration,
    {_int('$.Agent.NumberOfHolds')} AS number_of_holds,
    {_int('$.Agent.LongestHoldDuration')} AS longest_hold_duration,
    {_ts('$.Agent.AfterContactWorkStartTimestamp')} AS acw_start_ts,
    {_ts('$.Agent.AfterContactWorkEndTimestamp')} AS acw_end_ts,
    {_int('$.Agent.AfterContactWorkDuration')} AS acw_duration,
    {_tail('$.Agent.RoutingProfile.ARN')} AS routing_profile_id,
    r.raw ->> '$.Agent.RoutingProfile.Name' AS routing_profile_name,
    r.raw ->> '$.Agent.HierarchyGroups.Level1.GroupName' AS hierarchy_level1,
    r.raw ->> '$.Agent.HierarchyGroups.Level2.GroupName' AS hierarchy_level2,
    r.raw ->> '$.Agent.HierarchyGroups.Level3.GroupName' AS hierarchy_level3,
    r.raw ->> '$.Agent.HierarchyGroups.Level4.GroupName' AS hierarchy_level4,
    r.raw ->> '$.Agent.HierarchyGroups.Level5.GroupName' AS hierarchy_level5,
    {_tail('$.Queue.ARN')} AS queue_id,
    r.raw ->> '$.Queue.Name' AS queue_name,
    coalesce(contains(r.raw ->> '$.Queue.ARN', '/queue/agent/'), false) AS is_agent_queue,
    {_ts('$.Queue.EnqueueTimestamp')} AS enqueue_ts,
    {_ts('$.Queue.DequeueTimestamp')} AS dequeue_ts,
    {_int('$.Queue.Duration')} AS queue_duration,
    r.raw ->> '$.CustomerEndpoint.Type' AS customer_endpoint_type,
    hash_phone(r.raw ->> '$.CustomerEndpoint.Address') AS customer_phone_hash,
    r.raw ->> '$.SystemEndpoint.Address' AS system_endpoint_address,
    r.raw ->> '$.SystemEndpoint.Type' AS system_endpoint_type,
    r.raw ->> '$.TransferredToEndpoint.Address' AS transferred_to_endpoint_address,
    r.raw ->> '$.Recording.Status' AS recording_status,
    CASE WHEN json_type(r.raw, '$.Attributes') = 'OBJECT' THEN json_extract(r.raw, '$.Attributes') END AS attributes,
    md5(r.raw) AS record_hash,
    r.source_key,
    r.ingested_at
FROM batch_ranked r
"""

_BATCH_SCHEMA = pa.schema([("seq", pa.int64()), ("source_key", pa.string()), ("raw", pa.string())])


def merge_ctr_records(con, records: list[tuple[str, str]], batch_id: str, ingested_at) -> dict:
    """Upsert (object_key, raw_json) records into stg_ctr inside the caller's transaction.

    Per ContactId the greatest LastUpdateTimestamp wins; on a tie the copy ingested last (later in this batch,
    or this batch over an earlier one) wins. Returns counts for metadata.
    """
    batch = pa.table(
        {"seq": list(range(len(records))), "source_key": [k for k, _ in records], "raw": [r for _, r in records]},
        schema=_BATCH_SCHEMA,
    )
    con.register("_ctr_batch_arrow", batch)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE batch_ranked AS
           SELECT seq, source_key, raw::JSON AS raw, ?::TIMESTAMPTZ AS ingested_at,
                  TRY_CAST(raw::JSON ->> '$.LastUpdateTimestamp' AS TIMESTAMPTZ) AS last_update_ts
           FROM _ctr_batch_arrow
           QUALIFY row_number() OVER (PARTITION BY raw::JSON ->> '$.ContactId'
                                      ORDER BY last_update_ts DESC NULLS LAST, seq DESC) = 1""",
        [ingested_at],
    )
    con.unregister("_ctr_batch_arrow")
    bad_ts = con.execute("SELECT count(*) FROM batch_ranked WHERE last_update_ts IS NULL").fetchone()[0]
    con.execute("DELETE FROM batch_ranked WHERE last_update_ts IS NULL")
    con.execute(f"CREATE OR REPLACE TEMP TABLE batch_typed AS {TYPED_SELECT}")
    # Keep only copies that are newer (or equal and different) than what is staged.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE batch_winners AS
           SELECT b.* FROM batch_typed b LEFT JOIN stg_ctr s USING (contact_id)
           WHERE s.contact_id IS NULL
              OR b.last_update_ts > s.last_update_ts
              OR (b.last_update_ts = s.last_update_ts AND b.record_hash <> s.record_hash)"""
    )
    con.execute(
        """INSERT INTO stg_ctr_touched
           SELECT ?, t, count(DISTINCT contact_id), ? FROM (
               SELECT contact_id, unnest([enqueue_ts, agent_connected_ts, initiation_ts]) AS ts FROM (
                   SELECT contact_id, enqueue_ts, agent_connected_ts, initiation_ts FROM batch_winners
                   UNION ALL
                   SELECT s.contact_id, s.enqueue_ts, s.agent_connected_ts, s.initiation_ts
                   FROM stg_ctr s JOIN batch_winners w USING (contact_id)))
               CROSS JOIN LATERAL (SELECT time_bucket(INTERVAL 15 MINUTE, ts) AS t)
           WHERE ts IS NOT NULL GROUP BY t""",
        [batch_id, ingested_at],
    )
    replaced = con.execute(
        "SELECT count(*) FROM stg_ctr WHERE contact_id IN (SELECT contact_id FROM batch_winners)"
    ).fetchone()[0]
    con.execute("DELETE FROM stg_ctr WHERE contact_id IN (SELECT contact_id FROM batch_winners)")
    con.execute("INSERT INTO stg_ctr BY NAME SELECT * FROM batch_winners")
    inserted = con.execute("SELECT count(*) FROM batch_winners").fetchone()[0]
    distinct = con.execute("SELECT count(*) FROM batch_typed").fetchone()[0]
    return {
        "records_read": len(records),
        "distinct_contacts_in_batch": distinct,
        "new_contacts": inserted - replaced,
        "updated_contacts": replaced,
        "unchanged_or_older_copies": len(records) - bad_ts - inserted,
        "records_bad_timestamp": bad_ts,
    }
