"""Teleopti assets through Dagster: backfills, outbox, checks, schedules, late data."""
from datetime import datetime, timezone

import dagster as dg
import duckdb
import pytest

from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.models.teleopti import assets as teleopti_assets
from cc_reporting.models.teleopti import interval_stats
from cc_reporting.models.teleopti.late_data import contiguous_ranges, teleopti_late_data_sensor
from cc_reporting.models.teleopti.schedules import (
    analytics_daily_schedule,
    due_partition_key,
    interval_reports_schedule,
    teleopti_agent_performance_schedule,
)
from cc_reporting.staging.assets import stg_ctr

from .conftest import concat, query
from .teleopti_legs import leg, stage

FIFTEEN = [teleopti_assets.teleopti_queue_stats, teleopti_assets.teleopti_agent_queue_stats,
           teleopti_assets.teleopti_contacts]
RANGE = {"dagster/asset_partition_range_start": "2026-01-05-00:00",
         "dagster/asset_partition_range_end": "2026-01-05-23:45"}


def day_of_legs():
    """Legs spread over 2026-01-05 (every 37 minutes, alternating outcomes), in one Firehose object."""
    legs = []
    for i in range(38):
        minute = i * 37
        hhmmss = f"{minute // 60:02d}:{minute % 60:02d}:07"
        legs.append(leg(f"c{i:03d}", enqueue=hhmmss, answered=i % 3 != 0, queue=f"q{i % 2}",
                        queue_duration=i % 25, next_contact="n" if i % 7 == 0 else None))
    return legs


@pytest.fixture
def resources(landing, warehouse):
    return {"landing": landing, "warehouse": warehouse, "teleopti_sftp": TeleoptiSftp()}


def outbox_snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.csv"))}


def test_a_day_backfilled_in_one_run_equals_96_single_interval_runs(tmp_path, resources, landing, monkeypatch):
    landing.write("ctr/2026/01/05/23/s-1-x", concat(*day_of_legs()))
    assert dg.materialize([stg_ctr], resources=resources).success
    one_run = dg.materialize(FIFTEEN, resources=resources, tags=RANGE)
    assert one_run.success
    assert one_run.dagster_run.tags["dagster/asset_partition_range_end"] == "2026-01-05-23:45"  # one run, 96 partitions
    tables = {t: query(resources["warehouse"], f"SELECT * FROM {t} ORDER BY ALL") for t in interval_stats.DDL}
    files = outbox_snapshot(tmp_path / "outbox")
    assert {k.split("/")[0] for k in files} == {"queue_stats", "agent_queue_stats", "contacts"}
    assert sum(k.startswith("queue_stats/") for k in files) == 96

    with resources["warehouse"].connect() as con:
        for t in interval_stats.DDL:
            con.execute(f"DELETE FROM {t}")
    for p in (tmp_path / "outbox").rglob("*.csv"):
        p.unlink()
    keys = teleopti_assets.teleopti_queue_stats.partitions_def.get_partition_keys_in_range(
        dg.PartitionKeyRange(RANGE["dagster/asset_partition_range_start"], RANGE["dagster/asset_partition_range_end"]))
    assert len(keys) == 96
    with dg.DagsterInstance.ephemeral() as instance:
        for key in keys:
            assert dg.materialize(FIFTEEN, resources=resources, partition_key=key, instance=instance).success
    assert {t: query(resources["warehouse"], f"SELECT * FROM {t} ORDER BY ALL") for t in interval_stats.DDL} == tables
    assert outbox_snapshot(tmp_path / "outbox") == files


def test_rerun_is_byte_identical_and_reports_nothing_changed(tmp_path, resources, landing):
    landing.write("ctr/2026/01/05/23/s-1-x", concat(*day_of_legs()))
    dg.materialize([stg_ctr], resources=resources)
    dg.materialize(FIFTEEN, resources=resources, tags=RANGE)
    before = outbox_snapshot(tmp_path / "outbox")
    again = dg.materialize([teleopti_assets.teleopti_queue_stats], resources=resources, tags=RANGE)
    meta = again.asset_materializations_for_node("teleopti_queue_stats")[0].metadata
    assert meta["files_written"].value == 96 and meta["files_changed"].value == 0
    assert outbox_snapshot(tmp_path / "outbox") == before
    checks = {c.check_name: c.passed for c in again.get_asset_check_evaluations()}
    assert checks == {"offered_equals_outcomes": True, "reconciles_with_stg_ctr": True}


