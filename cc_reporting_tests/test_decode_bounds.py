"""Bounded input: every landing decoder stops a gzip'd body at max_decompressed_bytes and keeps no record over
max_record_bytes; what exceeds a bound is quarantined with a reason naming the bound and its setting, the rest of
the batch goes on. Through the real staging assets over a LandingZone, bounds set by environment as a user would."""
from __future__ import annotations

import gzip
import json

import pytest

from cc_reporting.staging.assets import stg_agent_report, stg_channel_session, stg_crm_customer, stg_ctr

from .conftest import fixture_json, materialize, query

BOUND = 64 * 1024  # max_decompressed_bytes in these tests
RECORD = 4096  # max_record_bytes in these tests
REPORT_HEADER = ("Agent,StartInterval,EndInterval,Agent Name,Agent on contact time,Agent idle time,"
                 "Non-Productive Time,Online time,Occupancy")


@pytest.fixture
def bounds(monkeypatch):
    monkeypatch.setenv("CC_MAX_DECOMPRESSED_BYTES", str(BOUND))
    monkeypatch.setenv("CC_MAX_RECORD_BYTES", str(RECORD))


def _ledger(warehouse) -> dict[str, tuple[str, str | None]]:
    return {k: (s, e) for k, s, e in query(warehouse, "SELECT object_key, status, error FROM ingest_ledger")}


def _reason(tmp_path, key: str) -> str:
    return (tmp_path / "landing" / "quarantine" / f"{key}.reason.txt").read_text()


def _padded(make, size: int) -> str:
    """make(pad) with the pad grown so the text is exactly `size` bytes."""
    text = make("")
    text = make("x" * (size - len(text.encode())))
    assert len(text.encode()) == size
    return text


# -- one record of each source, of an exact size -------------------------------------------------------------------
def ctr(cid: str, size: int | None = None) -> str:
    base = fixture_json("sample_ctr.json")

    def make(pad):
        return json.dumps(dict(base, ContactId=cid, Attributes={"pad": pad}), separators=(",", ":"))
    return _padded(make, size) if size else make("")


def report_row(agent: str, size: int | None = None) -> str:
    def make(pad):
        return f"{agent},2026-01-05T09:00:00Z,2026-01-05T09:30:00Z,Ann{pad},60,60,0,1800,50%"
    return _padded(make, size) if size else make("")


def session_line(session_id: str, size: int | None = None) -> str:
    def make(pad):
        return json.dumps({"session_id": session_id, "channel": "web_chat", "started_at": "2026-01-05T09:00:00Z",
                           "ended_at": "2026-01-05T09:05:00Z", "intent": f"billing{pad}"})
    return _padded(make, size) if size else make("")


def crm_row(cust_id: str, size: int | None = None) -> str:
    def make(pad):
        return f"{cust_id},Teacher{pad}"
    return _padded(make, size) if size else make("")


def _staged(warehouse, sql: str) -> set[str]:
    return {r[0] for r in query(warehouse, sql)}


