"""Staging of the CRM extract `crm/customers-YYYY-MM-DD.csv` (car-jar.md §8, phone hashing §2)."""
import hashlib
import sys
from datetime import date, datetime, timezone
from decimal import Decimal

import duckdb
import pytest

from cc_reporting.ingest.batch import ingest_objects
from cc_reporting.resources.landing import LandingObject
from cc_reporting.staging import crm
from cc_reporting.staging.crm import (
    CRM_COLUMNS,
    STRIP_CHARS,
    is_crm_extract_key,
    merge_crm_extract,
    parse_crm_extract,
)
from cc_reporting.staging.pii import install_pii_macros

from .conftest import TEST_SALT

NOW = datetime(2026, 1, 6, 3, 0, tzinfo=timezone.utc)
FULL_HEADER = ",".join(CRM_COLUMNS)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    install_pii_macros(con, TEST_SALT)
    yield con
    con.close()


def parse(text: str, key="crm/customers-2026-01-05.csv", bom=False):
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    return parse_crm_extract(LandingObject(key, "e1", len(data), NOW), data)


def load(con, text: str, key="crm/customers-2026-01-05.csv", bom=False) -> dict:
    parsed = parse(text, key, bom)
    assert parsed.error is None
    con.execute("BEGIN TRANSACTION")
    stats = merge_crm_extract(con, parsed.items, "run:1", NOW)
    con.execute("COMMIT")
    return stats


def rows(con, columns: str):
    return con.execute(f'SELECT {columns} FROM stg_crm_customer ORDER BY "Cust_ID"').fetchall()


def test_extract_key_names_a_real_date():
    assert is_crm_extract_key("crm/customers-2026-01-05.csv")
    assert not is_crm_extract_key("crm/customers-2026-02-30.csv")  # no such day
    assert not is_crm_extract_key("crm/old/customers-2026-01-05.csv")
    assert not is_crm_extract_key("crm/customers-20260105.csv")


def test_header_in_any_order_unknown_column_ignored_and_bom_tolerated(con):
    """BOM before the header, columns shuffled, a `Favourite Colour` column nobody asked for, CRLF lines and an
    RFC 4180 quoted field holding a comma. Expected: the values land under their names, typed: Age 42,
    GrossAnnualIncome 52000.50, OverallRevenue 1234.57 (1234.565 rounded half up), VVIP true, Occupation with its
    comma, CommercialorPersonal upper-cased; the unknown column is nowhere in the table."""
    text = ("Favourite Colour,OverallRevenue,Age,Cust_ID,Occupation,GrossAnnualIncome,VVIP,CommercialorPersonal\r\n"
            'blue,1234.565,42,C001,"Engineer, civil",52000.50,true,personal\r\n')
    load(con, text, bom=True)
    assert rows(con, '"Cust_ID", "Age", "OverallRevenue", "GrossAnnualIncome", "Occupation", "VVIP", '
                     '"CommercialorPersonal"') == [
        ("C001", 42, Decimal("1234.57"), Decimal("52000.50"), "Engineer, civil", True, "PERSONAL")]
    columns = [r[0] for r in con.execute("DESCRIBE stg_crm_customer").fetchall()]
    assert not any("colour" in c.lower() for c in columns)


def test_missing_column_is_null_and_noted(con):
    """The full header minus `Region`: Region is null for every row and the stats say `crm_missing_column:Region`
    = 1 (one file); no other column is reported missing. An empty field (Occupation) is null too."""
    header = [c for c in CRM_COLUMNS if c != "Region"]
    values = {c: "" for c in header} | {"Cust_ID": "C001", "CountryName": "Sweden"}
    stats = load(con, ",".join(header) + "\n" + ",".join(values[c] for c in header) + "\n")
    assert rows(con, '"Cust_ID", "CountryName", "Region", "Occupation"') == [("C001", "Sweden", None, None)]
    assert {k: v for k, v in stats.items() if k.startswith("crm_missing_column:")} == {"crm_missing_column:Region": 1}


def test_row_without_cust_id_is_skipped_and_counted(con):
    """Four data rows: C001, an empty Cust_ID, a blank-padded Cust_ID, C002 → 2 customers staged, 2 skipped.
    A fully blank line is no row at all and is not counted."""
    stats = load(con, "Cust_ID,Age\nC001,30\n,31\n  ,32\n\nC002,33\n")
    assert rows(con, '"Cust_ID", "Age"') == [("C001", 30), ("C002", 33)]
    assert stats["crm_rows"] == 2 and stats["crm_rows_without_cust_id"] == 2


