"""The CRM extract's cells read by DuckDB's read_csv agree with csv.reader's (the fallback); an extract DuckDB might
read differently goes to csv.reader whole, with the same refusal, reason and customers as before."""
import gzip
import os

import duckdb
import pytest

from cc_reporting.ingest.batch import ingest_objects
from cc_reporting.staging import crm, crm_batch, scratch
from cc_reporting.staging.crm import CRM_COLUMNS
from cc_reporting.staging.schema import ensure_staging_tables

from .conftest import TEST_SALT

KEY = "crm/customers-2026-01-05.csv"


def _row(n: int, **cells) -> list[str]:
    values = {c: "" for c in CRM_COLUMNS}
    values.update({"Cust_ID": f"C{n}", "Age": str(20 + n % 60), "GrossAnnualIncome": f"{n * 1234.567:.3f}",
                   "Tenure": str(n % 400), "HighRiskCustomer": "yes" if n % 2 else "N",
                   "CommercialorPersonal": "personal" if n % 3 else "Commercial", "BranchNumber": f"{n % 999:04d}",
                   "PhoneNumber": f"+47 {90000000 + n}", "Occupation": "Teacher"})
    values.update(cells)
    return [values[c] for c in CRM_COLUMNS]


def extract(rows: list[list[str]], newline="\n", header=None) -> bytes:
    lines = [",".join(header or CRM_COLUMNS)] + [",".join(r) for r in rows]
    return (newline.join(lines) + newline).encode()


def ingest(landing, python_only: bool, monkeypatch):
    calls = []
    with monkeypatch.context() as patch:
        read = crm.read_extract_cells
        patch.setattr(crm, "read_extract_cells",
                      (lambda *args: calls.append(None)) if python_only else (lambda *args: calls.append(read(*args))
                                                                              or calls[-1]))
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        ensure_staging_tables(con, TEST_SALT)
        objects = [o for o in landing.list("crm/") if crm.is_crm_extract_key(o.key)]
        report = ingest_objects(con, landing, "crm", objects, crm.parse_crm_extract, crm.merge_crm_extract, "run1")
    staged = con.execute("SELECT * EXCLUDE (ingested_at) FROM stg_crm_customer ORDER BY ALL").fetchall()
    ledger = con.execute("SELECT object_key, status, records, error FROM ingest_ledger ORDER BY ALL").fetchall()
    return (staged, ledger, report.merge_stats), [c is not None for c in calls]


def assert_agree(landing, monkeypatch, read_by_duckdb: bool):
    (fast, used), (slow, _) = ingest(landing, False, monkeypatch), ingest(landing, True, monkeypatch)
    assert fast == slow
    assert used == [read_by_duckdb]
    return fast


def test_batch_read_and_csv_reader_agree_on_a_varied_extract(landing, monkeypatch):
    rows = [_row(n) for n in range(300)]
    rows[5] = _row(5, Occupation='"Engineer, Senior"', CountryName="Åland", Region='"The ""North"""')
    rows[6] = _row(6, Occupation="\u00a0 Nurse\u3000", GrossAnnualIncome="1e3", Age="4_2", VVIP="maybe")
    rows[7] = _row(3, Occupation="Repeated")  # C3 again: its last row wins, in the place of its first
    rows[8] = _row(8, Cust_ID="  ")           # no Cust_ID: skipped and counted
    body = extract(rows, newline="\r\n").replace(b"\r\nC10,", b"\r\n\r\nC10,")  # a blank line: no row for either
    landing.write(KEY, gzip.compress(b"\xef\xbb\xbf" + body))
    staged, ledger, stats = assert_agree(landing, monkeypatch, read_by_duckdb=True)
    assert ledger[0][1] == "ingested" and len(staged) == 298
    assert stats["crm_duplicate_cust_id"] == 1 and stats["crm_rows_without_cust_id"] == 1


def test_batch_read_agrees_with_a_reordered_header_and_unknown_columns(landing, monkeypatch):
    header = ["Extra"] + list(reversed(CRM_COLUMNS)) + ["cust_id"]  # a repeated name: the first position wins
    rows = [["x"] + list(reversed(_row(n))) + [f"other{n}"] for n in range(20)]
    landing.write(KEY, extract(rows, header=header))
    assert len(assert_agree(landing, monkeypatch, read_by_duckdb=True)[0]) == 20


@pytest.mark.parametrize("damage", [
    lambda body: body.replace(b"C3,", b'"C3"x,', 1),               # csv.reader strict: the extract is refused
    lambda body: body.replace(b"C3,", b'C"3,', 1),                 # a quote inside a bare cell
    lambda body: body.replace(b",Teacher,", b',"Tea\ncher",', 1),  # a line break inside a quoted cell
    lambda body: body.replace(b",Teacher,", b",Teacher,extra,", 1),  # a row longer than the header
    lambda body: body.replace(b",Teacher,", b",Tea\x00cher,", 1),
    lambda body: body.replace(b"\nC4,", b"\rC4,", 1),              # a bare CR ends a row for csv.reader
    lambda body: body.replace(b"\nC4,", b"\nC4,x" * 400 + b",", 1),  # over CC_MAX_RECORD_BYTES (1,000 here)
])
def test_an_extract_duckdb_might_read_differently_goes_to_csv_reader_with_the_same_outcome(
        landing, monkeypatch, damage):
    monkeypatch.setenv("CC_MAX_RECORD_BYTES", "1000")
    landing.write(KEY, damage(extract([_row(n) for n in range(10)])))
    assert_agree(landing, monkeypatch, read_by_duckdb=False)


def test_oversized_row_still_quarantines_the_whole_extract(landing, monkeypatch):
    monkeypatch.setenv("CC_MAX_RECORD_BYTES", "1000")
    rows = [_row(n) for n in range(10)]
    rows[4] = _row(4, Occupation="O" * 1200)
    landing.write(KEY, extract(rows))
    staged, ledger, _ = assert_agree(landing, monkeypatch, read_by_duckdb=False)
    assert staged == [] and ledger[0][1] == "quarantined"
    assert ledger[0][3].startswith("line 6: record of ") and "CC_MAX_RECORD_BYTES" in ledger[0][3]


def test_the_decompressed_extract_leaves_no_file_behind(landing, monkeypatch):
    body = extract([_row(n) for n in range(10)])
    table = crm_batch.read_extract_cells(memoryview(body), len(CRM_COLUMNS), {c: i for i, c in enumerate(CRM_COLUMNS)},
                                         len(",".join(CRM_COLUMNS)), 1 << 20)
    assert table.num_rows == 10 and table["PhoneNumber"][0].as_py() == "+47 90000000"
    assert os.listdir(scratch._private_folder()) == []  # clear phone numbers: the file went as soon as it was read


def test_an_agent_report_scan_leaves_the_scratch_connection_free_for_the_extract():
    from cc_reporting.resources.landing import LandingObject
    from cc_reporting.staging.agent_report_table import parse_agent_report

    from .conftest import fixture_bytes
    report = fixture_bytes("agent_report_sample.csv")
    parse_agent_report(LandingObject("reports/TeleoptiAgentPerformance-a.csv", "e", len(report), None), report)
    body = extract([_row(n) for n in range(3)])
    table = crm_batch.read_extract_cells(memoryview(body), len(CRM_COLUMNS), {"Cust_ID": 0}, len(",".join(CRM_COLUMNS)),
                                         1 << 20)
    assert table is not None and table["Cust_ID"].to_pylist() == ["C0", "C1", "C2"]
