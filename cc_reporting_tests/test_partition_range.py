"""Records outside the partition range [CC_PARTITIONS_START, now) are staged and counted, never fail or hang a run;
windows are clamped to the range and a long window runs one business day at a time."""
import errno
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg

from cc_reporting.cli import main
from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.pipeline import run_window
from cc_reporting.resources.landing import LandingZone
from cc_reporting.resources.warehouse import Warehouse
from cc_reporting.simulate import simulate
from cc_reporting.staging.assets import stg_ctr

from .conftest import fixture_bytes, query

# The real public sample is from 2022, before the default CC_PARTITIONS_START (2026-01-01).
OLD_KEY = "ctr/2022/01/05/17/cc-ctr-stream-1-2022-01-05-17-48-35-real-sample"
DAY = datetime(2026, 1, 5, tzinfo=timezone.utc)


def resources_for(tmp_path: Path) -> dict:
    return {"landing": LandingZone(uri=str(tmp_path / "landing")),
            "warehouse": Warehouse(database=str(tmp_path / "warehouse" / "cc.duckdb")), "teleopti_sftp": TeleoptiSftp()}


def simulated_hours(tmp_path: Path, hours: float = 2) -> None:
    simulate(DAY, hours, 3, 7, LandingZone(uri=str(tmp_path / "landing")), str(tmp_path / "landing" / "agent-events"))


def test_a_landing_zone_before_partitions_start_is_staged_and_counted_not_run(tmp_path):
    resources = resources_for(tmp_path)
    resources["landing"].write(OLD_KEY, fixture_bytes("sample_ctr.json"))
    result = run_window(resources=resources)
    assert result.success, result.failures
    assert result.window is None
    assert query(resources["warehouse"], "SELECT count(*) FROM stg_ctr") == [(1,)]
    note = " ".join(result.notes)
    assert "1 before CC_PARTITIONS_START (2026-01-01)" in note and "2022-01-05" in note, note
    assert "CC_PARTITIONS_START" in result.summary_text()


def test_an_explicit_window_before_partitions_start_is_clamped_to_nothing(tmp_path):
    resources = resources_for(tmp_path)
    resources["landing"].write(OLD_KEY, fixture_bytes("sample_ctr.json"))
    result = run_window(datetime(2022, 1, 5, tzinfo=timezone.utc), datetime(2022, 1, 6, tzinfo=timezone.utc),
                        resources=resources)
    assert result.success, result.failures
    assert result.window is None
    assert any("outside the reportable range 2026-01-01 00:00" in n for n in result.notes), result.notes
    assert not (tmp_path / "outbox").exists() or not any((tmp_path / "outbox").rglob("*.csv"))


def test_one_contact_before_partitions_start_leaves_the_day_fully_reported(tmp_path):
    simulated_hours(tmp_path)
    resources = resources_for(tmp_path)
    resources["landing"].write(OLD_KEY, fixture_bytes("sample_ctr.json"))
    result = run_window(resources=resources)
    assert result.success, result.failures
    assert result.window[0] >= DAY
    outbox = tmp_path / "outbox"
    for kind in ("queue_stats", "agent_queue_stats", "contacts", "agent_performance"):
        names = sorted(p.name for p in (outbox / kind).glob("*.csv"))
        assert names and all("_20260105_" in n for n in names), (kind, names)
    assert any("2022-01-05" in n for n in result.notes), result.notes


def test_stg_ctr_metadata_counts_records_outside_the_range_and_touches_only_keys_inside(tmp_path):
    resources = resources_for(tmp_path)
    resources["landing"].write(OLD_KEY, fixture_bytes("sample_ctr.json"))
    resources["landing"].write("ctr/2026/01/05/09/cc-ctr-stream-1-2026-01-05-09-15-00-firehose",
                               fixture_bytes("firehose_object_sample"))
    with dg.DagsterInstance.ephemeral() as instance:
        assert dg.materialize([stg_ctr], resources=resources, instance=instance).success
        event = instance.get_latest_materialization_event(dg.AssetKey("stg_ctr"))
    metadata = event.asset_materialization.metadata
    assert metadata["records_before_partitions_start"].value == 1
    assert metadata["records_after_partitions_end"].value == 0
    assert metadata["dates_outside_partitions"].value == ["2022-01-05"]
    touched = metadata["touched_intervals"].value
    assert touched and all("2026-01-01-00:00" <= key for key in touched), touched


def test_a_run_without_window_reads_the_agent_events_of_the_day_it_reports(tmp_path):
    simulated_hours(tmp_path)
    resources = resources_for(tmp_path)
    result = run_window(resources=resources)
    assert result.success, result.failures
    assert result.agent_events > 0
    assert query(resources["warehouse"], "SELECT count(*) FROM agent_state_intervals")[0][0] > 0


