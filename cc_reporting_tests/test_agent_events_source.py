"""The agent event source over a real moto Kinesis server (HTTP) and over the simulator's spool folder."""
from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from datetime import timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from cc_reporting.realtime.agent_events import KinesisSource, SpoolSource, open_source
from cc_reporting_tests.test_rta_support import ago, event, ids, make_stream, now, put


@pytest.fixture
def kinesis(moto_endpoint):
    client = boto3.client("kinesis", endpoint_url=moto_endpoint, region_name="eu-west-1")
    name = f"agents-{uuid.uuid4().hex[:8]}"
    make_stream(client, name)
    return client, name, moto_endpoint


def drain(source, positions, max_records=1000):
    got = []
    for _ in range(20):
        recs, positions = source.read(positions, max_records)
        got += recs
        if not recs:
            break
    return got, positions


def test_open_source_honours_endpoint_env(kinesis, monkeypatch):
    client, name, endpoint = kinesis
    monkeypatch.setenv("CC_AWS_ENDPOINT_URL", endpoint)
    source = open_source(f"kinesis://{name}")
    assert isinstance(source, KinesisSource) and source.client.meta.endpoint_url == endpoint
    assert {s["ShardId"] for s in source.list_shards()} == {"shardId-000000000000", "shardId-000000000001"}


def test_first_start_reads_only_the_last_24_hours(kinesis):
    """moto honours AT_TIMESTAMP against the records' arrival time: the source asks for now − 24 h, so with a
    clock 24 h ahead of the moment between two batches only the second batch is read."""
    client, name, endpoint = kinesis
    old = [event(n, ago(60)) for n in range(6)]
    put(client, name, old)
    # botocore sends AT_TIMESTAMP in whole seconds: split on a second boundary, between the two batches.
    time.sleep(1.05 - now().timestamp() % 1)
    split_at = now()
    time.sleep(0.05)
    new = [event(n, ago(1)) for n in range(6)]
    put(client, name, new)
    source = KinesisSource(name, endpoint, now=lambda: split_at + timedelta(hours=24))
    got, positions = drain(source, None)
    assert sorted(ids(got)) == sorted(e["EventId"] for e in new)
    # a real clock reads everything (all within 24 h)
    got_all, _ = drain(KinesisSource(name, endpoint), None)
    assert sorted(ids(got_all)) == sorted(e["EventId"] for e in old + new)


def test_restart_from_positions_neither_loses_nor_repeats(kinesis):
    client, name, endpoint = kinesis
    first = [event(n, ago(30)) for n in range(10)]
    put(client, name, first)
    a = KinesisSource(name, endpoint)
    got1, positions = a.read(None, 4)                    # bounded: only part of the backlog
    assert len(got1) == 4
    second = [event(n, ago(1)) for n in range(10)]
    put(client, name, second)
    b = KinesisSource(name, endpoint)                    # restart: a new process, only the positions kept
    got2, positions = drain(b, json.loads(json.dumps(positions)), 5)
    assert sorted(ids(got1 + got2)) == sorted(e["EventId"] for e in first + second)
    assert len(set(ids(got1 + got2))) == 20
    # per shard, sequence numbers strictly increase
    for shard in {r[0] for r in got1 + got2}:
        seqs = [int(r[1]) for r in got1 + got2 if r[0] == shard]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))


def _put_into_open_shards(name, events):
    """Put records the way real Kinesis does after a split: into the OPEN shard owning the key's hash.

    moto 5 routes every put to the first shard whose range holds the hash, the closed parent included (a moto
    bug), so post-split records are placed into the children through moto's in-process backend; they are still
    read over HTTP like any other record. Records are stored the way moto stored one put over HTTP before the
    split: raw bytes (moto 5.2.0) or their base64 text (5.2.1 and before 5.2)."""
    from moto.kinesis.models import kinesis_backends

    stream = kinesis_backends["123456789012"]["eu-west-1"].streams[name]
    stored = next(r.data for s in stream.shards.values() for r in s.records.values())
    as_stored = ((lambda raw: raw) if isinstance(stored, bytes) and stored.startswith(b"{")
                 else (lambda raw: base64.b64encode(raw).decode()))
    for e in events:
        key = int(hashlib.md5(e["AgentARN"].encode()).hexdigest(), 16)
        shard = next(s for s in stream.shards.values() if s.is_open and s.starting_hash <= key <= s.ending_hash)
        shard.put_record(e["AgentARN"], as_stored(json.dumps(e).encode()), None)


