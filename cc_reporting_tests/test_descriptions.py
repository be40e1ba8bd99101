"""Everything the UI lists is described, and automation that starts by itself says so there and in the README."""
import re
from pathlib import Path

import dagster as dg

from cc_reporting.definitions import defs
from cc_reporting.ingest.automation import RUNNING_BY_DEFAULT

README = Path(__file__).resolve().parents[1] / "README.md"
REPOSITORY = defs.get_repository_def()
AUTOMATION = [*REPOSITORY.sensor_defs, *REPOSITORY.schedule_defs]


def _running(definition) -> bool:
    return definition.default_status in (dg.DefaultSensorStatus.RUNNING, dg.DefaultScheduleStatus.RUNNING)


def _kind(definition) -> str:
    return "sensor" if isinstance(definition, dg.SensorDefinition) else "schedule"


def readme_automation_table() -> dict[str, list[str]]:
    section = README.read_text().split("### Automation that runs by itself", 1)[1].split("\n### ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| `")]
    return {re.sub(r"`", "", cells[0]).strip(): [c.strip() for c in cells[1:]] for cells in rows}


def test_every_job_schedule_sensor_and_asset_has_a_description():
    jobs = [job for job in REPOSITORY.get_all_jobs() if not job.name.startswith("__")]  # Dagster's implicit job
    assert len(jobs) >= 11 and len(AUTOMATION) == 16
    undescribed = [d.name for d in [*jobs, *AUTOMATION] if not (d.description or "").strip()]
    graph = defs.resolve_asset_graph()
    undescribed += [k.to_user_string() for k in graph.get_all_asset_keys()
                    if not (graph.get(k).description or "").strip()]
    assert undescribed == []


def test_every_sensor_and_schedule_running_by_default_says_so_and_how_to_stop_it():
    running = [d for d in AUTOMATION if _running(d)]
    assert len(running) == 14
    for definition in running:
        assert RUNNING_BY_DEFAULT in definition.description, definition.name
        assert f"dagster {_kind(definition)} stop {definition.name}" in definition.description, definition.name


def test_the_readme_lists_every_sensor_and_schedule_with_its_default_status_and_interval():
    table = readme_automation_table()
    assert set(table) == {d.name for d in AUTOMATION}
    for definition in AUTOMATION:
        status, when, _starts = table[definition.name]
        assert status == ("RUNNING" if _running(definition) else "STOPPED"), definition.name
        if isinstance(definition, dg.SensorDefinition):
            assert when == f"every {definition.minimum_interval_seconds} s", definition.name
        else:
            assert when == f"`{definition.cron_schedule}` {definition.execution_timezone}", definition.name
