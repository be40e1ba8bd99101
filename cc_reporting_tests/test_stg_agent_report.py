"""Staging of the scheduled TeleoptiAgentPerformance report (connect-formats.md §4)."""
import os
from datetime import datetime, timezone

from cc_reporting.staging.assets import stg_agent_report

from .conftest import fixture_bytes, materialize, query

HEADER = ("Agent,StartInterval,EndInterval,Agent Name,Agent on contact time,Agent idle time,Non-Productive Time,"
          "Online time,Occupancy")


def ts(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def rows(warehouse):
    return query(warehouse, """SELECT agent_username, strftime(interval_start, '%H:%M'), agent_name, online_s,
                                      non_productive_s, idle_s, on_contact_s, occupancy
                               FROM stg_agent_report ORDER BY 1, 2""")


def test_fixture_report_is_parsed_by_header_name_and_dash_is_null(landing, warehouse):
    landing.write("reports/TeleoptiAgentPerformance-2026-01-05T10:15:00Z.csv", fixture_bytes("agent_report_sample.csv"))
    materialize([stg_agent_report], landing, warehouse)
    assert rows(warehouse) == [
        ("jane.doe", "09:00", "Jane Doe", 1800, 300, 420, 1080, 0.72),
        ("jane.doe", "09:30", "Jane Doe", 1800, 0, 300, 1500, 0.8333),
        ("sam.lee", "09:00", "Sam Lee", 1200, None, 300, 900, 0.75),
        ("sam.lee", "09:30", "Sam Lee", 1800, 600, 360, 840, 0.70),
    ]


def test_column_order_extra_columns_bom_crlf_and_decimal_seconds_are_tolerated(landing, warehouse):
    body = ("\ufeffOnline time,Extra,Agent Idle,Agent,Agent idle time,Non-Productive Time,EndInterval,StartInterval\r\n"
            "1799.6,x,1,kim.ng,600,,2026-01-05T10:30:00.000Z,2026-01-05T10:00:00.000Z\r\n")
    landing.write("reports/TeleoptiAgentPerformance-a.csv", body.encode())
    materialize([stg_agent_report], landing, warehouse)
    assert rows(warehouse) == [("kim.ng", "10:00", None, 1800, None, 600, None, None)]


def test_missing_required_column_quarantines_the_file(landing, warehouse):
    landing.write("reports/TeleoptiAgentPerformance-bad.csv", b"Agent,StartInterval,EndInterval\nx,a,b\n")
    landing.write("reports/TeleoptiAgentPerformance-good.csv", fixture_bytes("agent_report_sample.csv"))
    result = materialize([stg_agent_report], landing, warehouse)
    assert len(rows(warehouse)) == 4
    reason = landing.read("quarantine/reports/TeleoptiAgentPerformance-bad.csv.reason.txt").decode()
    assert "Online time" in reason and "Agent idle time" in reason
    assert not result.get_asset_check_evaluations()[0].passed


def test_unreadable_row_is_skipped_and_the_rest_of_the_file_loads(landing, warehouse):
    body = HEADER + "\nx.y,not-a-time,2026-01-05T10:30:00.000Z,,,,,1,\n" + \
        "kim.ng,2026-01-05T10:00:00.000Z,2026-01-05T10:30:00.000Z,,,5,0,100,\n"
    landing.write("reports/TeleoptiAgentPerformance-mixed.csv", body.encode())
    materialize([stg_agent_report], landing, warehouse)
    assert [r[0] for r in rows(warehouse)] == ["kim.ng"]
    assert query(warehouse, "SELECT status FROM ingest_ledger") == [("partial",)]


def test_overlapping_reports_the_file_created_last_wins(landing, warehouse):
    first = HEADER + "\njane.doe,2026-01-05T09:00:00.000Z,2026-01-05T09:30:00.000Z,Jane Doe,1,1,1,900,\n"
    second = HEADER + "\njane.doe,2026-01-05T09:00:00.000Z,2026-01-05T09:30:00.000Z,Jane Doe,1,1,1,1800,\n"
    landing.write("reports/TeleoptiAgentPerformance-2026-01-05T10-15-00Z.csv", second.encode())
    landing.write("reports/TeleoptiAgentPerformance-2026-01-05T09-45-00Z.csv", first.encode())
    os.utime(landing._local("reports/TeleoptiAgentPerformance-2026-01-05T09-45-00Z.csv"), (1_700_000_000,) * 2)
    os.utime(landing._local("reports/TeleoptiAgentPerformance-2026-01-05T10-15-00Z.csv"), (1_700_001_800,) * 2)
    materialize([stg_agent_report], landing, warehouse)
    assert rows(warehouse)[0][3] == 1800
    # Re-reading the older file later changes nothing: it was created earlier.
    landing.write("reports/TeleoptiAgentPerformance-2026-01-05T09-45-00Z.csv", first.encode() + b"\n")
    os.utime(landing._local("reports/TeleoptiAgentPerformance-2026-01-05T09-45-00Z.csv"), (1_700_000_001,) * 2)
    materialize([stg_agent_report], landing, warehouse)
    assert rows(warehouse)[0][3] == 1800


def test_no_reports_configured_gives_an_empty_table_and_says_so(landing, warehouse):
    result = materialize([stg_agent_report], landing, warehouse)
    meta = result.asset_materializations_for_node("stg_agent_report")[0].metadata
    assert meta["dagster/row_count"].value == 0 and "no agent reports" in meta["note"].value
    assert result.get_asset_check_evaluations()[0].passed


def test_other_files_under_reports_are_ignored(landing, warehouse):
    landing.write("reports/SomeOtherReport-2026.csv", fixture_bytes("agent_report_sample.csv"))
    landing.write("reports/TeleoptiAgentPerformance-2026.txt", fixture_bytes("agent_report_sample.csv"))
    materialize([stg_agent_report], landing, warehouse)
    assert rows(warehouse) == []
