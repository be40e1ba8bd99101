"""SSE-KMS: with `kms_key_id` set, every object the project writes to S3 is encrypted with that key.

Against the real moto server over HTTP (S3 + KMS): direct writes, the simulator's whole landing output, and the
quarantine copies (object + reason) written by the staging assets. `head_object` must show `aws:kms` and the key.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import boto3
import pytest

from cc_reporting.resources.landing import LandingZone, s3_client
from cc_reporting.resources.warehouse import Warehouse
from cc_reporting.simulate import simulate
from cc_reporting.staging.assets import stg_ctr

from .conftest import concat, materialize


@pytest.fixture
def kms_bucket(moto_endpoint):
    kms = boto3.client("kms", endpoint_url=moto_endpoint, region_name="eu-west-1")
    key = kms.create_key(Description="cc_reporting landing")["KeyMetadata"]
    bucket = f"kms-{uuid.uuid4().hex[:12]}"
    s3 = s3_client(moto_endpoint)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return s3, bucket, key


def _assert_all_encrypted(s3, bucket: str, prefix: str, key: dict) -> int:
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])]
    assert keys
    for name in keys:
        head = s3.head_object(Bucket=bucket, Key=name)
        assert head.get("ServerSideEncryption") == "aws:kms", (name, head.get("ServerSideEncryption"))
        assert head.get("SSEKMSKeyId") in (key["KeyId"], key["Arn"]), (name, head.get("SSEKMSKeyId"))
    return len(keys)


@pytest.mark.parametrize("key_ref", ["KeyId", "Arn"])
def test_landing_writes_use_sse_kms_with_the_configured_key(moto_endpoint, kms_bucket, key_ref):
    s3, bucket, key = kms_bucket
    landing = LandingZone(uri=f"s3://{bucket}/connect", endpoint_url=moto_endpoint, kms_key_id=key[key_ref])
    landing.write("ctr/2026/01/05/09/obj-1", b'{"ContactId":"c1"}')
    landing.write("reports/TeleoptiAgentPerformance-1.csv", b"Agent\n")
    landing.quarantine("ctr/2026/01/05/09/obj-1", b"garbage", "a reason")
    assert _assert_all_encrypted(s3, bucket, "connect/", key) == 4
    assert landing.read("ctr/2026/01/05/09/obj-1") == b'{"ContactId":"c1"}'  # readable back (kms:Decrypt)


def test_without_a_key_nothing_claims_kms(moto_endpoint, kms_bucket):
    s3, bucket, _ = kms_bucket
    LandingZone(uri=f"s3://{bucket}/plain", endpoint_url=moto_endpoint).write("x", b"1")
    assert s3.head_object(Bucket=bucket, Key="plain/x").get("ServerSideEncryption") != "aws:kms"


def test_every_simulator_and_quarantine_object_is_kms_encrypted(moto_endpoint, kms_bucket, tmp_path):
    s3, bucket, key = kms_bucket
    landing = LandingZone(uri=f"s3://{bucket}/cc", endpoint_url=moto_endpoint, kms_key_id=key["Arn"])
    summary = simulate(datetime(2026, 1, 5, 9, tzinfo=timezone.utc), 1, 2, 3, landing,
                       str(tmp_path / "agent-events"))
    assert summary.ctr_objects > 0
    # A bad object landed by someone else (no SSE) is quarantined by the project: the copies are encrypted.
    s3.put_object(Bucket=bucket, Key="foreign/ctr/2026/01/05/09/bad", Body=b'{"ContactId": tru')
    s3.put_object(Bucket=bucket, Key="foreign/ctr/2026/01/05/09/good",
                  Body=concat({"ContactId": "c-1", "LastUpdateTimestamp": "2026-01-05T09:00:00Z"}))
    foreign = LandingZone(uri=f"s3://{bucket}/foreign", endpoint_url=moto_endpoint, kms_key_id=key["Arn"])
    materialize([stg_ctr], foreign, Warehouse(database=str(tmp_path / "wh.duckdb")))
    assert _assert_all_encrypted(s3, bucket, "foreign/quarantine/", key) == 2
    written = _assert_all_encrypted(s3, bucket, "cc/", key)
    assert written >= summary.ctr_objects
    print(f"\nSSE-KMS verified on {written} simulator objects and 2 quarantine objects")
