"""Leftovers of interrupted writes: `.part-` temp files on the SFTP target, `.tmp-` files in the local outbox.

The next delivery (or write) removes only its own stale temp files in the folders it writes; a temp file that is
still fresh may belong to a live upload of another process and stays, and no other name is ever touched."""
from __future__ import annotations

import errno
import os
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from cc_reporting.delivery.delivery_ledger import deliver
from cc_reporting.delivery.parquet_exports import export_partition, partition_path
from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.models.teleopti import assets as teleopti_assets
from cc_reporting.models.teleopti import files as teleopti_files
from cc_reporting.models.teleopti import interval_stats
from cc_reporting.staging.assets import stg_ctr
from cc_reporting_tests.sftp_server import SftpTestServer
from cc_reporting_tests.test_sftp_delivery import PASSWORD, sftp_for, write_day

from .conftest import concat
from .teleopti_legs import at, leg, stage

HOUR_AGO = time.time() - 3600


def age(path: Path, when: float = HOUR_AGO) -> None:
    os.utime(path, (when, when))


# -- SFTP ------------------------------------------------------------------------------------------------------

def test_next_delivery_removes_a_killed_uploads_stale_part_file_and_nothing_else(tmp_path, warehouse):
    outbox = tmp_path / "outbox"
    with SftpTestServer(tmp_path / "root", password=PASSWORD, cut_after_bytes=150) as server:
        files = write_day(outbox, intervals=3)
        killed = deliver_once(warehouse, sftp_for(server, tmp_path, attempts=1), files)
        assert killed.error and killed.failed  # the connection died mid-upload, no retry
        parts = [n for n in server.files() if ".part-" in n]
        assert len(parts) == 1  # what a killed upload leaves: a partial file under our temp name
        stale = server.root / parts[0]
        kind, temp_name = parts[0].split("/")
        assert 0 < stale.stat().st_size < (outbox / kind / temp_name[1:].rsplit(".part-", 1)[0]).stat().st_size
        age(stale)  # the killed run was an hour ago

        folder = server.root / kind
        live = folder / ".queue_stats_20260105_0015.csv.part-0a1b2c3d"  # another process's upload, in progress
        live.write_bytes(b"partial")
        others = {folder / ".queue_stats_20260105_0030.csv.part-NOTHEX12": b"x", folder / "notes.part-0a1b2c3d": b"y",
                  folder / ".hidden": b"z", folder / "queue_stats_19990101_0000.csv": b"receiver's own file"}
        for path, data in others.items():
            path.write_bytes(data)
            age(path)

        report = deliver_once(warehouse, sftp_for(server, tmp_path), files)

        assert not report.error and not stale.exists()
        remote = server.files()
        assert all(remote[f.remote_name] == f.path.read_bytes() for f in files)
        assert live.exists() and all(p.read_bytes() == d for p, d in others.items())
        assert {n for n in remote if ".part-" in n} == {str(p.relative_to(server.root)) for p in
                                                        (live, *list(others)[:2])}


def deliver_once(warehouse, sftp: TeleoptiSftp, files):
    with warehouse.connect() as con:
        return deliver(con, sftp, files, raise_on_failure=False)


def test_stale_part_file_in_a_folder_this_delivery_does_not_write_is_left_alone(tmp_path, warehouse):
    """Only the folders written are swept: the receiver's other folders are none of our business."""
    with SftpTestServer(tmp_path / "root", password=PASSWORD) as server:
        elsewhere = server.root / "archive" / ".queue_stats_20260105_0000.csv.part-0a1b2c3d"
        elsewhere.parent.mkdir(parents=True)
        elsewhere.write_bytes(b"old")
        age(elsewhere)
        report = deliver_once(warehouse, sftp_for(server, tmp_path), write_day(tmp_path / "outbox", intervals=1))
        assert not report.error and elsewhere.exists()


# -- local outbox ----------------------------------------------------------------------------------------------

