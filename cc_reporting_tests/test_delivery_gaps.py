"""An interval that was never built (no run when its schedule was due) is requested by the retry sensor."""
from datetime import datetime, timedelta, timezone

import dagster as dg

from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.models.teleopti import delivery_retry
from cc_reporting.staging.assets import stg_ctr

from .conftest import concat
from .dagster_home import instance_for, make_dagster_home
from .teleopti_legs import leg
from .test_delivery_retry import interval_reports

DAY = datetime(2026, 1, 5, tzinfo=timezone.utc)


def build(job, instance, key: str):
    assert job.execute_in_process(instance=instance, partition_key=key).success


def test_a_never_built_interval_between_built_ones_is_requested_once_overdue(tmp_path, landing, warehouse,
                                                                             monkeypatch):
    monkeypatch.setenv("CC_DELIVERY_RETRY_HOURS", "100000")  # 2026-01-05 is long before today
    landing.write("ctr/2026/01/05/10/s-1-a", concat(leg("a", enqueue="09:05:00"), leg("b", enqueue="09:20:00")))
    with instance_for(make_dagster_home(tmp_path)) as instance:
        assert dg.materialize([stg_ctr], resources={"landing": landing, "warehouse": warehouse},
                              instance=instance).success
        job = interval_reports(landing, warehouse, TeleoptiSftp())
        build(job, instance, "2026-01-05-09:00")
        build(job, instance, "2026-01-05-09:30")  # 09:15 was never built: the daemon was down at 09:40

        # 09:15-09:30 is due at 09:30 + 5 min lag + 25 min grace = 10:00: not a gap a second before, one at 10:00.
        a_second_before = datetime(2026, 1, 5, 9, 59, 59, tzinfo=timezone.utc)
        assert delivery_retry.retry_run_requests(instance, a_second_before)[0] == []
        requests, _ = delivery_retry.retry_run_requests(instance, datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc))
        ranges = [(r.job_name, r.tags[delivery_retry.RANGE_START], r.tags[delivery_retry.RANGE_END]) for r in requests]
        assert ranges == [
            ("interval_reports", "2026-01-05-09:15", "2026-01-05-09:15")]  # not 08:45, before the feed started
        again, _ = delivery_retry.retry_run_requests(instance, datetime(2026, 1, 5, 10, 5, tzinfo=timezone.utc))
        assert [r.run_key for r in again] == [requests[0].run_key]  # idempotent: Dagster launches it once

        assert job.execute_in_process(instance=instance, tags=requests[0].tags).success
        assert (tmp_path / "outbox" / "queue_stats" / "queue_stats_20260105_0915.csv").read_text().count("\n") == 1
        later, _ = delivery_retry.retry_run_requests(instance, datetime(2026, 1, 5, 10, 30, tzinfo=timezone.utc))
        assert [(r.tags[delivery_retry.RANGE_START], r.tags[delivery_retry.RANGE_END]) for r in later] == [
            ("2026-01-05-09:45", "2026-01-05-09:45")]  # 09:15 is built; 09:45 is now overdue in its turn


def test_nothing_is_requested_before_the_feed_started_within_the_horizon(tmp_path):
    with instance_for(make_dagster_home(tmp_path)) as instance:
        assert delivery_retry.retry_run_requests(instance, DAY + timedelta(days=1)) == ([], [])


def test_a_long_gap_is_cut_into_runs_of_at_most_one_utc_day():
    assert delivery_retry._by_utc_day([("2026-01-05-22:00", "2026-01-07-01:30")], 30) == [
        ("2026-01-05-22:00", "2026-01-05-23:30"), ("2026-01-06-00:00", "2026-01-06-23:30"),
        ("2026-01-07-00:00", "2026-01-07-01:30")]
    assert delivery_retry._by_utc_day([("2026-01-05-23:45", "2026-01-06-00:00")], 15) == [
        ("2026-01-05-23:45", "2026-01-05-23:45"), ("2026-01-06-00:00", "2026-01-06-00:00")]
