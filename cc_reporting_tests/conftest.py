"""Shared fixtures: a temporary landing zone and warehouse, the shared Connect fixtures, a moto server."""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import dagster as dg
import pytest

from cc_reporting.resources.landing import LandingZone
from cc_reporting.resources.warehouse import Warehouse

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "connect"
if not FIXTURES.exists():  # CI clones main with shared/ beside it
    FIXTURES = Path(os.environ.get("CC_SHARED_DIR", "../shared")) / "fixtures" / "connect"

TEST_SALT = "test-salt-0123"


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("CC_PII_SALT", TEST_SALT)
    monkeypatch.setenv("CC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CC_WAREHOUSE_PATH", str(tmp_path / "warehouse" / "cc.duckdb"))
    monkeypatch.setenv("CC_LANDING_URI", str(tmp_path / "landing"))
    monkeypatch.setenv("CC_EXPORT_DIR", str(tmp_path / "exports"))
    monkeypatch.setenv("CC_TELEOPTI_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.setenv("CC_AGENT_EVENTS", str(tmp_path / "landing" / "agent-events"))
    monkeypatch.setenv("CC_RTA_DIR", str(tmp_path / "rta"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


@pytest.fixture
def con():
    """An in-memory DuckDB connection in UTC, for the SQL model tests."""
    import duckdb

    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    yield c
    c.close()


@pytest.fixture
def landing(tmp_path) -> LandingZone:
    return LandingZone(uri=str(tmp_path / "landing"))


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    return Warehouse(database=str(tmp_path / "warehouse" / "cc.duckdb"))


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> dict:
    return json.loads(fixture_bytes(name))


def concat(*records: dict) -> bytes:
    """A Firehose body: JSON objects with no delimiter."""
    return "".join(json.dumps(r, separators=(",", ":")) for r in records).encode()


def materialize(assets, landing, warehouse, keys=None, **kwargs):
    run_config = {}
    if keys is not None:
        run_config = {"ops": {a.key.path[-1]: {"config": {"object_keys": keys}} for a in assets}}
    result = dg.materialize(assets, resources={"landing": landing, "warehouse": warehouse},
                            run_config=run_config, **kwargs)
    assert result.success
    return result


def query(warehouse, sql, params=None):
    with warehouse.connect() as con:
        return con.execute(sql, params or []).fetchall()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    """A real moto server over HTTP on 127.0.0.1 (S3, Kinesis, KMS)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-1")
    yield f"http://127.0.0.1:{port}"
    server.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


# Property tests explore the same examples on every run: a CI result never depends on the draw.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("cc_reporting", derandomize=True)
_hypothesis_settings.load_profile("cc_reporting")
