"""The simulator's day through the whole pipeline: nothing quarantined, and every total reconciles."""
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cc_reporting.pipeline import run_window
from cc_reporting.resources.landing import LandingZone
from cc_reporting.simulate import simulate
from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.models.teleopti.rules import IS_ABANDONED, IS_ANSWERED, IS_QUEUED

from .conftest import query

DAY = datetime(2026, 1, 5, tzinfo=timezone.utc)
END = datetime(2026, 1, 6, tzinfo=timezone.utc)


@pytest.fixture
def simulated_day(tmp_path, warehouse):
    landing = LandingZone(uri=str(tmp_path / "landing"))
    summary = simulate(DAY, 24, 15, 7, landing, str(tmp_path / "landing" / "agent-events"))
    resources = {"landing": landing, "warehouse": warehouse, "teleopti_sftp": TeleoptiSftp()}
    result = run_window(DAY, END, resources=resources)
    assert result.success, result.failures
    return summary, resources, result


def test_simulated_day_stages_without_quarantine_and_dedupes_to_the_simulated_legs(simulated_day):
    summary, resources, _ = simulated_day
    wh = resources["warehouse"]
    assert query(wh, "SELECT count(*) FROM ingest_ledger WHERE status <> 'ingested'") == [(0,)]
    assert query(wh, "SELECT count(*) FROM ingest_ledger WHERE source = 'ctr'")[0][0] == summary.ctr_objects
    assert query(wh, "SELECT count(*) FROM stg_ctr")[0][0] == summary.contacts
    assert summary.duplicates + summary.updates > 0  # re-sends really happened and were deduplicated
    queued, answered, abandoned, left = query(wh, f"""SELECT count(*) FILTER (WHERE {IS_QUEUED}),
        count(*) FILTER (WHERE {IS_QUEUED} AND {IS_ANSWERED}), count(*) FILTER (WHERE {IS_QUEUED} AND {IS_ABANDONED}),
        count(*) FILTER (WHERE {IS_QUEUED} AND NOT {IS_ANSWERED} AND NOT {IS_ABANDONED}) FROM stg_ctr""")[0]
    assert (queued, answered, abandoned, left) == (summary.queued, summary.answered, summary.abandoned,
                                                   summary.transferred_unanswered)
    assert queued == answered + abandoned + left


def test_simulated_agent_report_online_time_equals_the_agent_timeline(simulated_day):
    summary, resources, _ = simulated_day
    staged = dict(query(resources["warehouse"],
                        "SELECT agent_username, sum(online_s) FROM stg_agent_report GROUP BY 1"))
    assert staged == {agent: seconds for agent, seconds in summary.agent_online_seconds.items() if seconds}


def test_simulated_day_teleopti_files_reconcile_with_staging(simulated_day, tmp_path):
    summary, resources, _ = simulated_day
    wh = resources["warehouse"]
    outbox = Path(tmp_path / "outbox")
    for kind in ("queue_stats", "agent_queue_stats", "contacts", "agent_performance"):
        assert len(list((outbox / kind).glob("*.csv"))) == 96, kind
    offered = answered = 0
    for path in (outbox / "queue_stats").glob("*.csv"):
        for line in path.read_text().splitlines():
            fields = line.split(";")
            offered += int(fields[5]) + int(fields[6])
            answered += int(fields[9])
    in_day = query(wh, f"""SELECT count(*) FILTER (WHERE {IS_QUEUED}), count(*) FILTER (WHERE {IS_QUEUED} AND {IS_ANSWERED})
                           FROM stg_ctr WHERE enqueue_ts >= ? AND enqueue_ts < ?""", [DAY, END])[0]
    assert (offered, answered) == in_day
    contact_rows = sum(len(p.read_text().splitlines()) - 1 for p in (outbox / "contacts").glob("*.csv"))
    assert contact_rows == query(wh, """SELECT count(*) FROM stg_ctr
        WHERE coalesce(enqueue_ts, initiation_ts) >= ? AND coalesce(enqueue_ts, initiation_ts) < ?""", [DAY, END])[0][0]
    online = sum(int(line.split(";")[5]) for p in (outbox / "agent_performance").glob("*.csv")
                 for line in p.read_text().splitlines())
    assert online == query(wh, "SELECT sum(online_s) FROM stg_agent_report WHERE interval_start >= ? AND "
                               "interval_start < ?", [DAY, END])[0][0]


def test_simulated_day_rerun_is_byte_identical(simulated_day, tmp_path):
    _, resources, _ = simulated_day
    outbox = Path(tmp_path / "outbox")
    before = {p: p.read_bytes() for p in outbox.rglob("*.csv")}
    assert run_window(DAY, END, resources=resources).success
    assert {p: p.read_bytes() for p in outbox.rglob("*.csv")} == before
