"""The RTA sensor: state, delta, state log, Parquet/wallboard, observations, push (real local HTTP server)."""
from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import dagster as dg
import pyarrow.parquet as pq
import pytest

from cc_reporting.realtime import rta_sensor as rta_mod
from cc_reporting.realtime.agent_events import SpoolSource
from cc_reporting.realtime.rta_publish import write_state_table
from cc_reporting.realtime.rta_sensor import RTA_ASSET, rta_agent_state_spec, rta_sensor, rta_sensors, run_tick
from cc_reporting.realtime.rta_state import RtaCursor
from cc_reporting_tests.test_rta_support import ago, event, make_stream, now, put

SHARD = "shardId-000000000000"


class ListSource:
    """An in-memory stream of one shard (records appended by the test), with integer sequence numbers."""

    def __init__(self):
        self.records = []

    def add(self, *events):
        for e in events:
            self.records.append(json.dumps(e).encode() if isinstance(e, dict) else e)

    def describe(self):
        return "memory"

    def read(self, positions, max_records):
        start = int((positions or {}).get(SHARD, 0))
        batch = self.records[start:start + max_records]
        out = [(SHARD, str(start + i + 1), raw) for i, raw in enumerate(batch)]
        return out, {SHARD: str(start + len(batch))}


def now_ms():
    return int(now().timestamp() * 1000)


def log_events(rta_dir):
    return [json.loads(line) for p in sorted((rta_dir / "state_log").rglob("*.jsonl")) for line in p.open()]


def table(rta_dir):
    return {r["username"]: r for r in pq.read_table(rta_dir / "agent_state.parquet").to_pylist()}


def test_exports():
    assert rta_sensors == [rta_sensor] and rta_sensor.name == "rta_sensor"
    assert rta_sensor.minimum_interval_seconds == 5
    assert rta_agent_state_spec.key == dg.AssetKey(RTA_ASSET)


def test_latest_state_wins_buckets_since_and_log(tmp_path):
    src, rta = ListSource(), tmp_path / "rta"
    t0 = ago(100)
    src.add(event(1, t0, "Available"), event(1, t0 + timedelta(seconds=10), "Available", contacts=("CONNECTING",)),
            event(1, t0 + timedelta(seconds=20), "Available", contacts=("CONNECTED",)),
            event(2, t0, "Break"), event(3, t0, "Available", contacts=("ENDED",)))
    out = run_tick(None, src, rta, now_ms())
    rows = table(rta)
    assert rows["agent.0001"]["state_bucket"] == "on_contact"
    assert rows["agent.0001"]["state_code"] == "Available:ON_CONTACT"
    assert rows["agent.0001"]["since"].timestamp() == pytest.approx((t0 + timedelta(seconds=20)).timestamp(), abs=1e-3)
    assert 78 <= rows["agent.0001"]["seconds_in_state"] <= 82
    assert rows["agent.0002"]["state_bucket"] == "non_productive" and rows["agent.0003"]["state_bucket"] == "acw"
    assert all(r["logged_on"] and not r["stale"] for r in rows.values())
    assert out.metadata["agents_on_contact"] == 1 and out.metadata["records_read"] == 5
    assert len(log_events(rta)) == 5                                     # every event logged, in new files
    assert set(log_events(rta)[0]) == set(rta_mod.write_state_log.__globals__["FIELDS"])
    html = (rta / "wallboard.html").read_text()
    assert 'http-equiv="refresh" content="5"' in html and "Last1" in html
    assert json.loads((rta / "agent_state.json").read_text())["agents"]