def fill_disk_on_temp_writes(monkeypatch):
    """os.write on our outbox temp files writes a few bytes, then fails as a full disk does (ENOSPC)."""
    real_write = os.write

    def write(fd, data):
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(teleopti_files.TEMP_PREFIX):
            if len(data) > 4:
                return real_write(fd, bytes(data[:4]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


def temp_files(root: Path) -> list[Path]:
    return sorted(root.rglob(f"{teleopti_files.TEMP_PREFIX}*"))


def test_disk_full_write_removes_its_temp_file_keeps_the_old_file_and_fails_in_one_line(con, tmp_path, monkeypatch):
    stage(con, leg("1"))
    interval_stats.build_queue_stats(con, at("09:00:00"), at("09:15:00"), 20, 5, "UTC")
    [first] = teleopti_files.write_files(con, teleopti_files.QUEUE_STATS, at("09:00:00"), at("09:15:00"), str(tmp_path))
    old = first.path.read_bytes()
    stage(con, leg("2"))
    interval_stats.build_queue_stats(con, at("09:00:00"), at("09:15:00"), 20, 5, "UTC")

    with monkeypatch.context() as m:
        fill_disk_on_temp_writes(m)
        with pytest.raises(dg.Failure) as failure:
            teleopti_files.write_files(con, teleopti_files.QUEUE_STATS, at("09:00:00"), at("09:15:00"), str(tmp_path))
    message = failure.value.description
    assert "\n" not in message and "disk full" in message and str(first.path) in message
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
    assert temp_files(tmp_path) == [] and first.path.read_bytes() == old

    [again] = teleopti_files.write_files(con, teleopti_files.QUEUE_STATS, at("09:00:00"), at("09:15:00"), str(tmp_path))
    assert again.changed and again.path.read_bytes() != old and temp_files(tmp_path) == []


def test_disk_full_in_a_dagster_run_is_a_one_line_failure_naming_the_file(tmp_path, landing, warehouse, monkeypatch):
    landing.write("ctr/2026/01/05/09/s-1-x", concat(leg("1")))
    resources = {"landing": landing, "warehouse": warehouse, "teleopti_sftp": TeleoptiSftp()}
    assert dg.materialize([stg_ctr], resources=resources).success
    fill_disk_on_temp_writes(monkeypatch)
    result = dg.materialize([teleopti_assets.teleopti_queue_stats], resources=resources,
                            partition_key="2026-01-05-09:00", raise_on_error=False)
    assert not result.success
    [event] = result.get_step_failure_events()
    description = event.step_failure_data.user_failure_data.description
    path = tmp_path / "outbox" / "queue_stats" / "queue_stats_20260105_0900.csv"
    assert description == f"cannot write Teleopti file {path}: disk full (ENOSPC); the previous file is unchanged"
    assert temp_files(tmp_path / "outbox") == []


def test_next_write_sweeps_stale_temp_files_a_crash_left_but_not_fresh_or_foreign_ones(con, tmp_path):
    folder = tmp_path / "queue_stats"
    folder.mkdir()
    crashed = folder / ".tmp-k3j2h1g0"  # mkstemp's name, as a process killed mid-write leaves it
    crashed.write_bytes(b"15;2026")
    age(crashed)
    fresh = folder / ".tmp-a1b2c3d4"  # a write in progress right now
    fresh.write_bytes(b"15;")
    foreign = {folder / "tmp-notours": b"a", folder / ".dashboard.tmp": b"b", tmp_path / "contacts" / ".tmp-x": b"c"}
    for path, data in foreign.items():
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        age(path)
    stage(con, leg("1"))
    interval_stats.build_queue_stats(con, at("09:00:00"), at("09:15:00"), 20, 5, "UTC")

    teleopti_files.write_files(con, teleopti_files.QUEUE_STATS, at("09:00:00"), at("09:15:00"), str(tmp_path))

    assert not crashed.exists() and fresh.exists()
    assert all(p.read_bytes() == d for p, d in foreign.items())  # another kind's folder is swept by its own write
    assert (folder / "queue_stats_20260105_0900.csv").read_bytes().startswith(b"15;20260105;09:00;q-billing;")


def test_next_parquet_export_sweeps_the_temp_file_a_killed_export_left(con, tmp_path):
    """A run killed mid-COPY leaves `.<table>.parquet.tmp-<pid>`; the next export of that day removes it."""
    target = partition_path(str(tmp_path), "car", date(2026, 1, 5))
    target.parent.mkdir(parents=True)
    killed = target.with_name(".car.parquet.tmp-99999")
    killed.write_bytes(b"PAR1 half a file")
    age(killed)
    fresh = target.with_name(".car.parquet.tmp-4242")  # another process exporting right now
    fresh.write_bytes(b"PAR1")
    assert export_partition(con, str(tmp_path), "car", date(2026, 1, 5), "SELECT 1 AS x") == 1
    assert not killed.exists() and fresh.exists() and target.exists()
