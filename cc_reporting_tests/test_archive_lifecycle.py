"""The archive prefix's S3 lifecycle and the bucket's versioning, against a real moto server over HTTP."""
import uuid

import boto3
import pytest

from cc_reporting.archive.lifecycle import RULE_ID, apply_bucket_lifecycle, archive_rule, check_versioning


@pytest.fixture
def bucket(moto_endpoint):
    name = f"cc-archive-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=moto_endpoint)
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return name, client


@pytest.fixture
def puts(moto_endpoint):
    """Every PutBucketLifecycleConfiguration call the project's (cached) S3 client makes."""
    from cc_reporting.resources.landing import s3_client

    calls, event = [], "before-call.s3.PutBucketLifecycleConfiguration"

    def count(**kwargs):
        calls.append(kwargs.get("params"))

    s3_client(moto_endpoint).meta.events.register(event, count)
    yield calls
    s3_client(moto_endpoint).meta.events.unregister(event, count)


def test_lifecycle_is_put_once_then_left_alone(bucket, moto_endpoint, puts):
    name, client = bucket
    assert apply_bucket_lifecycle(name, "connect/archive/", moto_endpoint, 0, 90, 180) is True
    rules = client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    (rule,) = [r for r in rules if r["ID"] == RULE_ID]
    assert rule["Filter"]["Prefix"] == "connect/archive/" and rule["Status"] == "Enabled"
    assert [(t["Days"], t["StorageClass"]) for t in rule["Transitions"]] == [
        (0, "INTELLIGENT_TIERING"), (90, "GLACIER"), (180, "DEEP_ARCHIVE")]
    assert "Expiration" not in rule
    # Idempotent: the second call reads the configuration and makes no put.
    assert apply_bucket_lifecycle(name, "connect/archive/", moto_endpoint, 0, 90, 180) is False
    assert len(puts) == 1
    # A change (expiration added) is put, and is itself stable.
    assert apply_bucket_lifecycle(name, "connect/archive/", moto_endpoint, 0, 90, 180, expire_days=2555) is True
    rule = [r for r in client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"] if r["ID"] == RULE_ID][0]
    assert rule["Expiration"]["Days"] == 2555
    assert apply_bucket_lifecycle(name, "connect/archive/", moto_endpoint, 0, 90, 180, expire_days=2555) is False
    assert len(puts) == 2


def test_lifecycle_keeps_the_buckets_other_rules(bucket, moto_endpoint):
    name, client = bucket
    other = {"ID": "someone-elses", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 10}}
    client.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [other]})
    assert apply_bucket_lifecycle(name, "archive/", moto_endpoint, 0, 90, 180) is True
    ids = sorted(r["ID"] for r in client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"])
    assert ids == sorted([RULE_ID, "someone-elses"])
    assert apply_bucket_lifecycle(name, "archive/", moto_endpoint, 0, 90, 180) is False


def test_lifecycle_days_must_increase():
    with pytest.raises(ValueError):
        archive_rule("archive/", 0, 200, 180)
    with pytest.raises(ValueError):
        archive_rule("archive/", 0, 90, 180, expire_days=100)


def test_versioning_is_reported_and_enabled_on_request(bucket, moto_endpoint):
    name, client = bucket
    assert check_versioning(name, moto_endpoint) == "Disabled"
    assert check_versioning(name, moto_endpoint, enable=True) == "Enabled"
    assert client.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    assert check_versioning(name, moto_endpoint, enable=True) == "Enabled"


def test_s3_landing_compacts_restores_and_applies_the_lifecycle(bucket, moto_endpoint, warehouse, monkeypatch, puts):
    """The same archive on an S3 landing zone: compaction through the asset (which also puts the lifecycle rule of
    `<prefix>/archive/`), then a byte-identical restore."""
    from datetime import datetime, timezone

    import dagster as dg

    from cc_reporting.archive.assets import landing_archive
    from cc_reporting.archive.compaction import SOURCES, restore_day
    from cc_reporting.ingest.ledger import ensure_ledger, record
    from cc_reporting.resources.landing import LandingZone

    name, client = bucket
    landing = LandingZone(uri=f"s3://{name}/connect", endpoint_url=moto_endpoint)
    objects = {
        "ctr/2026/01/05/09/stream-1": b'{"ContactId":"a","LastUpdateTimestamp":"2026-01-05T09:00:00Z"}'
                                      b'{"ContactId":"b","LastUpdateTimestamp":"2026-01-05T09:01:00Z"}',
        "ctr/2026/01/06/00/stream-2": b'{"ContactId":"c","LastUpdateTimestamp":"2026-01-06T00:00:00Z"}',
    }
    for key, body in objects.items():
        landing.write(key, body)
    monkeypatch.setenv("CC_HOT_RETENTION_DAYS", "30")
    with warehouse.connect() as con:  # both objects were ingested
        ensure_ledger(con)
        record(con, "ctr", [{"key": o.key, "etag": o.etag, "size": o.size, "records": 1, "status": "ingested"}
                            for o in landing.list("ctr/")], "run", datetime.now(timezone.utc))
    for _ in range(2):
        result = dg.materialize([landing_archive], resources={"landing": landing, "warehouse": warehouse})
        assert result.success
    assert len(puts) == 1
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["lifecycle"].value == "unchanged"  # the first run put it, the second found it in place
    assert meta["bucket_versioning"].value == "Disabled"
    rule = client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"][0]
    assert rule["Filter"]["Prefix"] == "connect/archive/"
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=name)["Contents"])
    assert keys == [f"connect/archive/ctr/date=2026-01-0{day}/{name}"
                    for day in (5, 6) for name in ("manifest.json", "part-0.parquet")]
    restore_day(landing, "2026-01-05", now=datetime.now(timezone.utc))
    assert {o.key: landing.read(o.key) for s in SOURCES for o in landing.list(s + "/")} == \
        {"ctr/2026/01/05/09/stream-1": objects["ctr/2026/01/05/09/stream-1"]}