def test_delta_only_and_dedupe_and_malformed(tmp_path):
    src, rta = ListSource(), tmp_path / "rta"
    e1 = event(1, ago(50), "Available")
    src.add(e1, event(2, ago(50), "Available"), e1)                     # e1 twice: Kinesis retry duplicate
    out1 = run_tick(None, src, rta, now_ms())
    assert out1.stats.duplicates == 1 and {d["user_code"] for d in out1.delta} == {"agent.0001", "agent.0002"}
    src.add(b"{not json", json.dumps({"EventType": "STATE_CHANGE"}).encode(),
            event(2, ago(10), "Lunch"), event(1, ago(10), "Available", event_type="HEART_BEAT"), e1)
    out2 = run_tick(out1.cursor, src, rta, now_ms())
    assert out2.metadata["malformed"] == 2 and out2.stats.replayed == 1     # e1 redelivered in a later tick
    assert [(d["user_code"], d["state_code"]) for d in out2.delta] == [("agent.0002", "Lunch")]
    assert sorted(e["event_id"] for e in log_events(rta)) == sorted(
        json.loads(r)["EventId"] for r in src.records[:2] + src.records[5:7])
    out3 = run_tick(out2.cursor, src, rta, now_ms())
    assert out3.delta == [] and out3.stats.read == 0


def test_stale_and_logged_out_after_24h(tmp_path):
    src, rta = ListSource(), tmp_path / "rta"
    # Stale beyond CC_AGENT_STATE_MAX_GAP_SECONDS (900 s): 1,000 s without an event.
    src.add(event(1, ago(1000), "Available"), event(2, ago(1000), "Offline"),
            event(3, ago(600), "Available"), event(3, ago(590), "Offline", event_type="LOGOUT"))
    out = run_tick(None, src, rta, now_ms())
    rows = table(rta)
    assert rows["agent.0001"]["stale"] and not rows["agent.0002"]["stale"]
    assert rows["agent.0003"]["state_code"] == "LOGGED_OUT" and not rows["agent.0003"]["logged_on"]
    later = run_tick(out.cursor, src, rta, now_ms() + 25 * 3600 * 1000)
    rows = table(rta)
    assert not rows["agent.0001"]["logged_on"] and rows["agent.0001"]["state_code"] == "LOGGED_OUT"
    assert {d["user_code"] for d in later.delta} == {"agent.0001", "agent.0002"}


def test_parquet_readable_while_being_replaced(tmp_path):
    rows = [{"agent_id": str(i), "username": f"a{i}", "agent_name": "x", "status_name": "Available",
             "status_type": "ROUTABLE", "state_bucket": "idle", "state_code": "Available", "state_name": "Available",
             "contact_states": [], "seconds_in_state": i, "since_ms": 0, "last_event_ms": 0, "stale": False,
             "logged_on": True} for i in range(2000)]
    write_state_table(tmp_path, rows, 0)
    stop, errors, reads = threading.Event(), [], [0]

    def writer():
        while not stop.is_set():
            write_state_table(tmp_path, rows, 1)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(150):
            try:
                assert pq.read_table(tmp_path / "agent_state.parquet").num_rows == 2000
                reads[0] += 1
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
    finally:
        stop.set()
        thread.join()
    assert not errors and reads[0] == 150
    assert [p.name for p in tmp_path.iterdir()] == ["agent_state.parquet"]     # no temp files left behind


# -- push against a real local HTTP server ------------------------------------------------------------------
@pytest.fixture
def push_server():
    received, plan = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
            status = plan.pop(0) if plan else 200
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/rta", received, plan
    server.shutdown()
    server.server_close()


