"""Where agent events go: a local spool folder (a stand-in for the Kinesis stream) or a Kinesis stream.

Spool format: `<folder>/<shard-id>/<YYYY-MM-DD-HH>.jsonl`, one event per line in sequence order, shard ids
`shardId-000000000000` and `shardId-000000000001`, shard = int(md5(AgentARN) hex) % 2 (so one agent's
events are always in one shard, in `EventTimestamp` order), hour = the event's UTC hour; an event's
sequence number is its (file name, line number). Lines are appended in whole chunks.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

from .clock import hour_stamp

SHARDS = ("shardId-000000000000", "shardId-000000000001")
KINESIS_BATCH = 500
KINESIS_BYTES = 4_500_000


def shard_of(agent_arn: str) -> int:
    return int(hashlib.md5(agent_arn.encode()).hexdigest(), 16) % len(SHARDS)


class SpoolSink:
    def __init__(self, folder: str, agent_arns: list[str]):
        self.root = Path(folder)
        self.shard = [shard_of(arn) for arn in agent_arns]
        self.bytes = 0

    def write(self, lines: list[tuple[int, str]], ms) -> None:
        groups: dict[tuple[int, str], list[str]] = {}
        hours: dict[int, str] = {}
        for (a, line), t in zip(lines, ms.tolist()):
            h = t // 3_600_000
            stamp = hours.get(h)
            if stamp is None:
                stamp = hours[h] = hour_stamp(h * 3600)
            groups.setdefault((self.shard[a], stamp), []).append(line)
        for (shard, stamp), group in sorted(groups.items()):
            path = self.root / SHARDS[shard] / f"{stamp}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            data = ("\n".join(group) + "\n").encode("utf-8")
            with open(path, "ab") as handle:
                handle.write(data)
            self.bytes += len(data)


class KinesisSink:
    """`put_records` with PartitionKey = AgentARN, ≤ 500 records a call, failed records retried."""

    def __init__(self, stream: str, agent_arns: list[str], endpoint_url: str | None = None, client=None):
        from cc_reporting.resources.aws import aws_client

        self.stream, self.arns = stream, agent_arns
        self.client = client or aws_client("kinesis", endpoint_url)
        self.bytes = 0
        self._ensure_stream()

    def _ensure_stream(self) -> None:
        try:
            self.client.describe_stream_summary(StreamName=self.stream)
        except self.client.exceptions.ResourceNotFoundException:
            self.client.create_stream(StreamName=self.stream, ShardCount=len(SHARDS))
            self.client.get_waiter("stream_exists").wait(StreamName=self.stream)

    def write(self, lines: list[tuple[int, str]], ms) -> None:
        batch, size = [], 0
        for a, line in lines:
            data = line.encode("utf-8")
            if len(batch) == KINESIS_BATCH or size + len(data) > KINESIS_BYTES:
                self._put(batch)
                batch, size = [], 0
            batch.append({"Data": data, "PartitionKey": self.arns[a]})
            size += len(data)
        if batch:
            self._put(batch)

    def _put(self, records: list[dict]) -> None:
        for attempt in range(8):
            response = self.client.put_records(StreamName=self.stream, Records=records)
            if not response.get("FailedRecordCount"):
                self.bytes += sum(len(r["Data"]) for r in records)
                return
            failed = [r for r, res in zip(records, response["Records"]) if res.get("ErrorCode")]
            self.bytes += sum(len(r["Data"]) for r in records) - sum(len(r["Data"]) for r in failed)
            records = failed
            time.sleep(min(2.0, 0.1 * 2 ** attempt))
        raise RuntimeError(f"Kinesis put_records kept failing for {len(records)} records on {self.stream}")


def make_sink(agent_events: str, agent_arns: list[str], endpoint_url: str | None):
    if agent_events.startswith("kinesis://"):
        return KinesisSink(agent_events[len("kinesis://"):].strip("/"), agent_arns, endpoint_url)
    return SpoolSink(agent_events, agent_arns)