# Per source: its asset, a landing key for a name, a body of records, the staged ids.
SOURCES = {
    "ctr": (stg_ctr, lambda n: f"ctr/2026/01/05/09/{n}", lambda ids: "".join(ctr(i) for i in ids),
            "SELECT contact_id FROM stg_ctr"),
    "agent_report": (stg_agent_report, lambda n: f"reports/TeleoptiAgentPerformance-{n}.csv",
                     lambda ids: "\r\n".join([REPORT_HEADER, *map(report_row, ids)]) + "\r\n",
                     "SELECT agent_username FROM stg_agent_report"),
    "channel_session": (stg_channel_session, lambda n: f"channels/webchat/2026/01/05/{n}.jsonl",
                        lambda ids: "\n".join(map(session_line, ids)) + "\n",
                        "SELECT session_id FROM stg_channel_session"),
    "crm": (stg_crm_customer, lambda n: f"crm/customers-2026-01-0{n}.csv",
            lambda ids: "\n".join(["Cust_ID,Occupation", *map(crm_row, ids)]) + "\n",
            'SELECT "Cust_ID" FROM stg_crm_customer'),
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_gzip_body_of_exactly_max_decompressed_bytes_is_staged_and_one_byte_over_is_quarantined(
        source, bounds, tmp_path, landing, warehouse):
    asset, key_of, body_of, ids_sql = SOURCES[source]
    # Blank lines / whitespace after the records pad a body to an exact size: every decoder skips them.
    at_bound = body_of(["at-1", "at-2"]).encode()
    at_bound += b"\n" * (BOUND - len(at_bound))
    over = body_of(["over-1"]).encode()
    over += b"\n" * (BOUND + 1 - len(over))
    # CRM: the extract that is over the bound is the newer one, which would otherwise become the master
    at_key, over_key = (key_of(5), key_of(6)) if source == "crm" else (key_of("at"), key_of("over"))
    landing.write(at_key, gzip.compress(at_bound))
    landing.write(over_key, gzip.compress(over))
    materialize([asset], landing, warehouse)
    assert _staged(warehouse, ids_sql) == {"at-1", "at-2"}
    ledger = _ledger(warehouse)
    assert ledger[at_key] == ("ingested", None)
    status, error = ledger[over_key]
    assert status == "quarantined"
    assert error == f"decompressed body over max_decompressed_bytes ({BOUND} bytes, CC_MAX_DECOMPRESSED_BYTES)"
    assert _reason(tmp_path, over_key) == error


def test_ctr_record_of_exactly_max_record_bytes_is_staged_and_one_byte_over_is_quarantined(
        bounds, tmp_path, landing, warehouse):
    mixed = "ctr/2026/01/05/09/mixed"
    landing.write(mixed, (ctr("at", RECORD) + ctr("over", RECORD + 1) + ctr("small")).encode())
    only_over = "ctr/2026/01/05/09/only-over"
    landing.write(only_over, gzip.compress(ctr("alone", RECORD + 1).encode()))
    materialize([stg_ctr], landing, warehouse)
    assert _staged(warehouse, "SELECT contact_id FROM stg_ctr") == {"at", "small"}
    ledger = _ledger(warehouse)
    reason = f"1 record(s) over max_record_bytes ({RECORD} bytes, CC_MAX_RECORD_BYTES)"
    assert ledger[mixed] == ("partial", reason)
    assert ledger[only_over] == ("quarantined", reason)
    assert _reason(tmp_path, mixed) == reason


def test_agent_report_row_of_exactly_max_record_bytes_is_staged_and_one_byte_over_is_quarantined(
        bounds, tmp_path, landing, warehouse):
    key = "reports/TeleoptiAgentPerformance-big-rows.csv"
    rows = [REPORT_HEADER, report_row("at", RECORD), report_row("over", RECORD + 1), report_row("small")]
    landing.write(key, ("\r\n".join(rows) + "\r\n").encode())
    materialize([stg_agent_report], landing, warehouse)
    assert _staged(warehouse, "SELECT agent_username FROM stg_agent_report") == {"at", "small"}
    status, error = _ledger(warehouse)[key]
    assert status == "partial"
    assert error == (f"1 unreadable row(s): line 3: record of {RECORD + 1} bytes over max_record_bytes "
                     f"({RECORD} bytes, CC_MAX_RECORD_BYTES)")


def test_channel_session_line_of_exactly_max_record_bytes_is_staged_and_one_byte_over_is_quarantined(
        bounds, tmp_path, landing, warehouse):
    key = "channels/webchat/2026/01/05/big-lines.jsonl"
    lines = [session_line("at", RECORD), session_line("over", RECORD + 1), session_line("small")]
    landing.write(key, ("\r\n".join(lines) + "\r\n").encode())  # CRLF: the line break is not part of the record
    materialize([stg_channel_session], landing, warehouse)
    assert _staged(warehouse, "SELECT session_id FROM stg_channel_session") == {"at", "small"}
    status, error = _ledger(warehouse)[key]
    assert status == "partial"
    assert error == (f"1 bad line(s): line 2: record of {RECORD + 1} bytes over max_record_bytes "
                     f"({RECORD} bytes, CC_MAX_RECORD_BYTES)")


def test_crm_extract_with_a_row_over_max_record_bytes_is_quarantined_whole_and_the_master_kept(
        bounds, tmp_path, landing, warehouse):
    # The extract replaces the master whole: applied without its oversized row, it would delete that customer.
    first = "crm/customers-2026-01-05.csv"
    landing.write(first, ("Cust_ID,Occupation\n" + crm_row("C-at", RECORD) + "\nC2,Nurse\n").encode())
    materialize([stg_crm_customer], landing, warehouse)
    master = 'SELECT "Cust_ID" FROM stg_crm_customer'
    assert _staged(warehouse, master) == {"C-at", "C2"}
    newer = "crm/customers-2026-01-06.csv"
    landing.write(newer, ("Cust_ID,Occupation\nC3,Nurse\n" + crm_row("C-over", RECORD + 1) + "\n").encode())
    materialize([stg_crm_customer], landing, warehouse)
    assert _staged(warehouse, master) == {"C-at", "C2"}
    status, error = _ledger(warehouse)[newer]
    assert status == "quarantined"
    assert error == (f"line 3: record of {RECORD + 1} bytes over max_record_bytes ({RECORD} bytes, "
                     "CC_MAX_RECORD_BYTES); the extract is not applied (it would drop that customer)")
    assert _reason(tmp_path, newer) == error
