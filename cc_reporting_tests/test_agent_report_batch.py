"""The agent report staged by one DuckDB read per batch agrees, row for row, with the Python parser it falls back to;
an object with a row the rules might read differently goes to Python whole, with the reasons and rows as before."""
import gzip
import os
from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from cc_reporting.ingest.batch import ingest_objects
from cc_reporting.resources.landing import LandingObject
from cc_reporting.staging import agent_report_table
from cc_reporting.staging.agent_report_batch import ReportFile
from cc_reporting.staging.schema import ensure_staging_tables

from .conftest import TEST_SALT, fixture_bytes

T0 = datetime(2026, 1, 5, 12, tzinfo=timezone.utc)
HEADER = ("Agent,StartInterval,EndInterval,Agent Name,Agent on contact time,Agent idle time,Non-Productive Time,"
          "Online time,Occupancy")


def staged_rows(con):
    return con.execute("SELECT * EXCLUDE (ingested_at) FROM stg_agent_report ORDER BY ALL").fetchall()


def ingest(landing, python_only: bool, monkeypatch):
    """Stage every report of the landing zone; python_only: the Python parser for every object (the fallback)."""
    with monkeypatch.context() as patch:
        if python_only:
            patch.setattr(agent_report_table, "stage_report_body", lambda *args, **kwargs: None)
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        ensure_staging_tables(con, TEST_SALT)
        objects = [o for o in landing.list("reports/") if not o.key.startswith("quarantine/")]
        report = ingest_objects(con, landing, "agent_report", objects, agent_report_table.parse_agent_report,
                                agent_report_table.merge_agent_report_rows, "run1")
    ledger = con.execute("SELECT object_key, status, records, error FROM ingest_ledger ORDER BY object_key").fetchall()
    return staged_rows(con), ledger, report.merge_stats


def parse(body: bytes, key="reports/TeleoptiAgentPerformance-a.csv"):
    return agent_report_table.parse_agent_report(LandingObject(key, "e1", len(body), T0), body)


def assert_batch_and_fallback_agree(landing, monkeypatch):
    fast, slow = ingest(landing, False, monkeypatch), ingest(landing, True, monkeypatch)
    assert fast == slow
    assert fast[0], "nothing staged: the comparison would prove nothing"
    return fast


def test_batch_read_and_python_fallback_agree_on_the_fixture_report(landing, monkeypatch):
    body = fixture_bytes("agent_report_sample.csv")
    assert isinstance(parse(body).items[0], ReportFile)  # the fixture takes the DuckDB path
    landing.write("reports/TeleoptiAgentPerformance-2026-01-05T10:15:00Z.csv", body)
    assert len(assert_batch_and_fallback_agree(landing, monkeypatch)[0]) == 4


def _simulated_report(created: datetime, agents: int, names) -> bytes:
    lines = [HEADER]
    for n in range(agents):
        for step in range(4):
            start = created - timedelta(minutes=30 * (4 - step))
            seconds = (n * 37 + step * 11) % 1800
            lines.append(",".join([
                f"agent.{n:04d}", start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z"), names[n % len(names)],
                str(seconds), f"{1800 - seconds}.5" if n % 3 else "-", "-" if n % 5 == 0 else str(n % 600), "1800",
                f"{seconds / 18:.2f}%" if n % 7 else "-"]))
    return ("\r\n".join(lines) + "\r\n").encode()


def test_batch_read_and_python_fallback_agree_on_simulated_overlapping_reports(landing, monkeypatch):
    names = ["Emma Garcia", "Åsa Öberg", '"Lee, Sam"', '"Quote ""Q"" Doe"', "\u00a0Padded Name\u3000", "  "]
    for hour in range(3):
        created = T0 + timedelta(hours=hour)
        body = _simulated_report(created, 40, names)
        landing.write(f"reports/TeleoptiAgentPerformance-{created:%H}.csv", gzip.compress(body) if hour else body)
        os.utime(os.path.join(landing.uri, f"reports/TeleoptiAgentPerformance-{created:%H}.csv"),
                 (created.timestamp(), created.timestamp()))
    assert isinstance(parse(body).items[0], ReportFile)
    rows, ledger, stats = assert_batch_and_fallback_agree(landing, monkeypatch)
    assert [status for _, status, _, _ in ledger] == ["ingested"] * 3 and stats["replaced_rows"] == 0
    assert {r[3] for r in rows} >= {"Åsa Öberg", "Lee, Sam", 'Quote "Q" Doe', "Padded Name", None}


def test_first_and_last_name_columns_reordered_and_extra_columns_agree(landing, monkeypatch):
    body = ("Agent First Name,Occupancy,Agent,Extra,EndInterval,StartInterval,Agent Last Name,Online time,"
            "Agent idle time,Non-Productive Time\n"
            "Kim,50,kim.ng,x,2026-01-05T10:30:00+01:00,2026-01-05T10:00:00+01:00,Ng,1799.49,0.5,-\n"
            ",83.333%,lee,,2026-01-05 10:30:00.000000Z,2026-01-05 10:00:00.000000Z, Lee ,12,,\n"
            "-,,solo,,2026-01-05T10:30:00Z,2026-01-05T10:00:00Z,-,0,0,0\n").encode()
    assert isinstance(parse(body).items[0], ReportFile)
    landing.write("reports/TeleoptiAgentPerformance-b.csv", body)
    rows = assert_batch_and_fallback_agree(landing, monkeypatch)[0]
    assert [(r[0], r[3]) for r in rows] == [("kim.ng", "Kim Ng"), ("lee", "Lee"), ("solo", None)]


