"""SIGTERM and Ctrl-C stop `cc-reporting run` promptly, in a real process, with one line and the shell's exit code
(128 + signal), and leave no Dagster run marked as still going."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

UNFINISHED = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
              dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.CANCELING]


def env_for(base: Path) -> dict:
    return {**os.environ, "CC_PII_SALT": "signal-salt", "CC_DATA_DIR": str(base / "data"),
            "CC_LANDING_URI": str(base / "landing"), "CC_WAREHOUSE_PATH": str(base / "warehouse" / "cc.duckdb"),
            "CC_EXPORT_DIR": str(base / "exports"), "CC_TELEOPTI_OUTBOX": str(base / "outbox"),
            "CC_AGENT_EVENTS": str(base / "landing" / "agent-events"), "CC_RTA_DIR": str(base / "rta"),
            "DAGSTER_HOME": str(base / "dagster"), "CC_PARTITIONS_START": "2026-01-01"}


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_long_run_with_one_line_its_exit_code_and_no_run_left_going(tmp_path, signo):
    (tmp_path / "landing").mkdir()
    err_path = tmp_path / "stderr"
    with open(err_path, "w") as err:
        # Two months of intervals: far more work than the test waits for.
        proc = subprocess.Popen([sys.executable, "-m", "cc_reporting.cli", "run", "--start", "2026-01-01T00:00Z",
                                 "--end", "2026-03-01T00:00Z"], env=env_for(tmp_path), stdout=subprocess.PIPE,
                                stderr=err, text=True)
        try:
            while "15-minute intervals" not in err_path.read_text() and proc.poll() is None:
                time.sleep(0.2)
            assert proc.poll() is None, err_path.read_text()[-2000:]
            time.sleep(1)  # inside the interval runs (planning or executing them)
            proc.send_signal(signo)
            out, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    stderr = err_path.read_text()
    assert proc.returncode == 128 + signo, (proc.returncode, stderr[-2000:])
    assert "Traceback" not in stderr
    assert stderr.rstrip().splitlines()[-1].startswith(f"cc-reporting run: stopped by {signo.name}")
    os.environ["DAGSTER_HOME"] = str(tmp_path / "dagster")
    try:
        with dg.DagsterInstance.get() as instance:
            runs = instance.get_runs()
            assert runs and not instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED))
    finally:
        del os.environ["DAGSTER_HOME"]
