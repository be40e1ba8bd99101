"""Dagster's local run launcher, with a health check so run monitoring can fail a run whose process died.

The stock DefaultRunLauncher cannot tell a dead run from a slow one: a run killed together with its code server,
or a `cc-reporting run` killed with DAGSTER_HOME set (machine reboot, OOM killer, `kill -9`), stays STARTED for
ever and keeps its `duckdb_writer` pool slot, and every later writer waits silently. Every event in the run's event
log carries the pid of the process that wrote it;
this launcher checks the pid of the process that started the run, on the same host (where the local launcher runs
its workers and where the CLI runs in-process).
"""
from __future__ import annotations

import os

from dagster import DefaultRunLauncher
from dagster._core.events import DagsterEventType
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus


def run_process_pid(instance, run_id: str) -> int | None:
    """The pid of the process that orchestrates the run: the one that reported RUN_START.

    A run worker started by this launcher, or the process of an in-process run (`cc-reporting run`,
    `dg.materialize` with DAGSTER_HOME set); step subprocesses come and go, so their events do not count.
    """
    records = instance.all_logs(run_id, of_type=DagsterEventType.RUN_START)
    if records and records[-1].dagster_event and records[-1].dagster_event.pid:
        return int(records[-1].dagster_event.pid)
    return None


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    try:  # a killed child nobody has reaped yet is a zombie: dead for our purpose
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class LocalRunLauncher(DefaultRunLauncher):
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run) -> CheckRunHealthResult:
        pid = run_process_pid(self._instance, run.run_id)
        if pid is None:  # STARTED without a RUN_START event: cannot tell, only max_runtime_seconds applies
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run process pid recorded")
        if process_alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker pid {pid} is alive")
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker pid {pid} is gone (killed or crashed)")
