"""A small built warehouse (2 simulated hours, 6 agents, every asset materialized by `run_window`), shared by the
`bi` view and column-schema tests of one worker: ~5 s once instead of per test."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

START = datetime(2026, 1, 5, 8, tzinfo=timezone.utc)
END = START + timedelta(hours=2)


def warehouse_env(base: Path) -> dict[str, str]:
    return {"CC_PII_SALT": "bi-salt", "CC_DATA_DIR": str(base / "data"), "CC_LANDING_URI": str(base / "landing"),
            "CC_WAREHOUSE_PATH": str(base / "warehouse" / "cc.duckdb"), "CC_EXPORT_DIR": str(base / "exports"),
            "CC_TELEOPTI_OUTBOX": str(base / "outbox"), "CC_AGENT_EVENTS": str(base / "landing" / "agent-events"),
            "CC_RTA_DIR": str(base / "rta"), "CC_PARTITIONS_START": "2026-01-01", "CC_REPORT_TIMEZONE": "UTC"}


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory) -> Path:
    """The base folder of a warehouse built through the pipeline; its database is base/warehouse/cc.duckdb."""
    from cc_reporting.delivery.sftp import TeleoptiSftp
    from cc_reporting.pipeline import run_window
    from cc_reporting.resources.landing import LandingZone
    from cc_reporting.resources.warehouse import Warehouse
    from cc_reporting.simulate import simulate

    base = tmp_path_factory.mktemp("bi_warehouse")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in warehouse_env(base).items():
            patch.setenv(name, value)
        patch.delenv("DAGSTER_HOME", raising=False)
        patch.delenv("CC_CAR_EXPORT_SENSITIVE", raising=False)
        landing = LandingZone(uri=str(base / "landing"))
        simulate(START, 2, 6, 7, landing, str(base / "landing" / "agent-events"))
        resources = {"landing": landing, "warehouse": Warehouse(database=str(base / "warehouse" / "cc.duckdb")),
                     "teleopti_sftp": TeleoptiSftp()}
        result = run_window(START, END, resources=resources)
    assert result.success, result.failures
    return base


def database(base: Path) -> Path:
    return base / "warehouse" / "cc.duckdb"


def materialize_car_on_a_copy(base: Path, tmp_path: Path, monkeypatch):
    """`car` materialized on a copy of the built warehouse (settings from the environment, as the caller set it);
    returns (the run's result, the copy's database path)."""
    import shutil

    import dagster as dg

    from cc_reporting.models.analytics.assets import car
    from cc_reporting.resources.warehouse import Warehouse

    copy = tmp_path / "cc.duckdb"
    shutil.copy(database(base), copy)
    for name, value in warehouse_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    result = dg.materialize([car], resources={"warehouse": Warehouse(database=str(copy))},
                            run_config={"ops": {"car": {"config": {"as_of": END.isoformat()}}}})
    assert result.success
    return result, copy
