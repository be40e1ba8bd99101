"""Archive a simulated, reported day, restore it, and run the pipeline over it again from scratch: the Teleopti
files and the Parquet exports come out byte-identical to those made before archiving."""
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cc_reporting.archive.compaction import SOURCES, compact, restore_day
from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.pipeline import run_window
from cc_reporting.resources.landing import LandingZone
from cc_reporting.resources.warehouse import Warehouse
from cc_reporting.simulate import simulate

from .test_simulated_day import day_env

DAY = datetime(2026, 1, 5, tzinfo=timezone.utc)
END = DAY + timedelta(hours=6)


def outputs(base: Path) -> dict:
    files = [*(base / "outbox").rglob("*.csv"), *(base / "exports").rglob("*.parquet")]
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in files}


def test_restored_day_reruns_to_byte_identical_teleopti_files_and_exports(tmp_path, monkeypatch):
    for name, value in day_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    landing = LandingZone(uri=str(tmp_path / "landing"))
    simulate(DAY, 6, 5, 11, landing, str(tmp_path / "landing" / "agent-events"))

    def resources():
        return {"landing": landing, "warehouse": Warehouse(database=str(tmp_path / "warehouse" / "cc.duckdb")),
                "teleopti_sftp": TeleoptiSftp()}

    assert run_window(DAY, END, resources=resources()).success
    before = outputs(tmp_path)
    assert sum(k.startswith("outbox/") for k in before) > 0 and sum(k.startswith("exports/") for k in before) > 0
    raw = {o.key: landing.read(o.key) for s in SOURCES for o in landing.list(s + "/")}

    report = compact(landing, now=datetime.now(timezone.utc) + timedelta(days=31), retention_days=30)
    assert report.verified and report.totals()["objects"] == len(raw)
    assert not any(True for s in SOURCES for _ in landing.list(s + "/"))

    for day in sorted({d.day for d in report.days}):
        restore_day(landing, day)
    assert {o.key: landing.read(o.key) for s in SOURCES for o in landing.list(s + "/")} == raw

    # Everything derived is rebuilt from the restored landing zone alone.
    for folder in ("warehouse", "outbox", "exports", "rta"):
        shutil.rmtree(tmp_path / folder, ignore_errors=True)
    assert run_window(DAY, END, resources=resources()).success
    after = outputs(tmp_path)
    assert sorted(after) == sorted(before)
    assert [k for k in before if after[k] != before[k]] == []