def test_repeated_cust_id_keeps_its_last_row_and_is_counted(con):
    """C001 appears three times with Age 30, 31, 32: the last row (32) wins; 2 duplicates dropped; C002 kept."""
    stats = load(con, "Cust_ID,Age\nC001,30\nC002,50\nC001,31\nC001,32\n")
    assert rows(con, '"Cust_ID", "Age"') == [("C001", 32), ("C002", 50)]
    assert stats["crm_duplicate_cust_id"] == 2 and stats["crm_rows"] == 2


def test_unparseable_age_becomes_null_and_is_counted(con):
    """Age `forty`, `-3`, `41.5` and `4_2` do not parse as whole years → null, counted 4; `41` parses.
    Tenure `x` and CommercialorPersonal `BOTH` are counted under their own columns; the customers stay."""
    text = ("Cust_ID,Age,Tenure,CommercialorPersonal\n"
            "C1,forty,12,PERSONAL\nC2,-3,12,\nC3,41.5,x,BOTH\nC4,4_2,12,\nC5,41,12,COMMERCIAL\n")
    stats = load(con, text)
    assert rows(con, '"Cust_ID", "Age", "Tenure", "CommercialorPersonal"') == [
        ("C1", None, 12, "PERSONAL"), ("C2", None, 12, None), ("C3", None, None, None), ("C4", None, 12, None),
        ("C5", 41, 12, "COMMERCIAL")]
    assert stats["crm_unparseable:Age"] == 4
    assert stats["crm_unparseable:Tenure"] == 1 and stats["crm_unparseable:CommercialorPersonal"] == 1


def test_booleans_accept_true_false_1_0_y_n_yes_no_in_any_case(con):
    """VVIP: true, FALSE, 1, 0, Y, n, Yes, NO → T F T F T F T F; `maybe` → null, counted 1; empty → null, not
    counted."""
    spellings = ["true", "FALSE", "1", "0", "Y", "n", "Yes", "NO", "maybe", ""]
    text = "Cust_ID,VVIP\n" + "".join(f"C{i:02d},{s}\n" for i, s in enumerate(spellings))
    stats = load(con, text)
    assert [r[0] for r in rows(con, '"VVIP"')] == [True, False, True, False, True, False, True, False, None, None]
    assert stats["crm_unparseable:VVIP"] == 1


def test_branch_number_keeps_leading_zeros(con):
    """BranchNumber `007` and `0420` stay text with their zeros."""
    load(con, "Cust_ID,BranchNumber\nC1,007\nC2,0420\n")
    assert rows(con, '"BranchNumber"') == [("007",), ("0420",)]


def test_unreadable_extract_is_refused_not_applied():
    """Each of these would wipe or corrupt the master if applied, so parse returns no rows and an error (the
    ingestion loop quarantines the file): not UTF-8, no Cust_ID column, broken quoting, header only."""
    assert parse_crm_extract(LandingObject("crm/customers-2026-01-05.csv", "e", 5, NOW), b"\xff\xfe,\n").error
    assert parse("Customer,Age\nC1,3\n").error == "no Cust_ID column"
    assert parse('Cust_ID,Age\nC1,"3\nC2,4\n').error.startswith("not readable as CSV")
    assert parse("Cust_ID,Age\n").items == []


def test_latest_extract_wins_and_an_older_one_landing_later_changes_nothing(con, landing):
    """Through the real ingestion loop. Run 1 lands 01-05 (C1, C2). Run 2 lands 01-07 (C3 only): it is the whole
    master, so C1 and C2 disappear. Run 3 lands 01-06 (C4) late: older than the master, ignored → still C3 only.
    Run 4 re-sends 01-07 corrected (same key, new content): same date, landed later → replaces (C55)."""
    def run(key, body, run_id):
        landing.write(key, body.encode())
        objects = [o for o in landing.list("crm/") if o.key == key]
        return ingest_objects(con, landing, "crm", objects, parse_crm_extract, merge_crm_extract, run_id)

    run("crm/customers-2026-01-05.csv", "Cust_ID\nC1\nC2\n", "r1")
    assert rows(con, '"Cust_ID"') == [("C1",), ("C2",)]
    report = run("crm/customers-2026-01-07.csv", "Cust_ID\nC3\n", "r2")
    assert rows(con, '"Cust_ID", extract_date, source_key') == [
        ("C3", date(2026, 1, 7), "crm/customers-2026-01-07.csv")]
    assert report.merge_stats["crm_extracts_applied"] == 1
    report = run("crm/customers-2026-01-06.csv", "Cust_ID\nC4\n", "r3")
    assert rows(con, '"Cust_ID"') == [("C3",)]
    assert report.merge_stats == {"crm_extracts_read": 1, "crm_extracts_applied": 0, "crm_extracts_ignored_older": 1}
    run("crm/customers-2026-01-07.csv", "Cust_ID\nC55\n", "r4")  # another size: a new ETag for the same key
    assert rows(con, '"Cust_ID"') == [("C55",)]


