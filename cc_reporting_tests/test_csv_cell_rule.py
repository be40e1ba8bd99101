"""The one CSV cell rule (files.py `csv_cell`), proved through the real Teleopti writer on tables built by the
project's own SQL: a text field holding the separator, `"`, CR or LF is quoted RFC 4180 style; a text field starting
with = + - @ TAB or CR gets a leading `'` unless it is a plain number; numbers are never altered."""
import csv
import io

import pytest

from cc_reporting.models.teleopti import files as teleopti_files
from cc_reporting.models.teleopti import interval_stats
from cc_reporting.models.teleopti.files import write_files

from .teleopti_legs import at, leg, stage

REPORT_COLUMNS = ("agent_username, interval_start, interval_end, agent_name, online_s, non_productive_s, idle_s, "
                  "on_contact_s, occupancy, source_key, source_last_modified, ingested_at")


def queue_file(con, tmp_path, *legs) -> bytes:
    stage(con, *legs)
    interval_stats.build_queue_stats(con, at("09:00:00"), at("09:15:00"), 20, 5, "UTC")
    written = write_files(con, teleopti_files.QUEUE_STATS, at("09:00:00"), at("09:15:00"), str(tmp_path))
    return written[0].path.read_bytes()


def parse(body: bytes, separator: str = ";") -> list[list[str]]:
    """What a receiver's RFC 4180 reader (and a spreadsheet import) makes of the file."""
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline=""), delimiter=separator, strict=True))


@pytest.mark.parametrize("name", [";", "North;South", ";;"])
def test_separator_in_a_queue_name_is_quoted_and_the_row_keeps_its_21_fields(con, tmp_path, name):
    body = queue_file(con, tmp_path, leg("1", queue_name=name))
    assert body.decode().startswith(f'15;20260105;09:00;q-billing;"{name}";1;')
    rows = parse(body)
    assert len(rows) == 1 and len(rows[0]) == len(teleopti_files.QUEUE_STATS.columns) and rows[0][4] == name


@pytest.mark.parametrize("name", ["North\r\nSouth", "North\nSouth", "North\rSouth"])
def test_line_break_in_a_queue_name_is_quoted_and_does_not_split_the_row(con, tmp_path, name):
    body = queue_file(con, tmp_path, leg("1", queue_name=name), leg("2", queue="q-sales", queue_name="Sales"))
    rows = parse(body)
    assert [r[3:5] for r in rows] == [["q-billing", name], ["q-sales", "Sales"]]
    assert all(len(r) == 21 for r in rows) and body.endswith(b";0\n")


def test_quote_in_a_queue_name_is_doubled_inside_quotes(con, tmp_path):
    body = queue_file(con, tmp_path, leg("1", queue_name='Billing "VIP"'))
    assert ';"Billing ""VIP""";' in body.decode()
    assert parse(body)[0][4] == 'Billing "VIP"'


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x.test","click")', "@SUM(A1)", "+cmd|' /C calc'!A0",
                                  "-Sales", "-", "\tTab", "\rCR", "-2+3"])
def test_name_starting_with_a_formula_prefix_gets_a_leading_apostrophe(con, tmp_path, name):
    rows = parse(queue_file(con, tmp_path, leg("1", queue_name=name)))
    assert rows[0][4] == "'" + name and len(rows[0]) == 21


def test_plain_text_and_inner_formula_characters_are_left_alone(con, tmp_path):
    body = queue_file(con, tmp_path, leg("1", queue_name="Billing = Sales - Support @ HQ+"))
    assert ";Billing = Sales - Support @ HQ+;" in body.decode()


def report_row(con, agent, start, online, pause, idle, name):
    con.execute(f"INSERT INTO stg_agent_report ({REPORT_COLUMNS}) VALUES (?, ?, ? + INTERVAL 30 MINUTE, ?, ?, ?, ?, "
                "NULL, NULL, 'r', now(), now())", [agent, at(start), at(start), name, online, pause, idle])


def test_negative_number_stays_negative_while_a_name_starting_with_minus_is_guarded(con, tmp_path):
    """Pause 300 s > online 100 s: avail = -200, halved to -100 and -100 (numbers are never altered); the agent
    named "-Ops" gets its apostrophe, the one named "-1" is a plain number and stays as it is."""
    stage(con)
    report_row(con, "a-1", "09:00:00", 100, 300, 0, "-Ops")
    report_row(con, "a-2", "09:00:00", 100, 300, 0, "-1")
    interval_stats.build_agent_performance(con, at("09:00:00"), at("09:30:00"), "UTC")
    written = write_files(con, teleopti_files.AGENT_PERFORMANCE, at("09:00:00"), at("09:15:00"), str(tmp_path))
    body = written[0].path.read_text()
    assert body.splitlines() == ["15;20260105;09:00;a-1;'-Ops;50;150;-100;0;0;0;0;0;0",
                                 "15;20260105;09:00;a-2;-1;50;150;-100;0;0;0;0;0;0"]


def test_agent_queue_file_quotes_and_guards_agent_id_and_name_by_the_same_rule(con, tmp_path):
    """Without agent events the agent name is the user name: both fields carry the hostile text."""
    stage(con, leg("1", agent='=o;brien"x'))
    interval_stats.build_agent_queue_stats(con, at("09:00:00"), at("09:15:00"), "UTC")
    written = write_files(con, teleopti_files.AGENT_QUEUE_STATS, at("09:00:00"), at("09:15:00"), str(tmp_path))
    body = written[0].path.read_bytes()
    assert body.decode().startswith('''15;20260105;09:00;"'=o;brien""x";"'=o;brien""x";q-billing;Billing;''')
    row = parse(body)[0]
    assert len(row) == len(teleopti_files.AGENT_QUEUE_STATS.columns) and row[3] == row[4] == "'=o;brien\"x"


def test_contacts_file_quotes_a_comma_not_a_semicolon_and_keeps_phone_numbers(con, tmp_path):
    """The contacts file's separator is `,`: a comma is quoted there, a `;` is not; a leading `=` is guarded;
    an E.164 number (`+1206…`, a plain number to a spreadsheet) is written as it is."""
    stage(con, leg("c-1", queue_name="Billing, VIP"), leg("c-2", queue="q-x", queue_name="=a;b", enqueue="09:06:00"))
    interval_stats.build_contacts(con, at("09:00:00"), at("09:15:00"))
    body = write_files(con, teleopti_files.CONTACTS, at("09:00:00"), at("09:15:00"), str(tmp_path))[0].path.read_bytes()
    lines = body.decode().splitlines()
    assert ',"Billing, VIP",+12065550100,,' in lines[1] and ",'=a;b,+12065550100,," in lines[2]
    rows = parse(body, ",")
    assert [len(r) for r in rows] == [16, 16, 16]
    assert [r[12] for r in rows[1:]] == ["Billing, VIP", "'=a;b"]
