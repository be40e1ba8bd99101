"""The simulator's day through the whole pipeline: nothing quarantined, and every total reconciles."""
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.models.teleopti.rules import IS_ABANDONED, IS_ANSWERED, IS_QUEUED
from cc_reporting.pipeline import run_window
from cc_reporting.resources.landing import LandingZone
from cc_reporting.resources.warehouse import Warehouse
from cc_reporting.simulate import simulate

from .conftest import query

DAY = datetime(2026, 1, 5, tzinfo=timezone.utc)
END = datetime(2026, 1, 6, tzinfo=timezone.utc)


def day_env(base: Path) -> dict:
    return {"CC_PII_SALT": "sim-salt", "CC_DATA_DIR": str(base / "data"), "CC_LANDING_URI": str(base / "landing"),
            "CC_WAREHOUSE_PATH": str(base / "warehouse" / "cc.duckdb"), "CC_EXPORT_DIR": str(base / "exports"),
            "CC_TELEOPTI_OUTBOX": str(base / "outbox"), "CC_AGENT_EVENTS": str(base / "landing" / "agent-events"),
            "CC_RTA_DIR": str(base / "rta")}


@pytest.fixture(scope="module")
def simulated_day(tmp_path_factory):
    """One simulated 15-agent day run through the whole pipeline, shared by this module's read-only tests."""
    base = tmp_path_factory.mktemp("simulated_day")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in day_env(base).items():
            mp.setenv(name, value)
        landing = LandingZone(uri=str(base / "landing"))
        summary = simulate(DAY, 24, 15, 7, landing, str(base / "landing" / "agent-events"))
        resources = {"landing": landing, "warehouse": Warehouse(database=str(base / "warehouse" / "cc.duckdb")),
                     "teleopti_sftp": TeleoptiSftp()}
        result = run_window(DAY, END, resources=resources)
    assert result.success, result.failures
    return summary, resources, base


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


def test_simulated_day_teleopti_files_reconcile_with_staging(simulated_day):
    summary, resources, base = simulated_day
    wh = resources["warehouse"]
    outbox = base / "outbox"
    for kind in ("queue_stats", "agent_queue_stats", "contacts", "agent_performance"):
        assert len(list((outbox / kind).glob("*.csv"))) == 96, kind
    offered = answered = 0
    for path in (outbox / "queue_stats").glob("*.csv"):
        for line in path.read_text().splitlines():
            fields = line.split(";")
            offered += int(fields[5]) + int(fields[6])
            answered += int(fields[9])
    in_day = query(wh, f"""SELECT count(*) FILTER (WHERE {IS_QUEUED}),
                                  count(*) FILTER (WHERE {IS_QUEUED} AND {IS_ANSWERED})
                           FROM stg_ctr WHERE enqueue_ts >= ? AND enqueue_ts < ?""", [DAY, END])[0]
    assert (offered, answered) == in_day
    contact_rows = sum(len(p.read_text().splitlines()) - 1 for p in (outbox / "contacts").glob("*.csv"))
    assert contact_rows == query(wh, """SELECT count(*) FROM stg_ctr
        WHERE coalesce(enqueue_ts, initiation_ts) >= ? AND coalesce(enqueue_ts, initiation_ts) < ?""", [DAY, END])[0][0]
    file_rows = sum(len(p.read_text().splitlines()) for p in (outbox / "agent_performance").glob("*.csv"))
    assert file_rows == query(wh, "SELECT count(*) FROM teleopti_agent_performance")[0][0]


