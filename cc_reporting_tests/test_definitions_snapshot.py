"""The code location matches its reviewed snapshot: a change to the graph shows as a diff of golden/definitions.json."""
import difflib

from cc_reporting_tests.definitions_snapshot import SNAPSHOT, render, snapshot


def test_definitions_match_the_reviewed_snapshot():
    expected, actual = SNAPSHOT.read_text(), render(snapshot())
    diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                        "golden/definitions.json", "the code location"))
    assert not diff, ("the definitions changed; if meant, run `python -m cc_reporting_tests.definitions_snapshot "
                      "--write` and commit the reviewed diff:\n" + diff)


def test_the_snapshot_sees_what_it_claims_to():
    """Guard against a snapshot that cannot fail: it names every kind of definition with its details."""
    data = snapshot()
    assert {"stg_ctr", "jar", "teleopti_queue_stats", "kpi_daily"} <= set(data["assets"])
    assert data["assets"]["teleopti_queue_stats"]["partitions"].startswith("TimeWindowPartitionsDefinition(*/15")
    assert "delivered_on_time" in data["assets"]["teleopti_queue_stats"]["checks"]
    assert data["jobs"]["interval_reports"]["assets"]
    assert data["schedules"]["interval_reports_schedule"]["cron"] == "10,25,40,55 * * * *"
    assert data["sensors"]["ctr_landing_sensor"]["jobs"] == ["ingest_ctr"]
