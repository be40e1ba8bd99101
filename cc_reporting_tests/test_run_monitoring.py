"""A run whose worker was killed is failed by run monitoring and gives its `duckdb_writer` slot back."""
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import RunsFilter
from dagster._daemon.monitoring import concurrency as concurrency_daemon
from dagster._daemon.monitoring.run_monitoring import execute_run_monitoring_iteration
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import serialize_value
from dagster._time import get_current_datetime

from cc_reporting.definitions import defs
from cc_reporting.resources.warehouse import WAREHOUSE_POOL

from .conftest import fixture_bytes, query
from .dagster_home import PROJECT_DAGSTER_YAML, instance_for, make_dagster_home
from .stuck_writer import stuck_writer_job

LOG = logging.getLogger("run_monitoring_test")
PROJECT = PROJECT_DAGSTER_YAML.parent


class _DaemonContext:
    """What the monitoring daemon's iteration takes: the instance, and a workspace (used only to resume runs)."""

    def __init__(self, instance):
        self.instance = instance

    def create_request_context(self):
        return None


def slots_in_use(instance) -> int:
    return instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).active_slot_count


IN_PROCESS = """
import dagster as dg
from dagster._core.instance import DagsterInstance
from cc_reporting_tests.stuck_writer import stuck_writer_job
with DagsterInstance.get() as instance:
    dg.execute_job(dg.reconstructable(stuck_writer_job), instance=instance, tags={"test/run": "in_process"})
"""


def launch_run_worker(instance, home, how="run_worker"):
    """A run of the hanging writer in its own process: a run worker as a launcher starts one, or an in-process
    run like `cc-reporting run` with DAGSTER_HOME set."""
    recon = dg.reconstructable(stuck_writer_job)
    run = None
    if how == "run_worker":
        run = instance.create_run_for_job(job_def=stuck_writer_job, job_code_origin=recon.get_python_origin())
        args = serialize_value(ExecuteRunArgs(job_origin=recon.get_python_origin(), run_id=run.run_id,
                                              instance_ref=instance.get_ref()))
        command = [sys.executable, "-m", "dagster", "api", "execute_run", args]
    else:
        command = [sys.executable, "-c", IN_PROCESS]
    worker = subprocess.Popen(command, env={**os.environ, "DAGSTER_HOME": str(home)}, cwd=PROJECT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while slots_in_use(instance) == 0:
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"the run worker never took the {WAREHOUSE_POOL} slot (exit {worker.poll()})")
        time.sleep(0.2)
    return run or instance.get_runs(filters=RunsFilter(tags={"test/run": "in_process"}))[0], worker


@pytest.mark.parametrize("how", ["run_worker", "in_process"])
def test_a_killed_writer_run_is_failed_and_frees_the_writer_slot_for_later_writers(how, tmp_path, landing, warehouse,
                                                                                   monkeypatch):
    home = make_dagster_home(tmp_path)
    instance = instance_for(home)
    run, worker = launch_run_worker(instance, home, how)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED  # nobody noticed yet
    assert slots_in_use(instance) == 1

    list(execute_run_monitoring_iteration(_DaemonContext(instance), LOG))
    failed = instance.get_run_by_id(run.run_id)
    assert failed.status == dg.DagsterRunStatus.FAILURE
    assert failed.tags.get("dagster/will_retry") == "true"  # and the run-retry daemon will re-execute it

    # The concurrency daemon frees a finished run's slots free_slots_after_run_end_seconds after it ended.
    grace = instance.run_monitoring_settings["free_slots_after_run_end_seconds"]
    list(concurrency_daemon.execute_concurrency_slots_iteration(_DaemonContext(instance), LOG))
    assert slots_in_use(instance) == 1  # not before the grace period
    later = get_current_datetime() + timedelta(seconds=grace + 1)
    monkeypatch.setattr(concurrency_daemon, "get_current_datetime", lambda: later)
    list(concurrency_daemon.execute_concurrency_slots_iteration(_DaemonContext(instance), LOG))
    assert slots_in_use(instance) == 0

    key = "ctr/2026/01/05/09/cc-ctr-stream-1-2026-01-05-09-15-00-a"
    landing.write(key, fixture_bytes("sample_ctr.json"))
    writer = defs.resolve_job_def("ingest_ctr").execute_in_process(
        run_config={"ops": {"stg_ctr": {"config": {"object_keys": [key]}}}}, instance=instance,
        resources={"landing": landing, "warehouse": warehouse})
    assert writer.success and query(warehouse, "SELECT count(*) FROM stg_ctr")[0][0] == 1
    assert not list(instance.get_runs(filters=RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])))


@pytest.mark.parametrize("how", ["run_worker", "in_process"])
def test_a_live_run_is_left_running(how, tmp_path):
    home = make_dagster_home(tmp_path)
    instance = instance_for(home)
    run, worker = launch_run_worker(instance, home, how)
    try:
        list(execute_run_monitoring_iteration(_DaemonContext(instance), LOG))
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
        assert slots_in_use(instance) == 1
    finally:
        worker.kill()
        worker.wait()


@pytest.mark.parametrize("path", ["dagster.yaml", "deploy/dagster.yaml"])
def test_both_instances_monitor_runs_free_dead_runs_slots_and_retry_failed_runs(path, monkeypatch):
    import yaml
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config_schema

    for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_DB", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD",
                 "DAGSTER_COMPUTE_LOG_BUCKET"):
        monkeypatch.setenv(name, "x")
    config = process_config(dagster_instance_config_schema(),
                            yaml.safe_load((PROJECT / path).read_text()))
    assert config.success, config.errors
    monitoring, retries = config.value["run_monitoring"], config.value["run_retries"]
    assert monitoring["enabled"] and monitoring["max_resume_run_attempts"] == 0
    assert monitoring["free_slots_after_run_end_seconds"] > 0 and monitoring["max_runtime_seconds"] > 0
    assert retries["enabled"] and retries["max_retries"] >= 1
