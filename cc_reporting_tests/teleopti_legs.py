"""Hand-made contact legs for the Teleopti rule tests, staged through the real staging path."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from cc_reporting.models.teleopti import interval_stats
from cc_reporting.staging.ctr_table import merge_ctr_records
from cc_reporting.staging.schema import ensure_staging_tables

DAY = datetime(2026, 1, 5, tzinfo=timezone.utc)
ARN = "arn:aws:connect:eu-west-1:111122223333:instance/inst-1"


def at(hhmmss: str) -> datetime:
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return DAY + timedelta(hours=h, minutes=m, seconds=s)


def iso(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def leg(contact_id, enqueue="09:05:00", queue_duration=10, answered=True, method="INBOUND", queue="q-billing",
        queue_name="Billing", talk=100, hold=0, acw=20, next_contact=None, transfer_completed=False,
        agent="jane.doe", agent_queue=False, queued=True, attributes=None, channel="VOICE"):
    """A leg whose timestamps agree with its durations, as in Amazon's samples."""
    enq = at(enqueue)
    deq = enq + timedelta(seconds=queue_duration or 0)
    record = {
        "AWSAccountId": "111122223333", "ContactId": contact_id, "Channel": channel, "InitiationMethod": method,
        "InitiationTimestamp": iso(enq - timedelta(seconds=30)), "LastUpdateTimestamp": iso(enq + timedelta(hours=1)),
        "InitialContactId": None, "PreviousContactId": None, "NextContactId": next_contact,
        "Attributes": attributes or {}, "Agent": None, "Queue": None, "SystemEndpoint": {"Address": "+12065550100",
                                                                                        "Type": "TELEPHONE_NUMBER"},
        "CustomerEndpoint": {"Address": "+12065550142", "Type": "TELEPHONE_NUMBER"},
        "TransferCompletedTimestamp": None, "TransferredToEndpoint": None,
        "DisconnectTimestamp": iso(deq + timedelta(seconds=talk + hold if answered else 0)),
    }
    if queued:
        queue_arn = f"{ARN}/queue/agent/{agent}-id" if agent_queue else f"{ARN}/queue/{queue}"
        record["Queue"] = {"ARN": queue_arn, "Name": None if agent_queue else queue_name,
                           "EnqueueTimestamp": iso(enq), "DequeueTimestamp": iso(deq), "Duration": queue_duration}
    if answered:
        acw_start = deq + timedelta(seconds=talk + hold)
        record["Agent"] = {
            "ARN": f"{ARN}/agent/{agent}-id", "Username": agent, "ConnectedToAgentTimestamp": iso(deq),
            "AgentInteractionDuration": talk, "CustomerHoldDuration": hold,
            "AfterContactWorkStartTimestamp": iso(acw_start),
            "AfterContactWorkEndTimestamp": iso(acw_start + timedelta(seconds=acw)), "AfterContactWorkDuration": acw,
        }
    if transfer_completed:
        record["TransferCompletedTimestamp"] = iso(deq + timedelta(seconds=talk))
        record["TransferredToEndpoint"] = {"Address": "+18002430000", "Type": "TELEPHONE_NUMBER"}
    return record


def stage(con, *records):
    ensure_staging_tables(con, "salt")
    interval_stats.ensure_tables(con)
    merge_ctr_records(con, [("ctr/test", json.dumps(r)) for r in records], "b1", datetime.now(timezone.utc))
