"""The S3 path end to end over real HTTP against a moto server on 127.0.0.1: landing, sensor, staging."""
import json
from concurrent.futures import ThreadPoolExecutor

import boto3
import dagster as dg
import pytest

from cc_reporting.resources.landing import LandingZone
from cc_reporting.staging.assets import stg_ctr
from cc_reporting.staging.sensors import ctr_landing_sensor

from .conftest import concat, fixture_bytes, fixture_json, query


@pytest.fixture
def s3_landing(moto_endpoint, request):
    bucket = "cc-landing-" + request.node.name.replace("_", "-")[:40].lower()
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return LandingZone(uri=f"s3://{bucket}/connect", endpoint_url=moto_endpoint)


def tick(landing, cursor):
    context = dg.build_sensor_context(cursor=cursor, resources={"landing": landing})
    result = ctr_landing_sensor(context)
    return result, context.cursor


def test_sensor_pages_past_1000_objects_and_staging_reads_them_over_http(s3_landing, warehouse):
    base = fixture_json("abandoned_ctr.json")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: s3_landing.write(f"ctr/2026/01/05/09/s-1-2026-01-05-09-{i:05d}",
                                                 concat(dict(base, ContactId=f"c-{i:05d}"))), range(1_030)))
    s3_landing.write("ctr/2026/01/05/10/s-1-2026-01-05-10-bad", b"{not json")
    s3_landing.write("ctr/2026/01/05/10/s-1-2026-01-05-10-sample", fixture_bytes("firehose_object_sample"))
    assert len(list(s3_landing.list("ctr/"))) == 1_032  # more than one ListObjectsV2 page

    cursor, requests = None, []
    for _ in range(5):
        result, cursor = tick(s3_landing, cursor)
        if isinstance(result, dg.SkipReason):
            break
        requests.append(result)
    assert [len(r.run_config["ops"]["stg_ctr"]["config"]["object_keys"]) for r in requests] == [500, 500, 32]
    assert len({r.run_key for r in requests}) == 3

    for request in requests:
        outcome = dg.materialize([stg_ctr], resources={"landing": s3_landing, "warehouse": warehouse},
                                 run_config=request.run_config)
        assert outcome.success
    assert query(warehouse, "SELECT count(*) FROM stg_ctr") == [(1_032,)]
    assert s3_landing.read("quarantine/ctr/2026/01/05/10/s-1-2026-01-05-10-bad") == b"{not json"
    assert query(warehouse, "SELECT count(*) FROM ingest_ledger WHERE status = 'quarantined'") == [(1,)]


def test_sensor_restarts_from_its_cursor_and_requests_an_updated_object_again(s3_landing):
    key = "ctr/2026/01/05/09/s-1-x"
    s3_landing.write(key, concat(fixture_json("abandoned_ctr.json")))
    first, cursor = tick(s3_landing, None)
    again, cursor = tick(s3_landing, cursor)  # a restarted sensor continues from the stored cursor
    assert isinstance(first, dg.RunRequest) and isinstance(again, dg.SkipReason)
    updated = dict(fixture_json("abandoned_ctr.json"), LastUpdateTimestamp="2026-01-05T12:00:00Z")
    s3_landing.write(key, concat(updated))
    third, _ = tick(s3_landing, cursor)
    assert isinstance(third, dg.RunRequest) and third.run_key != first.run_key
    assert json.loads(json.dumps(third.run_config))["ops"]["stg_ctr"]["config"]["object_keys"] == [key]
