"""A scheduled Teleopti interval whose run failed is asked for again by the retry sensor until it is delivered."""
from datetime import datetime, timedelta, timezone

import dagster as dg

from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.models.kpi.assets import kpi_assets
from cc_reporting.models.teleopti import delivery_retry, schedules
from cc_reporting.models.teleopti.assets import teleopti_assets
from cc_reporting.realtime.assets import agent_state_intervals
from cc_reporting.staging.assets import staging_assets, stg_ctr

from .conftest import concat, free_port
from .dagster_home import instance_for, make_dagster_home
from .sftp_server import USER, SftpTestServer
from .teleopti_legs import leg

FILES = {"queue_stats/queue_stats_20260105_0900.csv", "agent_queue_stats/agent_queue_stats_20260105_0900.csv",
         "contacts/contacts_20260105_0900.csv"}


def interval_reports(landing, warehouse, sftp: TeleoptiSftp) -> dg.JobDefinition:
    """The project's interval_reports job, bound to the test's landing zone, warehouse and SFTP target."""
    defs = dg.Definitions(
        assets=[*staging_assets, agent_state_intervals, *teleopti_assets, *kpi_assets],
        jobs=[schedules.interval_reports_job],
        resources={"landing": landing, "warehouse": warehouse, "teleopti_sftp": sftp})
    return defs.resolve_job_def("interval_reports")


def sftp_at(tmp_path, port: int, known_hosts: str = "") -> TeleoptiSftp:
    path = tmp_path / "known_hosts"
    path.write_text(known_hosts)
    return TeleoptiSftp(host="127.0.0.1", port=port, user=USER, password="pw-123", known_hosts=str(path),
                        attempts=2, backoff_seconds=0.01)


def tick(instance, monkeypatch, after: timedelta = timedelta(0)):
    """One evaluation of the sensor, `after` from now (its clock moved, no waiting)."""
    now = datetime.now(timezone.utc) + after
    monkeypatch.setattr(delivery_retry, "_utcnow", lambda: now)
    return delivery_retry.teleopti_delivery_retry_sensor(dg.build_sensor_context(instance=instance))


def test_a_scheduled_interval_that_failed_on_a_down_sftp_server_is_retried_with_backoff_and_delivered(
        tmp_path, landing, warehouse, monkeypatch):
    monkeypatch.setenv("CC_DELIVERY_RETRY_HOURS", "100000")  # 2026-01-05 is long before today
    landing.write("ctr/2026/01/05/10/s-1-a", concat(leg("a", enqueue="09:05:00"), leg("b", enqueue="09:07:00")))
    with instance_for(make_dagster_home(tmp_path)) as instance:
        down = sftp_at(tmp_path, free_port())  # nothing listens there: the server is down
        assert dg.materialize([stg_ctr], resources={"landing": landing, "warehouse": warehouse},
                              instance=instance).success
        scheduled = schedules.interval_reports_schedule(dg.build_schedule_context(
            scheduled_execution_time=datetime(2026, 1, 5, 9, 25, tzinfo=timezone.utc)))
        failed = interval_reports(landing, warehouse, down).execute_in_process(
            instance=instance, partition_key=scheduled.partition_key, tags=scheduled.tags, raise_on_error=False)
        assert not failed.success and scheduled.partition_key == "2026-01-05-09:00"
        assert all("gave up after 2 attempts" in e.step_failure_data.error.to_string()
                   for e in failed.get_step_failure_events())  # it failed on delivery, nothing else

        assert isinstance(tick(instance, monkeypatch), dg.SkipReason)  # backoff: not on the very next tick
        (request,) = tick(instance, monkeypatch, after=delivery_retry.backoff(1) + timedelta(seconds=1))
        (again,) = tick(instance, monkeypatch, after=delivery_retry.backoff(1) + timedelta(seconds=2))
        assert again.run_key == request.run_key  # a re-evaluation requests the same run: Dagster launches it once
        assert request.job_name == "interval_reports"
        assert (request.tags[delivery_retry.RANGE_START],
                request.tags[delivery_retry.RANGE_END]) == ("2026-01-05-09:00", "2026-01-05-09:00")

        with SftpTestServer(tmp_path / "sftp-root", password="pw-123") as server:  # the server is back
            up = sftp_at(tmp_path, server.port, server.known_hosts())
            retried = interval_reports(landing, warehouse, up).execute_in_process(
                instance=instance, tags=request.tags)
            assert retried.success
            assert set(server.files()) == FILES
            assert server.files() == {n: (tmp_path / "outbox" / n).read_bytes() for n in FILES}

        later = tick(instance, monkeypatch, after=timedelta(hours=3))  # delivered: no retry (later intervals: gaps)
        assert not [r for r in (later if isinstance(later, list) else []) if r.run_key.startswith("delivery-retry-")]


def test_each_failure_of_a_range_doubles_the_wait_up_to_two_hours():
    assert [delivery_retry.backoff(n) for n in (1, 2, 3, 6, 10)] == [
        timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=120),
        timedelta(minutes=120)]


def test_an_interval_older_than_the_retry_window_is_given_up(tmp_path, landing, warehouse, monkeypatch):
    monkeypatch.setenv("CC_DELIVERY_RETRY_HOURS", "24")  # 2026-01-05 is far more than a day ago
    landing.write("ctr/2026/01/05/10/s-1-a", concat(leg("a", enqueue="09:05:00")))
    with instance_for(make_dagster_home(tmp_path)) as instance:
        dg.materialize([stg_ctr], resources={"landing": landing, "warehouse": warehouse}, instance=instance)
        failed = interval_reports(landing, warehouse, sftp_at(tmp_path, free_port())).execute_in_process(
            instance=instance, partition_key="2026-01-05-09:00", raise_on_error=False)
        assert not failed.success
        assert isinstance(tick(instance, monkeypatch, after=timedelta(hours=1)), dg.SkipReason)