@pytest.mark.parametrize("row", [
    "x,2026-01-05T10:00:00.000Z,2026-01-05T10:30:00.000Z,,1,1,1e3,1800,",        # 1e3: Python reads 1000
    "x,2026-01-05T24:00:00.000Z,2026-01-05T10:30:00.000Z,,1,1,1,1800,",          # 24:00: DuckDB reads next day
    "x,2026-02-30T10:00:00.000Z,2026-01-05T10:30:00.000Z,,1,1,1,1800,",          # no such day
    "x,2026-01-05T10:00:00,2026-01-05T10:30:00,,1,1,1,1800,",                    # no offset
    'x, "2026-01-05T10:00:00.000Z",2026-01-05T10:30:00.000Z,,1,1,1,1800,',        # quote after a space: literal
    "x,2026-01-05T10:00:00.000Z,2026-01-05T10:30:00.000Z,,nan,1,1,1800,",
    "x,2026-01-05T10:00:00.000Z,2026-01-05T10:30:00.000Z,,-3.5,1,1,1800,",       # int() truncates toward zero
    "x,2026-01-05T10:00:00.000Z,2026-01-05T10:30:00.000Z,,1,1,1,1800,83 %",
    "x,2026-01-05T10:00:00.000Z,2026-01-05T10:30:00.000Z,,1,1,1,1800,\r2nd",      # a lone CR ends a line
    ",2026-01-05T10:00:00.000Z,2026-01-05T10:30:00.000Z,,1,1,1,1800,",           # no Agent: a bad row
    "x,2026-01-05T10:00:00.000Z,2026-01-05T10:30:00.000Z,,1,1,1,1800,,extra",
])
def test_a_doubtful_row_sends_its_object_to_python_and_the_outcome_is_unchanged(landing, monkeypatch, row):
    good = "ok,2026-01-05T09:00:00.000Z,2026-01-05T09:30:00.000Z,Ok,1,2,3,1800,50%"
    body = f"{HEADER}\n{good}\n{row}\n".encode()
    assert not any(isinstance(item, ReportFile) for item in parse(body).items)
    landing.write("reports/TeleoptiAgentPerformance-doubtful.csv", body)
    landing.write("reports/TeleoptiAgentPerformance-fine.csv", fixture_bytes("agent_report_sample.csv"))
    assert_batch_and_fallback_agree(landing, monkeypatch)


def test_one_bad_row_in_a_batch_is_isolated_as_before(landing, monkeypatch):
    bad = (f"{HEADER}\nok,2026-01-05T09:00:00.000Z,2026-01-05T09:30:00.000Z,Ok,1,2,3,1800,50%\n"
           "x.y,not-a-time,2026-01-05T10:30:00.000Z,,,,,1,\n").encode()
    landing.write("reports/TeleoptiAgentPerformance-1.csv", fixture_bytes("agent_report_sample.csv"))
    landing.write("reports/TeleoptiAgentPerformance-2.csv", bad)
    landing.write("reports/TeleoptiAgentPerformance-3.csv", b"Agent,StartInterval\nx,y\n")
    rows, ledger, _ = assert_batch_and_fallback_agree(landing, monkeypatch)
    assert [(key[-5:], status, records) for key, status, records, _ in ledger] == [
        ("1.csv", "ingested", 4), ("2.csv", "partial", 1), ("3.csv", "quarantined", 0)]
    assert ledger[1][3] == "1 unreadable row(s): line 3: Invalid isoformat string: 'not-a-time'"
    assert len(rows) == 5


def test_oversized_row_goes_to_python_and_is_refused_per_max_record_bytes(landing, monkeypatch):
    monkeypatch.setenv("CC_MAX_RECORD_BYTES", "200")
    long_name = "N" * 150
    body = (f"{HEADER}\nok,2026-01-05T09:00:00.000Z,2026-01-05T09:30:00.000Z,{long_name},1,2,3,1800,50%\n"
            "ok,2026-01-05T09:30:00.000Z,2026-01-05T10:00:00.000Z,Ok,1,2,3,1800,50%\n").encode()
    assert not any(isinstance(item, ReportFile) for item in parse(body).items)
    landing.write("reports/TeleoptiAgentPerformance-long.csv", body)
    rows, ledger, _ = assert_batch_and_fallback_agree(landing, monkeypatch)
    assert ledger[0][1] == "partial" and "CC_MAX_RECORD_BYTES" in ledger[0][3] and len(rows) == 1


def test_staged_report_files_are_removed_once_merged(monkeypatch):
    parsed = parse(fixture_bytes("agent_report_sample.csv"))
    path = parsed.items[0].staged.path
    assert os.path.exists(path) and oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"
    con = duckdb.connect()
    ensure_staging_tables(con, TEST_SALT)
    agent_report_table.merge_agent_report_rows(con, parsed.items, "b1", T0)
    assert not os.path.exists(path)
    assert len(staged_rows(con)) == 4