def test_queue_stats_checks_fail_on_a_broken_row_and_on_unreconciled_totals():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    stage(con, leg("a"), leg("b"))
    start, end = datetime(2026, 1, 5, 9, tzinfo=timezone.utc), datetime(2026, 1, 5, 9, 15, tzinfo=timezone.utc)
    interval_stats.build_queue_stats(con, start, end, 20, 5, "UTC")
    assert all(c.passed for c in teleopti_assets._queue_stats_checks(con, start, end, None))
    con.execute("UPDATE teleopti_queue_stats SET answ_call_cnt = 1")
    con.execute("INSERT INTO stg_ctr SELECT * REPLACE ('z' AS contact_id) FROM stg_ctr LIMIT 1")
    results = {c.check_name: c for c in teleopti_assets._queue_stats_checks(con, start, end, None)}
    assert not results["offered_equals_outcomes"].passed
    assert results["offered_equals_outcomes"].metadata["rows_violating"].value == 1
    assert not results["reconciles_with_stg_ctr"].passed


@pytest.mark.parametrize("scheduled, lag, length, expected", [
    ("2026-01-05T10:10:00", 5, 15, "2026-01-05-09:45"),   # ended 10 minutes ago
    ("2026-01-05T10:04:59", 5, 15, "2026-01-05-09:45"),   # 09:45-10:00 ended only 4:59 ago → still 09:30? no:
    ("2026-01-06T00:10:00", 5, 15, "2026-01-05-23:45"),   # midnight
    ("2026-02-01T00:10:00", 5, 15, "2026-01-31-23:45"),   # month end
    ("2027-01-01T00:10:00", 5, 15, "2026-12-31-23:45"),   # year end
    ("2026-03-01T00:20:00", 20, 30, "2026-02-28-23:30"),  # agent performance, February's end
    ("2026-01-05T09:50:00", 20, 30, "2026-01-05-09:00"),
])
def test_schedule_partition_key_from_scheduled_execution_time(scheduled, lag, length, expected):
    if scheduled == "2026-01-05T10:04:59":
        expected = "2026-01-05-09:30"  # 09:45-10:00 ended 4:59 before: not yet due
    assert due_partition_key(datetime.fromisoformat(scheduled).replace(tzinfo=timezone.utc), lag, length) == expected


def test_schedules_request_the_due_partitions():
    when = datetime(2026, 1, 6, 0, 10, tzinfo=timezone.utc)
    request = interval_reports_schedule(dg.build_schedule_context(scheduled_execution_time=when))
    assert request.partition_key == "2026-01-05-23:45"
    when = datetime(2026, 1, 6, 0, 20, tzinfo=timezone.utc)
    request = teleopti_agent_performance_schedule(dg.build_schedule_context(scheduled_execution_time=when))
    assert request.partition_key == "2026-01-05-23:30"


def test_contiguous_ranges_batch_intervals_into_few_runs():
    keys = ["2026-01-05-09:00", "2026-01-05-09:15", "2026-01-05-09:30", "2026-01-05-11:00", "2026-01-04-23:45",
            "2026-01-05-00:00"]
    assert contiguous_ranges(keys, 15) == [("2026-01-04-23:45", "2026-01-05-00:00"),
                                           ("2026-01-05-09:00", "2026-01-05-09:30"),
                                           ("2026-01-05-11:00", "2026-01-05-11:00")]


def test_late_contact_reopens_only_its_delivered_interval_and_redelivers_only_changed_files(
        tmp_path, resources, landing, monkeypatch):
    monkeypatch.setenv("CC_LATE_DATA_DAYS", "100000")
    with dg.instance_for_test() as instance:
        landing.write("ctr/2026/01/05/10/s-1-a", concat(leg("a", enqueue="09:05:00"), leg("b", enqueue="09:20:00")))
        dg.materialize([stg_ctr], resources=resources, instance=instance)
        for key in ("2026-01-05-09:00", "2026-01-05-09:15"):
            dg.materialize(FIFTEEN, resources=resources, partition_key=key, instance=instance)
        context = dg.build_sensor_context(instance=instance)
        # The intervals were built after that staging run: nothing to re-open.
        assert isinstance(teleopti_late_data_sensor(context), dg.SkipReason)

        late = leg("late", enqueue="09:07:00", answered=False)
        landing.write("ctr/2026/01/05/11/s-1-b", concat(late))
        dg.materialize([stg_ctr], resources=resources, instance=instance)
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor)
        requests = teleopti_late_data_sensor(context)
        assert len(requests) == 1
        request = requests[0]
        assert request.job_name == "interval_reports"
        assert (request.tags["dagster/asset_partition_range_start"],
                request.tags["dagster/asset_partition_range_end"]) == ("2026-01-05-09:00", "2026-01-05-09:00")
        assert "late" in request.tags["cc_reporting/reason"]

        rerun = dg.materialize(FIFTEEN, resources=resources, instance=instance, tags=request.tags)
        meta = rerun.asset_materializations_for_node("teleopti_queue_stats")[0].metadata
        assert meta["files_changed"].value == 1
        assert "outbox" in meta["delivery_destination"].value
        body = (tmp_path / "outbox" / "queue_stats" / "queue_stats_20260105_0900.csv").read_text()
        assert body.split(";")[7] == "1"  # aband_call_cnt now counts the late abandon
        # Nothing changed since: the next tick requests nothing.
        again = teleopti_late_data_sensor(dg.build_sensor_context(instance=instance, cursor=context.cursor))
        assert isinstance(again, dg.SkipReason)