def test_simulated_agent_performance_comes_from_agent_events_and_matches_the_report(simulated_day):
    """Events cover the whole simulated day, so every row is computed from the state timeline at 15 minutes; the
    two 15-minute rows of each agent and half hour add up to the report's 30-minute row within 2 s (rounding)."""
    _, resources, _ = simulated_day
    wh = resources["warehouse"]
    assert query(wh, "SELECT DISTINCT source FROM teleopti_agent_performance") == [("agent events",)]
    worst = query(wh, """
        WITH perf AS (SELECT agent_id, time_bucket(INTERVAL 30 MINUTE, interval_start) AS half_hour,
                             sum(tot_work_dur) AS online, sum(pause_dur) AS pause, sum(wait_dur) AS idle
                      FROM teleopti_agent_performance GROUP BY ALL)
        SELECT max(abs(p.online - r.online_s)), max(abs(p.pause - coalesce(r.non_productive_s, 0))),
               max(abs(p.idle - r.idle_s)), count(*)
        FROM perf p JOIN stg_agent_report r ON r.agent_username = p.agent_id AND r.interval_start = p.half_hour""")[0]
    assert worst[3] > 100 and max(worst[:3]) <= 2, worst


def test_simulated_day_analytics_cover_every_leg_session_and_customer(simulated_day):
    summary, resources, _ = simulated_day
    wh = resources["warehouse"]
    legs, sessions = query(wh, "SELECT (SELECT count(*) FROM stg_ctr), (SELECT count(*) FROM stg_channel_session)")[0]
    assert query(wh, "SELECT count(*), count(DISTINCT \"SessionId\") FROM jar")[0] == (legs + sessions, legs + sessions)
    assert sessions == summary.chat_sessions > 0
    missing = query(wh, """SELECT count(*) FROM (SELECT DISTINCT "CUST_ID" FROM jar WHERE "CUST_ID" IS NOT NULL)
                           WHERE "CUST_ID" NOT IN (SELECT "Cust_ID" FROM car)""")[0][0]
    assert missing == 0
    assert query(wh, "SELECT count(*) FROM car WHERE in_crm")[0][0] == summary.crm_customers


def test_simulated_day_kpis_reconcile_with_the_teleopti_queue_statistics(simulated_day):
    _, resources, _ = simulated_day
    wh = resources["warehouse"]
    kpi = query(wh, """SELECT sum(offered), sum(overflow_in), sum(answered), sum(abandoned), sum(short_abandons),
                              sum(answered_within_sla), sum(queue_answered_s), sum(talk_s + hold_s), sum(acw_s)
                       FROM kpi_interval""")[0]
    teleopti = query(wh, """SELECT sum(offd_direct_call_cnt), sum(overflow_in_call_cnt), sum(answ_call_cnt),
                                   sum(aband_call_cnt), sum(aband_short_call_cnt), sum(ans_servicelevel_cnt),
                                   sum(queued_and_answ_call_dur), sum(talking_call_dur), sum(wrap_up_dur)
                            FROM teleopti_queue_stats""")[0]
    assert kpi == teleopti and kpi[2] > 0
    daily = query(wh, "SELECT sum(offered), sum(answered) FROM kpi_daily WHERE grain = 'queue'")[0]
    assert daily == (kpi[0], kpi[2])


def test_simulated_day_exports_and_dashboard_exist(simulated_day):
    import duckdb

    exports = simulated_day[2] / "exports"
    assert (exports / "dashboard" / "kpi-dashboard-2026-01-05.html").exists()
    con = duckdb.connect()
    for table in ("jar", "kpi_interval", "kpi_daily"):
        rows = con.execute(
            f"SELECT count(*) FROM read_parquet('{exports}/{table}/date=2026-01-05/*.parquet')").fetchone()
        assert rows[0] > 0, table
    car_columns = [d[0] for d in
                   con.execute(f"SELECT * FROM read_parquet('{exports}/car/*/*.parquet') LIMIT 0").description]
    assert "Cust_ID" in car_columns
    assert not {"Age", "Ethnicity", "MaritalStatus", "GrossAnnualIncome"} & set(car_columns)


def test_simulated_day_rerun_is_byte_identical(simulated_day, monkeypatch):
    _, resources, base = simulated_day
    for name, value in day_env(base).items():
        monkeypatch.setenv(name, value)
    outputs = [*(base / "outbox").rglob("*.csv"), *(base / "exports").rglob("*.parquet"),
               *(base / "exports").rglob("*.html")]
    before = {p: p.read_bytes() for p in outputs}
    assert run_window(DAY, END, resources=resources).success
    assert {p: p.read_bytes() for p in outputs} == before