def test_push_snapshot_delta_header_and_retry(tmp_path, push_server):
    url, received, plan = push_server
    src, rta = ListSource(), tmp_path / "rta"
    src.add(event(1, ago(30), "Available"), event(2, ago(30), "Break"))
    plan.append(503)                                                    # a 5xx, then success
    out1 = run_tick(None, src, rta, now_ms(), push_url=url, push_key="s3cret", push_backoff=0.01)
    assert out1.pushed and len(received) == 2
    batch = received[-1]["body"]
    assert received[-1]["headers"]["x-api-key"] == "s3cret"
    assert batch["snapshot"] is True
    assert {s["user_code"]: s["state_code"] for s in batch["states"]} == {"agent.0001": "Available",
                                                                           "agent.0002": "Break"}
    assert set(batch["states"][0]) == {"user_code", "state_code", "state_name", "logged_on", "seconds_in_state",
                                       "timestamp", "snapshot"}
    src.add(event(1, ago(1), "Lunch"))
    out2 = run_tick(out1.cursor, src, rta, now_ms(), push_url=url, push_key="s3cret", push_backoff=0.01)
    batch = received[-1]["body"]
    assert batch["snapshot"] is False and [s["user_code"] for s in batch["states"]] == ["agent.0001"]
    # a 4xx is not retried; the next tick sends a full snapshot
    src.add(event(2, ago(1), "Available"))
    plan.append(401)
    n = len(received)
    out3 = run_tick(out2.cursor, src, rta, now_ms(), push_url=url, push_key="s3cret", push_backoff=0.01)
    assert out3.pushed is False and len(received) == n + 1 and RtaCursor.parse(out3.cursor).push_pending
    out4 = run_tick(out3.cursor, src, rta, now_ms(), push_url=url, push_key="s3cret", push_backoff=0.01)
    assert out4.pushed and received[-1]["body"]["snapshot"] is True and len(received[-1]["body"]["states"]) == 2


# -- the Dagster sensor, over a real moto Kinesis stream, across a restart ------------------------------------
def test_sensor_exactly_once_across_restart_kinesis(tmp_path, moto_endpoint, monkeypatch):
    client = boto3.client("kinesis", endpoint_url=moto_endpoint, region_name="eu-west-1")
    name = f"rta-{uuid.uuid4().hex[:8]}"
    make_stream(client, name)
    monkeypatch.setenv("CC_AGENT_EVENTS", f"kinesis://{name}")
    monkeypatch.setenv("CC_AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("CC_RTA_DIR", str(tmp_path / "rta"))
    monkeypatch.setenv("CC_RTA_MAX_RECORDS", "7")                     # bounded tick: 7 records
    first = [event(n, ago(60), "Available") for n in range(10)]
    put(client, name, first)
    result = rta_sensor(dg.build_sensor_context(cursor=None))
    assert isinstance(result, dg.SensorResult)
    obs = result.asset_events[0]
    assert isinstance(obs, dg.AssetObservation) and obs.asset_key == dg.AssetKey(RTA_ASSET)
    assert obs.metadata["records_read"].value == 7
    rta_mod._SOURCES.clear()                                            # restart: a new process, the cursor kept
    second = [event(n, ago(1), "Break") for n in range(10)]
    put(client, name, second)
    cursor = result.cursor
    for _ in range(5):
        result = rta_sensor(dg.build_sensor_context(cursor=cursor))
        cursor = result.cursor
    logged = [e["event_id"] for e in log_events(tmp_path / "rta")]
    assert sorted(logged) == sorted(e["EventId"] for e in first + second)   # none lost, none repeated
    assert {r["state_code"] for r in table(tmp_path / "rta").values()} == {"Break"}
    assert result.skip_reason is not None                                  # caught up: nothing new


def test_sensor_over_the_simulated_spool(tmp_path, monkeypatch):
    from cc_reporting.resources.landing import LandingZone
    from cc_reporting.simulate import simulate

    spool = tmp_path / "spool"
    start = (now() - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    summary = simulate(start, 1, 30, 7, LandingZone(uri=str(tmp_path / "landing")), str(spool))
    monkeypatch.setenv("CC_AGENT_EVENTS", str(spool))
    monkeypatch.setenv("CC_RTA_DIR", str(tmp_path / "rta"))
    rta_mod._SOURCES.clear()
    result = rta_sensor(dg.build_sensor_context(cursor=None))
    meta = result.asset_events[0].metadata
    assert meta["records_read"].value == summary.agent_events and meta["malformed"].value == 0
    lines = sum(1 for p in spool.rglob("*.jsonl") for _ in p.open())
    assert len({e["event_id"] for e in log_events(tmp_path / "rta")}) + meta["duplicates"].value == lines
    assert isinstance(rta_mod._SOURCES[(str(spool), None)], SpoolSource)
