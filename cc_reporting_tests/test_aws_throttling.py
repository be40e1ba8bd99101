"""S3 and Kinesis throttling over real HTTP: a proxy in front of moto answers 30 % of requests with the services'
real throttling errors; the project's retry policy (resources/aws.py) carries the real staging and reads through."""
from __future__ import annotations

import uuid

import boto3
import dagster as dg
import pytest

from cc_reporting.realtime.agent_events import KinesisSource
from cc_reporting.resources.landing import LandingZone
from cc_reporting.staging.assets import stg_ctr
from cc_reporting_tests.test_rta_support import ago, event, ids, make_stream, put

from .conftest import concat, fixture_json, query
from .throttling_proxy import ThrottlingProxy

OBJECTS, PER_OBJECT = 50, 4


@pytest.fixture
def firehose_bucket(moto_endpoint):
    """~50 Firehose objects of 4 CTRs each, written straight to moto (only the run under test is throttled)."""
    bucket = f"cc-throttle-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    direct = LandingZone(uri=f"s3://{bucket}/connect", endpoint_url=moto_endpoint)
    base = fixture_json("abandoned_ctr.json")
    contact_ids = []
    for i in range(OBJECTS):
        records = [dict(base, ContactId=f"c-{i:03d}-{j}") for j in range(PER_OBJECT)]
        contact_ids += [r["ContactId"] for r in records]
        direct.write(f"ctr/2026/01/05/09/cc-firehose-1-2026-01-05-09-{i:03d}", concat(*records))
    return bucket, sorted(contact_ids)


def _stage_through(proxy: ThrottlingProxy, bucket: str, warehouse):
    landing = LandingZone(uri=f"s3://{bucket}/connect", endpoint_url=proxy.url)
    return dg.materialize([stg_ctr], resources={"landing": landing, "warehouse": warehouse}, raise_on_error=False)


def test_staging_stages_every_record_while_s3_slows_down_30_percent_of_requests(
        firehose_bucket, moto_endpoint, warehouse):
    bucket, contact_ids = firehose_bucket
    with ThrottlingProxy(moto_endpoint, rate=0.3) as proxy:
        result = _stage_through(proxy, bucket, warehouse)
    assert result.success
    assert [r[0] for r in query(warehouse, "SELECT contact_id FROM stg_ctr ORDER BY contact_id")] == contact_ids
    assert query(warehouse, "SELECT count(*) FROM ingest_ledger WHERE status <> 'ingested'") == [(0,)]
    assert proxy.throttled >= 0.3 * OBJECTS and proxy.throttled == int(0.3 * proxy.requests)


def test_without_retries_the_same_throttled_staging_fails(firehose_bucket, moto_endpoint, warehouse, monkeypatch):
    """The control: one attempt per call (CC_AWS_MAX_ATTEMPTS=1) and the same 30 % SlowDown fail the run, so it is
    the retry policy that carries the run above (botocore's own default, 3 attempts, failed it too)."""
    monkeypatch.setenv("CC_AWS_MAX_ATTEMPTS", "1")
    bucket, _ = firehose_bucket
    with ThrottlingProxy(moto_endpoint, rate=0.3) as proxy:
        result = _stage_through(proxy, bucket, warehouse)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "SlowDown" in str(failure.step_failure_data.error)
    assert "reached max retries: 0" in str(failure.step_failure_data.error)   # the setting, not botocore's default
    assert proxy.throttled > 0


@pytest.fixture
def agent_stream(moto_endpoint):
    client = boto3.client("kinesis", endpoint_url=moto_endpoint, region_name="eu-west-1")
    name = f"agents-{uuid.uuid4().hex[:8]}"
    make_stream(client, name)
    events = [event(n, ago(60 - n)) for n in range(40)]
    put(client, name, events)
    return name, sorted(e["EventId"] for e in events)


def _drain(source: KinesisSource) -> list:
    got, positions = [], None
    for _ in range(30):
        records, positions = source.read(positions, 7)       # small reads: many GetRecords calls to throttle
        got += records
        if not records:
            break
    return got


def test_agent_event_read_loses_nothing_while_kinesis_throttles_30_percent_of_requests(agent_stream, moto_endpoint):
    name, event_ids = agent_stream
    with ThrottlingProxy(moto_endpoint, rate=0.3) as proxy:
        source = KinesisSource(name, proxy.url, backoff=0.01)
        got = _drain(source)
    assert sorted(ids(got)) == event_ids                     # every event once: none lost, none repeated
    assert proxy.throttled > 10
    assert source.throttled == 0                             # botocore's retries absorbed every throttle


def test_agent_event_read_backs_off_itself_when_retries_are_exhausted(agent_stream, moto_endpoint, monkeypatch):
    """With one attempt per call, each throttled GetRecords reaches the source: it backs off, keeps what it read,
    counts it in `throttled` and resumes the shard on the next read, losing nothing."""
    monkeypatch.setenv("CC_AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("CC_AWS_RETRY_MODE", "standard")   # no client-side rate limiter: only the source backs off
    name, event_ids = agent_stream
    with ThrottlingProxy(moto_endpoint, rate=0.3, only=lambda method, target: target.endswith(".GetRecords")) as proxy:
        source = KinesisSource(name, proxy.url, backoff=0.01)
        got, positions = [], None
        for _ in range(40):
            records, positions = source.read(positions, 7)
            got += records
            if sorted(ids(got)) == event_ids:
                break
    assert sorted(ids(got)) == event_ids
    assert source.throttled == proxy.throttled > 0
