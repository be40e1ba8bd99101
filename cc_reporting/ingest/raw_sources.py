"""The raw sources as external assets: where the lineage starts, observed (never materialized) by the sensors.

Dagster does not write these: Kinesis Firehose, Amazon Connect's scheduled reports, the chat platforms, the CRM
and the agent event stream do. Declaring them lets the asset graph start at the landing zone, and the sensors that
read them report on every tick what they saw (`AssetObservation`): how many objects, the newest one and how long
ago it landed — so a source that stopped delivering shows in the UI as a growing lag.
"""
from __future__ import annotations

from datetime import datetime

import dagster as dg

from cc_reporting.resources.landing import LandingObject

RAW_GROUP = "raw"


def _raw(key: str, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(key, group_name=RAW_GROUP, description=description)


raw_ctr = _raw("raw_ctr", "Contact trace records as Kinesis Firehose writes them under the landing zone's ctr/ "
                          "(concatenated JSON, maybe gzip). Observed by ctr_landing_sensor.")
raw_agent_report = _raw("raw_agent_report", "The scheduled TeleoptiAgentPerformance report Amazon Connect drops "
                                            "under the landing zone's reports/ (CSV). Observed by agent_report_sensor.")
raw_channel_sessions = _raw("raw_channel_sessions", "Web-chatbot and NLU-bot session files under "
                                                    "the landing zone's channels/ (JSON lines). Observed by "
                                                    "channel_session_sensor.")
raw_crm_extract = _raw("raw_crm_extract", "The CRM customer extract under the landing zone's crm/ (CSV, the whole "
                                          "master "
                                          "each time). Observed by crm_sensor.")
raw_agent_events = _raw("raw_agent_events", "The Amazon Connect agent event stream (Kinesis data stream, or the "
                                            "simulator's spool folder, CC_AGENT_EVENTS). Observed by rta_sensor.")

raw_source_specs = [raw_ctr, raw_agent_report, raw_channel_sessions, raw_crm_extract, raw_agent_events]


def landing_observation(spec: dg.AssetSpec, prefix: str, objects: list[LandingObject],
                        now: datetime) -> dg.AssetObservation:
    """What a landing sensor saw of one source this tick."""
    metadata = {"prefix": prefix, "object_count": len(objects), "total_bytes": sum(o.size for o in objects)}
    if objects:
        newest = max(objects, key=lambda o: (o.last_modified, o.key))
        metadata.update(newest_object=newest.key,
                        newest_last_modified=dg.MetadataValue.timestamp(newest.last_modified),
                        lag_seconds=max(0.0, round((now - newest.last_modified).total_seconds(), 1)))
    return dg.AssetObservation(asset_key=spec.key, metadata=metadata)


def stream_observation(source: str, records_read: int, newest_event_ms: int | None,
                       now_ms: int) -> dg.AssetObservation:
    """What the RTA sensor read of the agent event stream this tick."""
    metadata = {"source": source, "records_read": records_read}
    if newest_event_ms is not None:
        metadata.update(newest_event_ts=dg.MetadataValue.timestamp(newest_event_ms / 1000),
                        lag_seconds=max(0.0, round((now_ms - newest_event_ms) / 1000, 1)))
    return dg.AssetObservation(asset_key=raw_agent_events.key, metadata=metadata)