def test_latest_extract_wins_within_one_batch(con):
    """Two extracts in one merge: 01-09 (C9) and 01-08 (C8); the later date wins whatever the order."""
    newer = parse("Cust_ID\nC9\n", "crm/customers-2026-01-09.csv").items
    older = parse("Cust_ID\nC8\n", "crm/customers-2026-01-08.csv").items
    stats = merge_crm_extract(con, newer + older, "run:1", NOW)
    assert rows(con, '"Cust_ID"') == [("C9",)]
    assert stats["crm_extracts_applied"] == 1 and stats["crm_extracts_ignored_older"] == 1


def test_no_clear_phone_number_is_stored_anywhere(con):
    """PhoneNumber `+46 70-123 45 67` normalises to `+46701234567`; phone_hash = sha256(salt + that), lower-case
    hex, computed here independently. No table or column of the database holds the number or its digits, and
    there is no PhoneNumber column. An empty number gives a null hash."""
    load(con, "Cust_ID,PhoneNumber\nC1,+46 70-123 45 67\nC2,\n")
    expected = hashlib.sha256((TEST_SALT + "+46701234567").encode()).hexdigest()
    assert rows(con, '"Cust_ID", phone_hash') == [("C1", expected), ("C2", None)]
    columns = [r[0] for r in con.execute("DESCRIBE stg_crm_customer").fetchall()]
    assert "PhoneNumber" not in columns and "phone_hash" in columns
    tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
    views = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    assert views == []  # the Arrow view holding clear numbers during the merge is gone
    for schema, table in tables:
        dump = repr(con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall())
        assert "701234567" not in dump and "70-123" not in dump


# -- the typing rules, now SQL: each edge case where a plausible SQL rule would part from the Python one ------
def typed(con, column: str, spellings: list[str]) -> tuple[list, int]:
    """Stage one customer per spelling; the staged values in spelling order and the unparseable count."""
    text = f"Cust_ID,{column}\n" + "".join(f'C{i:02d},"{s}"\n' for i, s in enumerate(spellings))
    stats = load(con, text)
    return [r[0] for r in rows(con, f'"{column}"')], stats.get(f"crm_unparseable:{column}", 0)


def test_decimal_rounds_half_up_at_the_third_decimal(con):
    """Quantized to cents ROUND_HALF_UP, by the digits (no float): 1.005 → 1.01, -1.005 → -1.01 (away from
    zero), 2.675 → 2.68 (2.67 as a float), 0.125 → 0.13, 0.0049 → 0.00, 1.00499999999 → 1.00, 40 nines after
    the point → 2.00, 50 leading zeros are no digits, -0.004 → 0.00; 9999999999999999.994 still fits."""
    values, bad = typed(con, "OverallRevenue", [
        "1.005", "-1.005", "2.675", "0.125", "0.0049", "1.00499999999", "1." + "9" * 40, "0" * 50 + "7.5",
        "-0.004", "9999999999999999.994"])
    assert values == [Decimal(v) for v in ("1.01", "-1.01", "2.68", "0.13", "0.00", "1.00", "2.00", "7.50", "0.00",
                                           "9999999999999999.99")]
    assert bad == 0


def test_decimal_reads_what_python_decimal_reads(con):
    """Padded, signed, `.5`, `5.`, exponents, underscores anywhere (`1_000`, `_1`, `1__0.5_55`), non-ASCII digits
    (fullwidth, Arabic-Indic) all read as Python's Decimal() reads them. Unparseable (null, counted 7): NaN,
    Infinity, 1e16 (17 integer digits), 9999999999999999.995 (rounds to 17; this used to fail the whole merge),
    `1.2.3`, `12,5`, `.`."""
    values, bad = typed(con, "GrossAnnualIncome", [
        " +1.25 ", ".5", "5.", "-.5", "1e3", "2.5E-1", "1_000", "_1", "1__0.5_55", "１２.５", "٣.٥",
        "NaN", "Infinity", "1e16", "9999999999999999.995", "1.2.3", "12,5", "."])
    assert values[:11] == [Decimal(v) for v in ("1.25", "0.50", "5.00", "-0.50", "1000.00", "0.25", "1000.00",
                                                "1.00", "10.56", "12.50", "3.50")]
    assert values[11:] == [None] * 7 and bad == 7


