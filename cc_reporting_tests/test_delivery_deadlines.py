"""Delivery deadlines: an interval not delivered lag + 10 minutes after it ends shows as overdue (a WARN check).

Rules by name with their boundaries, then the checks and their sensor through a real DagsterInstance built from the
project's dagster.yaml, as the daemon would run them.
"""
from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest

from cc_reporting.models.teleopti import deadlines
from cc_reporting.models.teleopti.deadlines import day_due, deadline_result, interval_due
from cc_reporting.resources import build_resources
from cc_reporting_tests.dagster_home import instance_for, make_dagster_home

UTC = timezone.utc


def test_teleopti_interval_is_due_lag_plus_ten_minutes_after_it_ends():
    # 11:45-12:00 with a 5-minute lag: due at 12:15:00 exactly, not a second before.
    at_deadline = interval_due(datetime(2026, 3, 10, 12, 15, tzinfo=UTC), lag_minutes=5, length_minutes=15)
    assert at_deadline.partition_key == "2026-03-10-11:45"
    assert at_deadline.deadline == datetime(2026, 3, 10, 12, 15, tzinfo=UTC)
    before = interval_due(datetime(2026, 3, 10, 12, 14, 59, tzinfo=UTC), lag_minutes=5, length_minutes=15)
    assert before.partition_key == "2026-03-10-11:30"


def test_teleopti_deadline_follows_the_lag_setting():
    # A 20-minute lag: 11:45-12:00 is due at 12:30.
    assert interval_due(datetime(2026, 3, 10, 12, 29, 59, tzinfo=UTC), 20, 15).partition_key == "2026-03-10-11:30"
    assert interval_due(datetime(2026, 3, 10, 12, 30, tzinfo=UTC), 20, 15).partition_key == "2026-03-10-11:45"


def test_agent_performance_window_is_due_report_lag_plus_ten_minutes_after_it_ends():
    due = interval_due(datetime(2026, 3, 10, 12, 0, tzinfo=UTC), lag_minutes=20, length_minutes=30)
    assert (due.partition_key, due.deadline) == ("2026-03-10-11:00", datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    assert interval_due(datetime(2026, 3, 10, 11, 59, tzinfo=UTC), 20, 30).partition_key == "2026-03-10-10:30"


@pytest.mark.parametrize("now, expected_day", [
    (datetime(2026, 3, 10, 23, 10, tzinfo=UTC), "2026-03-10"),   # 01:10 Helsinki (UTC+2): the 10th is due
    (datetime(2026, 3, 10, 23, 9, 59, tzinfo=UTC), "2026-03-09"),
    (datetime(2026, 3, 29, 22, 10, tzinfo=UTC), "2026-03-29"),   # after the spring change (UTC+3): 01:10 local
    (datetime(2026, 3, 29, 22, 9, 59, tzinfo=UTC), "2026-03-28"),
])
def test_daily_kpis_are_due_at_0110_local_the_next_day(now, expected_day):
    assert day_due(now, "Europe/Helsinki").partition_key == expected_day


@pytest.fixture()
def instance(tmp_path):
    with instance_for(make_dagster_home(tmp_path)) as built:
        yield built


def _deliver(instance, asset_name, partition_key):
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=asset_name, partition=partition_key))


def test_an_undelivered_interval_is_overdue_by_the_time_past_its_deadline(instance):
    now = datetime(2026, 3, 10, 12, 29, tzinfo=UTC)  # 11:45-12:00 due 12:15 with the default 5-minute lag
    result = deadline_result(instance, dg.AssetKey("teleopti_queue_stats"), now)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["partition due"].value == "2026-03-10-11:45"
    assert result.metadata["overdue_seconds"].value == 14 * 60


def test_a_delivered_interval_passes_and_another_assets_delivery_does_not_count(instance):
    now = datetime(2026, 3, 10, 12, 29, tzinfo=UTC)
    _deliver(instance, "teleopti_contacts", "2026-03-10-11:45")
    _deliver(instance, "teleopti_queue_stats", "2026-03-10-11:30")  # the previous interval is not the one due
    assert deadline_result(instance, dg.AssetKey("teleopti_contacts"), now).passed
    assert not deadline_result(instance, dg.AssetKey("teleopti_queue_stats"), now).passed


def test_nothing_is_due_before_the_first_partition(instance):
    before_start = deadlines.partitions_start() - timedelta(hours=1)
    assert deadline_result(instance, dg.AssetKey("teleopti_queue_stats"), before_start).passed


def test_the_sensor_runs_every_deadline_check_once_per_new_deadline_and_the_run_shows_overdue(instance):
    defs = dg.Definitions(assets=deadlines.DEADLINE_ASSETS, asset_checks=deadlines.deadline_checks,
                          sensors=[deadlines.delivery_deadline_sensor], resources=build_resources())
    sensor = defs.get_sensor_def("delivery_deadline_sensor")
    context = dg.build_sensor_context(instance=instance, definitions=defs)
    request = sensor.evaluate_tick(context).run_requests
    assert len(request) == 1
    assert {key.asset_key.to_user_string() for key in request[0].asset_check_keys} == {
        a.key.to_user_string() for a in deadlines.DEADLINE_ASSETS}
    again = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs,
                                                         cursor=context.cursor))
    assert again.run_requests == [] and "no new deadline" in again.skip_message

    # The run the sensor asked for, on the same instance: the due contacts interval delivered, the rest overdue.
    due = interval_due(datetime.now(UTC), 5, 15).partition_key
    _deliver(instance, "teleopti_contacts", due)
    result = dg.materialize([*deadlines.DEADLINE_ASSETS, *deadlines.deadline_checks], instance=instance,
                            resources=build_resources(),
                            selection=dg.AssetSelection.checks(*deadlines.deadline_checks))
    outcome = {e.asset_key.to_user_string(): e.passed for e in result.get_asset_check_evaluations()}
    if interval_due(datetime.now(UTC), 5, 15).partition_key != due:  # a deadline passed during the test
        pytest.skip("a deadline passed between delivering and checking; rerun")
    assert outcome == {"teleopti_contacts": True, "teleopti_queue_stats": False,
                       "teleopti_agent_queue_stats": False, "kpi_interval": False,
                       "teleopti_agent_performance": False, "kpi_daily": False}
    assert not result.get_asset_materialization_events()  # checks only: no asset was rebuilt