def test_resharding_parent_drained_then_children(kinesis):
    """Events before a split (partly read), split shard 0, events after (in the children): the closed parent is
    drained first, then both children are read; across a restart nothing is lost or repeated."""
    client, name, endpoint = kinesis
    before = [event(n, ago(20)) for n in range(16)]
    put(client, name, before)
    got1, positions = KinesisSource(name, endpoint).read(None, 4)      # part of the parent read before the split
    client.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2 ** 126))
    after = [event(n, ago(1)) for n in range(16)]
    _put_into_open_shards(name, after)
    source = KinesisSource(name, endpoint)
    got2, positions = drain(source, positions, 5)
    assert sorted(ids(got1 + got2)) == sorted(e["EventId"] for e in before + after)
    assert len(got1 + got2) == 32                                        # none repeated
    assert positions["shardId-000000000000"] == "SHARD_END"
    children = {"shardId-000000000002", "shardId-000000000003"}
    assert children <= set(positions)
    # a child's records come after every record of its parent (read order respects the lineage)
    order = [r[0] for r in got2]
    last_parent = max(i for i, s in enumerate(order) if s == "shardId-000000000000")
    assert all(i > last_parent for i, s in enumerate(order) if s in children)
    more = [event(n, ago(0)) for n in range(16)]
    _put_into_open_shards(name, more)
    got3, _ = drain(KinesisSource(name, endpoint), positions)
    assert sorted(ids(got3)) == sorted(e["EventId"] for e in more)


def test_expired_iterator_is_renewed_from_the_last_position(kinesis, monkeypatch):
    client, name, endpoint = kinesis
    put(client, name, [event(n, ago(10)) for n in range(4)])
    source = KinesisSource(name, endpoint)
    got1, positions = drain(source, None)
    assert len(got1) == 4 and source._iterators                      # iterators kept for the next call
    later = [event(n, ago(1)) for n in range(4)]
    put(client, name, later)
    real, raised = source.client.get_records, []

    def get_records(**kwargs):
        if not raised:
            raised.append(1)
            raise ClientError({"Error": {"Code": "ExpiredIteratorException", "Message": "expired"}}, "GetRecords")
        return real(**kwargs)

    monkeypatch.setattr(source.client, "get_records", get_records)
    got2, _ = drain(source, positions)
    assert raised and source.renewed == 1
    assert sorted(ids(got2)) == sorted(e["EventId"] for e in later)


def test_throttling_backs_off_and_loses_nothing(kinesis, monkeypatch):
    client, name, endpoint = kinesis
    events = [event(n, ago(5)) for n in range(8)]
    put(client, name, events)
    source = KinesisSource(name, endpoint, backoff=0.01)
    real, calls = source.client.get_records, []

    def get_records(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                              "GetRecords")
        return real(**kwargs)

    monkeypatch.setattr(source.client, "get_records", get_records)
    got, _ = drain(source, None)
    assert source.throttled == 1
    assert sorted(ids(got)) == sorted(e["EventId"] for e in events)


# -- spool ----------------------------------------------------------------------------------------------------
def _spool(root, shard, stem, events, newline=True):
    path = root / shard / f"{stem}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        handle.write("\n".join(json.dumps(e) for e in events) + ("\n" if newline else ""))
    return path


def test_spool_positions_restart_partial_lines_and_24h(tmp_path):
    root = tmp_path / "spool"
    hour = now().strftime("%Y-%m-%d-%H")
    prev = (now() - timedelta(hours=1)).strftime("%Y-%m-%d-%H")
    too_old = (now() - timedelta(hours=30)).strftime("%Y-%m-%d-%H")
    _spool(root, "shardId-000000000000", too_old, [event(1, ago(30 * 3600))])
    a = [event(1, ago(3600)) for _ in range(3)]
    b = [event(2, ago(60)) for _ in range(4)]
    _spool(root, "shardId-000000000000", prev, a)
    _spool(root, "shardId-000000000000", hour, b[:2])
    _spool(root, "shardId-000000000001", hour, b[2:])
    source = SpoolSource(str(root))
    got, positions = source.read(None, 3)
    assert len(got) == 3
    assert positions["shardId-000000000000"] == f"{prev}:000000002"     # (file stem, 1-based line), sortable
    rest, positions = drain(SpoolSource(str(root)), positions)         # restart from the positions
    assert sorted(ids(got + rest)) == sorted(e["EventId"] for e in a + b)  # the 30-hour-old file is not read
    # a chunk still being appended (no newline yet) is not consumed until complete
    c = event(3, ago(0))
    path = _spool(root, "shardId-000000000001", hour, [c], newline=False)
    recs, positions = source.read(positions, 10)
    assert recs == []
    with open(path, "a") as handle:
        handle.write("\n")
    recs, positions = source.read(positions, 10)
    assert ids(recs) == [c["EventId"]] and recs[0][1] == f"{hour}:000000003"
