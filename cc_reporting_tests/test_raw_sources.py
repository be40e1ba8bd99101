"""The lineage starts at the raw sources, and the sensors that read them record what they saw on every tick."""
import json
import os
from datetime import datetime, timedelta, timezone

import boto3
import dagster as dg
import pytest

import cc_reporting.staging.sensors as landing_sensors
from cc_reporting.definitions import defs
from cc_reporting.realtime import rta_sensor as rta_module
from cc_reporting.resources.landing import LandingZone
from cc_reporting.simulate import simulate

from .dagster_home import instance_for, make_dagster_home

UPSTREAM = {"stg_ctr": "raw_ctr", "stg_agent_report": "raw_agent_report",
            "stg_channel_session": "raw_channel_sessions", "stg_crm_customer": "raw_crm_extract",
            "rta_agent_state": "raw_agent_events"}
NOW = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)


def observations(instance, key: str) -> list[dict]:
    records = instance.fetch_observations(dg.AssetKey(key), limit=10).records
    return [{name: entry.value for name, entry in r.asset_observation.metadata.items()} for r in records]


def tick(sensor, instance, landing, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing": landing})
    return sensor.evaluate_tick(context)


def test_the_raw_sources_are_external_assets_upstream_of_staging_and_the_agent_state():
    graph = defs.resolve_asset_graph()
    for child, raw in UPSTREAM.items():
        assert dg.AssetKey(raw) in graph.get(dg.AssetKey(child)).parent_keys, child
        node = graph.get(dg.AssetKey(raw))
        assert not node.is_materializable and node.group_name == "raw" and not node.parent_keys, raw
    # ... and so at the root of everything downstream: the Teleopti files descend from the landing zone.
    upstream, todo = set(), [dg.AssetKey("teleopti_queue_stats")]
    while todo:
        parents = graph.get(todo.pop()).parent_keys - upstream
        upstream |= parents
        todo += parents
    assert {dg.AssetKey("raw_ctr"), dg.AssetKey("raw_agent_events")} <= upstream


def _land(landing: LandingZone, key: str, modified: datetime, body: bytes = b"{}") -> None:
    landing.write(key, body)
    os.utime(os.path.join(landing.uri, key), (modified.timestamp(), modified.timestamp()))


@pytest.mark.parametrize("sensor, raw, keys, ignored", [
    (landing_sensors.ctr_landing_sensor, "raw_ctr",
     ["ctr/2026/01/05/09/s-1-a", "ctr/2026/01/05/09/s-1-b", "ctr/2026/01/05/09/s-1-c"], None),
    (landing_sensors.agent_report_sensor, "raw_agent_report",
     ["reports/TeleoptiAgentPerformance-1.csv", "reports/TeleoptiAgentPerformance-2.csv"], "reports/notes.txt"),
    (landing_sensors.channel_session_sensor, "raw_channel_sessions",
     ["channels/webchat/2026-01-05.jsonl"], "channels/README"),
    (landing_sensors.crm_sensor, "raw_crm_extract", ["crm/customers-2026-01-04.csv"], "crm/customers-latest.csv"),
])
def test_a_landing_sensor_tick_records_an_observation_of_its_raw_source(tmp_path, landing, monkeypatch, sensor,
                                                                        raw, keys, ignored):
    for minutes, key in enumerate(keys):
        _land(landing, key, NOW - timedelta(minutes=10 - minutes))
    if ignored:  # not an object of this source: neither counted nor the newest
        _land(landing, ignored, NOW - timedelta(seconds=1))
    monkeypatch.setattr(landing_sensors, "_now", lambda: NOW)
    instance = instance_for(make_dagster_home(tmp_path))

    data = tick(sensor, instance, landing)

    assert len(data.run_requests) == 1
    [seen] = observations(instance, raw)
    newest = NOW - timedelta(minutes=10 - (len(keys) - 1))
    assert seen["object_count"] == len(keys) and seen["newest_object"] == keys[-1]
    assert seen["newest_last_modified"] == newest.timestamp()
    assert seen["lag_seconds"] == (NOW - newest).total_seconds()


def test_every_tick_observes_even_when_nothing_is_new_and_an_empty_source_says_so(tmp_path, landing, monkeypatch):
    monkeypatch.setattr(landing_sensors, "_now", lambda: NOW)
    instance = instance_for(make_dagster_home(tmp_path))
    empty = tick(landing_sensors.ctr_landing_sensor, instance, landing)
    assert empty.skip_message and observations(instance, "raw_ctr")[0] == {
        "prefix": "ctr/", "object_count": 0, "total_bytes": 0}
    _land(landing, "ctr/2026/01/05/09/s-1-a", NOW - timedelta(seconds=30), b"x" * 7)
    first = tick(landing_sensors.ctr_landing_sensor, instance, landing, empty.cursor)
    again = tick(landing_sensors.ctr_landing_sensor, instance, landing, first.cursor)
    assert first.run_requests and not again.run_requests
    latest = observations(instance, "raw_ctr")
    assert len(latest) == 3 and latest[0]["object_count"] == 1 and latest[0]["total_bytes"] == 7


def test_a_tick_over_s3_observes_what_the_bucket_lists(tmp_path, moto_endpoint):
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="eu-west-1").create_bucket(
        Bucket="raw-observed", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3 = LandingZone(uri="s3://raw-observed/connect", endpoint_url=moto_endpoint)
    for name in ("a", "b", "c", "d"):
        s3.write(f"ctr/2026/01/05/09/s-1-{name}", b"{}")
    listed = list(s3.list("ctr/"))
    instance = instance_for(make_dagster_home(tmp_path))

    tick(landing_sensors.ctr_landing_sensor, instance, s3)

    [seen] = observations(instance, "raw_ctr")
    newest = max(listed, key=lambda o: (o.last_modified, o.key))
    assert seen["object_count"] == 4 and seen["newest_object"] == newest.key
    assert seen["newest_last_modified"] == newest.last_modified.timestamp() and seen["lag_seconds"] >= 0


def test_the_rta_sensor_observes_the_agent_event_stream(tmp_path, monkeypatch):
    spool = tmp_path / "spool"
    start = (datetime.now(timezone.utc) - timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)
    summary = simulate(start, 1, 30, 7, LandingZone(uri=str(tmp_path / "landing")), str(spool))
    monkeypatch.setenv("CC_AGENT_EVENTS", str(spool))
    monkeypatch.setenv("CC_RTA_DIR", str(tmp_path / "rta"))
    monkeypatch.setattr(rta_module, "_SOURCES", {})
    instance = instance_for(make_dagster_home(tmp_path))

    before = datetime.now(timezone.utc)
    data = rta_module.rta_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    after = datetime.now(timezone.utc)

    [stream] = [e for e in data.asset_events if e.asset_key == dg.AssetKey("raw_agent_events")]
    meta = {name: entry.value for name, entry in stream.metadata.items()}
    logged = [json.loads(line) for p in (tmp_path / "rta" / "state_log").rglob("*.jsonl") for line in p.open()]
    newest = max(datetime.fromisoformat(e["event_ts"].replace("Z", "+00:00")) for e in logged)
    assert meta["records_read"] == summary.agent_events and str(spool) in meta["source"]
    assert meta["newest_event_ts"] == newest.timestamp()
    assert (before - newest).total_seconds() - 0.1 <= meta["lag_seconds"] <= (after - newest).total_seconds() + 0.1
