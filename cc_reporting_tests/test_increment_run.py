"""An increment is one run: the landing objects, JAR/CAR and the interval's Teleopti files and KPIs are materialized
by one Dagster run, which opens the warehouse once."""
import os
import shutil
import subprocess
import sys
from datetime import timedelta

import dagster as dg
import duckdb
import pytest

import cc_reporting.pipeline as pipeline
from cc_reporting.pipeline import run_window
from cc_reporting.resources.warehouse import Warehouse

from .test_partition_range import DAY, resources_for, simulated_hours

START = DAY + timedelta(minutes=30)
END = START + timedelta(minutes=15)
INTERVAL_ASSETS = {"agent_state_intervals", "teleopti_queue_stats", "teleopti_agent_queue_stats", "teleopti_contacts",
                   "kpi_interval"}


def _materialized_by_run(instance) -> dict[str, set[str]]:
    records = instance.get_event_records(dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_MATERIALIZATION),
                                         limit=1000)
    runs: dict[str, set[str]] = {}
    for record in records:
        runs.setdefault(record.run_id, set()).add(record.asset_key.to_user_string())
    return runs


def test_an_interval_window_stages_refreshes_and_reports_in_one_run(tmp_path, monkeypatch):
    simulated_hours(tmp_path, 1)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    result = run_window(START, END, resources=resources_for(tmp_path))
    assert result.success, result.failures
    with dg.DagsterInstance.get() as instance:
        runs = _materialized_by_run(instance)
        combined = [assets for assets in runs.values() if "stg_ctr" in assets]
        assert len(combined) == 1
        assert combined[0] == {"stg_ctr", "stg_agent_report", "stg_channel_session", "stg_crm_customer", "jar", "car",
                               *INTERVAL_ASSETS}
        # The other partitions definitions each take a run of their own (one partitions definition per run).
        assert sorted(sorted(a) for a in runs.values() if "stg_ctr" not in a) == [["kpi_daily"],
                                                                                  ["teleopti_agent_performance"]]
        interval_run = [r for r, a in runs.items() if "stg_ctr" in a][0]
        assert instance.get_run_by_id(interval_run).tags["dagster/asset_partition_range_start"] == "2026-01-05-00:30"
        # A backfill of a past interval is not a deadline: the command's runs evaluate no delivered_on_time check.
        evaluated = {record.event_log_entry.dagster_event.event_specific_data.check_name
                     for run_id in runs for record in instance.get_records_for_run(
                         run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records}
        assert "reconciles_with_teleopti_queue_stats" in evaluated and "delivered_on_time" not in evaluated
    files = sorted(p.name for p in (tmp_path / "outbox" / "queue_stats").glob("*.csv"))
    assert files == ["queue_stats_20260105_0030.csv"]


def test_the_warehouse_is_opened_once_per_run_of_the_command(tmp_path, monkeypatch):
    """Without DAGSTER_HOME the command's process is the only writer: each run opens the file once."""
    simulated_hours(tmp_path, 1)
    per_run: list[list[int]] = []   # [files opened, assets] of each run, in order
    in_run = []                      # non-empty while a run executes: opens between runs are not counted
    real_connect, real_materialize = duckdb.connect, pipeline.run_assets

    def counting_connect(*args, **kwargs):
        if in_run and str(kwargs.get("database", args[0] if args else "")).endswith("cc.duckdb"):
            per_run[-1][0] += 1
        return real_connect(*args, **kwargs)

    def recording_materialize(assets, *args, **kwargs):
        per_run.append([0, len(assets)])
        in_run.append(True)
        try:
            return real_materialize(assets, *args, **kwargs)
        finally:
            in_run.pop()

    monkeypatch.setattr(duckdb, "connect", counting_connect)
    monkeypatch.setattr(pipeline, "run_assets", recording_materialize)
    result = run_window(START, END, resources=resources_for(tmp_path))
    assert result.success, result.failures
    assert per_run == [[1, 11], [1, 1], [1, 1]]


@dg.asset
def _writes(warehouse: Warehouse):
    with warehouse.connect() as con:
        con.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
        con.execute("INSERT INTO t VALUES (1)")


@dg.asset
def _fails_inside_a_transaction(warehouse: Warehouse):
    with warehouse.connect() as con:
        con.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
        con.execute("BEGIN TRANSACTION")
        con.execute("INSERT INTO t VALUES (100)")
        raise RuntimeError("step fails with its transaction open")


@dg.asset(deps=[_writes])
def _reads_and_writes(warehouse: Warehouse):
    with warehouse.connect() as con:
        con.execute("BEGIN TRANSACTION")
        con.execute("INSERT INTO t SELECT count(*) + 1 FROM t")
        con.execute("COMMIT")


@pytest.mark.parametrize("hold", [False, True])
def test_a_held_warehouse_gives_each_asset_its_own_connection_and_closes_when_released(tmp_path, monkeypatch, hold):
    path = str(tmp_path / "w.duckdb")
    opened = []
    real_connect = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: opened.append(1) or real_connect(*a, **k))
    warehouse = Warehouse(database=path, hold_for_run=hold)
    result = dg.materialize([_writes, _fails_inside_a_transaction, _reads_and_writes],
                            resources={"warehouse": warehouse}, raise_on_error=False)
    warehouse.release()
    assert not result.success   # the failing asset failed; the others ran on their own connections
    assert len(opened) == (1 if hold else 3)
    monkeypatch.setattr(duckdb, "connect", real_connect)
    # The run closed the file: another process (here: a fresh read-write connection) may open it.
    code = f"import duckdb; print(sorted(r[0] for r in duckdb.connect({path!r}).execute('SELECT x FROM t').fetchall()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[1, 2]"   # the failed transaction's 100 was rolled back, the reader saw 1 row


def test_an_increment_without_agent_events_imports_no_pandas(tmp_path):
    """Building Arrow from Python objects imports pandas (~0.4 s): staging, JAR/CAR, the interval's files, KPIs
    and exports may not. (The agent-event drain of `cc-reporting run` writes the RTA snapshot with pyarrow and
    still imports it when there are events: the folder is removed here, as the benchmark runs without events.)"""
    simulated_hours(tmp_path, 1)
    assert run_window(DAY, START, resources=resources_for(tmp_path)).success
    shutil.rmtree(tmp_path / "landing" / "agent-events")
    code = (
        "import sys\n"
        "from datetime import datetime, timezone\n"
        "from cc_reporting.pipeline import run_window\n"
        f"result = run_window(datetime.fromisoformat({START.isoformat()!r}), "
        f"datetime.fromisoformat({END.isoformat()!r}))\n"
        "print(result.success, 'pandas' in sys.modules)\n")
    env = {**os.environ, "CC_LANDING_URI": str(tmp_path / "landing"),
           "CC_WAREHOUSE_PATH": str(tmp_path / "warehouse" / "cc.duckdb")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "True False"