def test_a_long_window_runs_one_day_at_a_time_with_the_days_results_unchanged(tmp_path, monkeypatch):
    """Three days in one command: no Dagster run spans more than a day of partitions, and the data day's
    Teleopti files equal those of a one-day run."""
    outboxes = {}
    for name, window in (("one", (DAY, datetime(2026, 1, 6, tzinfo=timezone.utc))),
                         ("three", (datetime(2026, 1, 4, tzinfo=timezone.utc),
                                    datetime(2026, 1, 7, tzinfo=timezone.utc)))):
        base = tmp_path / name
        for var, sub in (("CC_DATA_DIR", "data"), ("CC_LANDING_URI", "landing"), ("CC_EXPORT_DIR", "exports"),
                         ("CC_TELEOPTI_OUTBOX", "outbox"), ("CC_RTA_DIR", "rta")):
            monkeypatch.setenv(var, str(base / sub))
        monkeypatch.setenv("CC_AGENT_EVENTS", str(base / "landing" / "agent-events"))
        monkeypatch.setenv("CC_WAREHOUSE_PATH", str(base / "warehouse" / "cc.duckdb"))
        monkeypatch.setenv("DAGSTER_HOME", str(base / "dagster"))
        (base / "dagster").mkdir(parents=True)
        simulated_hours(base)
        result = run_window(*window, resources=resources_for(base))
        assert result.success, result.failures
        outboxes[name] = {p.relative_to(base / "outbox"): p.read_bytes() for p in (base / "outbox").rglob("*.csv")}
        with dg.DagsterInstance.get() as instance:
            runs = instance.get_runs()
        ranges = [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
                  for r in runs if "dagster/asset_partition_range_start" in r.tags]
        assert ranges and all(first[:10] == last[:10] for first, last in ranges), ranges
    assert len({first[:10] for first, _ in ranges}) == 3
    day_files = {k: v for k, v in outboxes["three"].items() if "_20260105_" in k.name}
    assert day_files == outboxes["one"]


def test_disk_full_while_copying_agent_events_prints_one_line_and_the_summary(tmp_path, monkeypatch, capsys):
    simulated_hours(tmp_path)
    real_fdopen, state_log = os.fdopen, str(tmp_path / "rta" / "state_log")

    class FullDisk:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fdopen(fd, *args, **kwargs):
        handle = real_fdopen(fd, *args, **kwargs)
        return FullDisk(handle) if os.readlink(f"/proc/self/fd/{fd}").startswith(state_log) else handle

    monkeypatch.setattr(os, "fdopen", fdopen)
    assert main(["run", "--start", "2026-01-05T00:00Z", "--end", "2026-01-05T02:00Z"]) == 1
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    errors = [line for line in out.out.splitlines() if "No space left on device" in line]
    assert len(errors) == 1 and "ENOSPC" in errors[0] and state_log.rsplit("/", 1)[0] in errors[0], out.out
    assert "cc_reporting run FAILED" in out.out and "stg_ctr" in out.out


CREATE_INSTANCE = """
import os, sys, time
from pathlib import Path
from cc_reporting.pipeline import _instance
go = Path(sys.argv[1])
(go.parent / f"ready-{os.getpid()}").touch()
while not go.exists():
    time.sleep(0.001)
with _instance() as instance:
    instance.get_runs()
print("ok")
"""


def test_runs_creating_a_new_dagster_instance_at_once_all_get_it(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster")}
    (tmp_path / "dagster").mkdir()
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", CREATE_INSTANCE, str(go)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    while len(list(tmp_path.glob("ready-*"))) < len(procs) and all(p.poll() is None for p in procs):
        time.sleep(0.05)
    go.touch()  # all four imported and waiting: they open the instance at the same moment
    outcomes = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err[-2000:] for _, err in outcomes]


def test_the_default_window_reports_only_days_with_data_not_the_empty_days_between(tmp_path, monkeypatch):
    """Data on 2026-01-05 and on 2026-01-20, no window given: runs for those two days only (not 16)."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    landing = LandingZone(uri=str(tmp_path / "landing"))
    for day in (DAY, datetime(2026, 1, 20, tzinfo=timezone.utc)):
        simulate(day, 2, 3, 7, landing, str(tmp_path / "landing" / "agent-events"))
    result = run_window(resources=resources_for(tmp_path))
    assert result.success, result.failures
    with dg.DagsterInstance.get() as instance:
        days = {r.tags["dagster/asset_partition_range_start"][:10] for r in instance.get_runs()
                if "dagster/asset_partition_range_start" in r.tags}
    assert days == {"2026-01-05", "2026-01-20"}