def test_integer_is_plain_base_10_within_int32(con):
    """`007` → 7, `+5` → 5, `-0` → 0, 40 leading zeros, 2147483647 fit. Not integers here (null, counted 7):
    2147483648, `1e3`, `4_2` (DuckDB's cast would take it), `4.0`, fullwidth and Arabic-Indic digits, `+`."""
    values, bad = typed(con, "Tenure", ["007", "+5", "-0", "0" * 40 + "12", "2147483647",
                                        "2147483648", "1e3", "4_2", "4.0", "１２", "١٢", "+"])
    assert values == [7, 5, 0, 12, 2147483647] + [None] * 7 and bad == 7


def test_enum_is_upper_cased_as_python_upper_cases(con):
    """Python upper-cases a dotless ı to I and a long ſ to S, so `Commercıal` and `perſonal` are valid; `personaß`
    (ß → SS) and a fullwidth PERSONAL are not (null, counted 2)."""
    values, bad = typed(con, "CommercialorPersonal", ["Commercıal", "perſonal", "personaß", "ＰＥＲＳＯＮＡＬ"])
    assert values == ["COMMERCIAL", "PERSONAL", None, None] and bad == 2


def test_cells_are_stripped_of_what_str_strip_strips(con):
    """STRIP_CHARS is exactly Python's whitespace. A Cust_ID in no-break spaces is the same customer as the bare
    one (the later row wins, one duplicate); an ideographic space around an age, a tab and a U+001C around
    text are stripped too."""
    assert STRIP_CHARS == "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    stats = load(con, "Cust_ID,Age,Occupation\nC1,30,x\n\xa0C1\xa0,\u300031\u3000,\t\x1cNurse \n")
    assert rows(con, '"Cust_ID", "Age", "Occupation"') == [("C1", 31, "Nurse")]
    assert stats["crm_duplicate_cust_id"] == 1 and "crm_unparseable:Age" not in stats


def test_ragged_rows_bare_cr_lines_and_rows_across_blocks(con, monkeypatch):
    """Blocks of 2 rows, CR-only line ends, a short row (its missing cells null), a long one (extra cells ignored),
    a quoted cell holding a line break, and C1 repeated in a later block: its last row wins, in C1's first place.
    The ingestion loop would count 4 records: one per customer staged."""
    monkeypatch.setattr(crm, "_BLOCK_ROWS", 2)
    text = 'Cust_ID,Age,Occupation\rC1,30,a\rC2\rC3,33,"two\rlines",extra,more\r\rC1,31,b\rC4,34,d\r'
    parsed = parse(text)
    assert len(parsed.items) == 4
    con.execute("BEGIN TRANSACTION")
    merge_crm_extract(con, parsed.items, "run:1", NOW)
    con.execute("COMMIT")
    assert con.execute('SELECT "Cust_ID", "Age", "Occupation" FROM stg_crm_customer').fetchall() == [
        ("C1", 31, "b"), ("C2", None, None), ("C3", 33, "two\rlines"), ("C4", 34, "d")]


def test_quarantine_reasons_name_the_line_and_utf8_comes_first():
    """Broken quoting gives the line csv.reader stopped at; a bad byte anywhere outranks broken quoting before it."""
    assert parse('Cust_ID,Age\nC1,3\nC2,"4\nC3,5\n').error == "not readable as CSV (line 4): unexpected end of data"
    assert parse('Cust_ID,Age\nC1,"3"x\n').error == "not readable as CSV (line 2): ',' expected after '\"'"
    data = b'Cust_ID,Age\nC1,"3\n\xff\n'
    assert parse_crm_extract(LandingObject("crm/customers-2026-01-05.csv", "e", len(data), NOW), data).error == (
        "not UTF-8: 'utf-8' codec can't decode byte 0xff in position 18: invalid start byte")
    assert parse("").error == "empty file: no header row"
    assert parse("Cust_ID,Age\n,3\n \t,4\n").error.startswith("no customer row")
