"""Helpers shared by the RTA tests (no tests here): raw Connect agent events, a Kinesis stream on moto."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone

INSTANCE = "arn:aws:connect:eu-west-1:123456789012:instance/inst-1"


def agent_arn(n: int) -> str:
    return f"{INSTANCE}/agent/agent-{n:04d}"


def event(n: int, ts: datetime, status: str = "Available", event_type: str = "STATE_CHANGE",
          contacts: tuple[str, ...] = (), event_id: str | None = None) -> dict:
    stype = {"Available": "ROUTABLE", "Offline": "OFFLINE"}.get(status, "CUSTOM")
    return {
        "AWSAccountId": "123456789012", "AgentARN": agent_arn(n), "EventId": event_id or str(uuid.uuid4()),
        "EventTimestamp": ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
        "EventType": event_type, "InstanceARN": INSTANCE, "Version": "2017-10-01",
        "CurrentAgentSnapshot": {
            "AgentStatus": {"ARN": f"{INSTANCE}/agent-state/{status}", "Name": status,
                            "StartTimestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "Type": stype},
            "Configuration": {"Username": f"agent.{n:04d}", "FirstName": "First", "LastName": f"Last{n}",
                              "RoutingProfile": {"ARN": f"{INSTANCE}/routing-profile/rp-1", "InboundQueues": []}},
            "Contacts": [{"ContactId": f"c-{n}-{i}", "State": s} for i, s in enumerate(contacts)],
        },
    }


def now() -> datetime:
    return datetime.now(timezone.utc)


def ago(seconds: float) -> datetime:
    return now() - timedelta(seconds=seconds)


def make_stream(client, name: str, shards: int = 2) -> None:
    client.create_stream(StreamName=name, ShardCount=shards)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})


def put(client, stream: str, events: list[dict]) -> None:
    for e in events:
        client.put_record(StreamName=stream, Data=json.dumps(e).encode(), PartitionKey=e["AgentARN"])
    time.sleep(0.002)


def ids(records) -> list[str]:
    return [json.loads(r[2])["EventId"] for r in records]
