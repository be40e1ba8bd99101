"""`cc-reporting run` without a window reports only what has data and was not reported since it last changed,
each such day whole, under the code location's named jobs."""
from datetime import date, datetime, timezone

import dagster as dg

from cc_reporting.pipeline import run_window
from cc_reporting.resources.landing import LandingZone
from cc_reporting.simulate import simulate

from .test_partition_range import resources_for

DAY, LATER = datetime(2026, 1, 5, tzinfo=timezone.utc), datetime(2026, 1, 20, tzinfo=timezone.utc)


def _simulate(tmp_path, day, seed=7):
    simulate(day, 2, 3, seed, LandingZone(uri=str(tmp_path / "landing")), str(tmp_path / "landing" / "agent-events"))


def _runs(invocation_runs_before: int):
    with dg.DagsterInstance.get() as instance:
        runs = list(reversed(instance.get_runs()))
    return runs[invocation_runs_before:], len(runs)


def test_a_second_run_reports_only_the_day_whose_data_changed_and_a_third_reports_nothing(tmp_path, monkeypatch):
    """Each day of the default window is reported whole (two hours of data: all 96 intervals get their files, as a
    Teleopti load expects) under the code location's named jobs, never `__ephemeral_asset_job__`."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    for day in (DAY, LATER):
        _simulate(tmp_path, day)
    first = run_window(resources=resources_for(tmp_path))
    assert first.success, first.failures
    assert first.reported_days == [date(2026, 1, 5), date(2026, 1, 20)]
    assert len(list((tmp_path / "outbox" / "queue_stats").glob("queue_stats_20260105_*.csv"))) == 96
    runs, seen = _runs(0)
    assert [r.job_name for r in runs] == ["ingest_all"] + 2 * ["interval_reports", "teleopti_agent_performance_job",
                                                               "kpi_daily_job"]

    _simulate(tmp_path, LATER.replace(hour=5), seed=8)   # more contacts land for 2026-01-20 only
    second = run_window(resources=resources_for(tmp_path))
    assert second.success, second.failures
    assert second.reported_days == [date(2026, 1, 20)]
    runs, seen = _runs(seen)
    assert {r.tags["dagster/asset_partition_range_start"][:10] for r in runs
            if "dagster/asset_partition_range_start" in r.tags} == {"2026-01-20"}

    third = run_window(resources=resources_for(tmp_path))
    assert third.success, third.failures
    assert third.reported_days == [] and third.window is None
    assert any("nothing new to report" in note for note in third.notes), third.notes
    runs, _ = _runs(seen)
    assert [r.job_name for r in runs] == ["ingest_all"]