def test_late_data_outside_the_window_does_not_reopen(tmp_path, resources, landing, monkeypatch):
    monkeypatch.setenv("CC_LATE_DATA_DAYS", "7")  # 2026-01-05 is far more than 7 days before today
    with dg.instance_for_test() as instance:
        landing.write("ctr/2026/01/05/10/s-1-a", concat(leg("a")))
        dg.materialize([stg_ctr], resources=resources, instance=instance)
        dg.materialize(FIFTEEN, resources=resources, partition_key="2026-01-05-09:00", instance=instance)
        landing.write("ctr/2026/01/05/11/s-1-b", concat(leg("late", enqueue="09:07:00")))
        dg.materialize([stg_ctr], resources=resources, instance=instance)
        result = teleopti_late_data_sensor(dg.build_sensor_context(instance=instance))
        assert isinstance(result, dg.SkipReason)


def test_teleopti_day_is_delivered_over_sftp_and_a_changed_interval_is_redelivered(tmp_path, landing, warehouse):
    """Through Dagster to a real SFTP server on 127.0.0.1: a day (96 files per 15-minute kind), then a late
    contact in 09:00 re-delivers exactly the two files whose content changed (queue_stats and contacts)."""
    from cc_reporting_tests.sftp_server import USER, SftpTestServer

    with SftpTestServer(tmp_path / "sftp-root", password="pw-123") as server:
        known = tmp_path / "known_hosts"
        known.write_text(server.known_hosts())
        sftp = TeleoptiSftp(host="127.0.0.1", port=server.port, user=USER, password="pw-123",
                            known_hosts=str(known), backoff_seconds=0.01)
        resources = {"landing": landing, "warehouse": warehouse, "teleopti_sftp": sftp}
        landing.write("ctr/2026/01/05/23/s-1-x", concat(*day_of_legs()))
        dg.materialize([stg_ctr], resources=resources)
        result = dg.materialize(FIFTEEN, resources=resources, tags=RANGE)
        remote = server.files()
        assert sum(name.startswith("queue_stats/") for name in remote) == 96
        assert sum(name.startswith("contacts/") for name in remote) == 96
        assert remote == {p.relative_to(tmp_path / "outbox").as_posix(): p.read_bytes()
                          for p in (tmp_path / "outbox").rglob("*.csv")}
        assert result.asset_materializations_for_node("teleopti_queue_stats")[0].metadata[
            "files_delivered"].value == 96

        landing.write("ctr/2026/01/05/23/s-1-y", concat(leg("late", enqueue="09:07:00", answered=False)))
        dg.materialize([stg_ctr], resources=resources)
        again = dg.materialize(FIFTEEN, resources=resources, tags=RANGE)
        delivered = {node: again.asset_materializations_for_node(node)[0].metadata["files_delivered"].value
                     for node in ("teleopti_queue_stats", "teleopti_agent_queue_stats", "teleopti_contacts")}
        assert delivered == {"teleopti_queue_stats": 1, "teleopti_agent_queue_stats": 0, "teleopti_contacts": 1}
        assert server.files()["queue_stats/queue_stats_20260105_0900.csv"] == (
            tmp_path / "outbox" / "queue_stats" / "queue_stats_20260105_0900.csv").read_bytes()


@pytest.mark.parametrize("day, full", [(datetime(2026, 1, 4, 0, 30, tzinfo=timezone.utc), True),   # a Sunday
                                       (datetime(2026, 1, 5, 0, 30, tzinfo=timezone.utc), False)])  # a Monday
def test_the_sunday_analytics_run_rebuilds_the_jar_whole(day, full):
    request = analytics_daily_schedule(dg.build_schedule_context(scheduled_execution_time=day))
    jar_config = request.run_config["ops"]["jar"]["config"]
    assert jar_config["as_of"] == day.isoformat() and jar_config.get("full_rebuild", False) is full
    assert "full_rebuild" not in request.run_config["ops"]["car"]["config"]
