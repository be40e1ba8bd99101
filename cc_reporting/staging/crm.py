"""`stg_crm_customer`: the customer master of the CRM extract `crm/customers-*.csv` (docs/connect-inputs.md §6).

The extract is a full dump, not a delta: the file with the latest date in its name is the whole master. A newer
extract replaces the table; an older one landing late (a re-sent or delayed dump) changes nothing. The same date
landing again (the same key with a new ETag, necessarily later) is a corrected dump and replaces the table.

Columns are found by header name. A bad value becomes null and is counted instead of dropping the customer: the
CAR needs every customer, and one bad cell must not hide the rest of its row. A file that cannot be read as a
whole (not UTF-8, broken quoting, no `Cust_ID` column, no customer row) is quarantined rather than applied, since
applying it would wipe the master.

`PhoneNumber` is hashed in SQL with `hash_phone` (staging/pii.py) on the way in; the clear number never reaches a
DuckDB table, only `phone_hash` is stored (docs/analytics.md §2).

Speed and memory (an extract of 270k customers is ~60 MB): no Python object per row or cell outlives a block.
Python's C `csv.reader` does the structure (its strict quoting is part of the contract); each block of rows
becomes Arrow string columns, stripped and deduplicated in Arrow. Typing and the unparseable counts are DuckDB
SQL at merge, rule for rule the Python rules they replaced (`_decimal` still reads the rare decimal spellings SQL
leaves alone). Tests pin the edge cases of each rule.
"""
from __future__ import annotations

import csv
import io
import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import chain, islice

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cc_reporting.ingest.batch import Parsed
from cc_reporting.ingest.bounded import BodyTooLarge, LineSizes, bounded_body, current_bounds, record_too_large
from cc_reporting.resources.landing import LandingObject
from cc_reporting.staging.crm_batch import read_extract_cells
from cc_reporting.staging.scratch import STRIP_CHARS, without_bom  # STRIP_CHARS: str.strip()'s, for utf8_trim

CRM_PREFIX = "crm/"
_KEY_RE = re.compile(r"^crm/customers-(\d{4}-\d{2}-\d{2})\.csv$")

# Every column of the extract, in the order of the spec's header. Types per docs/connect-inputs.md §6.
CRM_TYPES: dict[str, str] = {
    "Cust_ID": "VARCHAR", "Occupation": "VARCHAR", "Age": "INTEGER", "MaritalStatus": "VARCHAR",
    "Ethnicity": "VARCHAR", "GrossAnnualIncome": "DECIMAL(18,2)", "EmploymentType": "VARCHAR",
    "CountryName": "VARCHAR", "Region": "VARCHAR", "Tenure": "INTEGER", "OverallRevenue": "DECIMAL(18,2)",
    "Product 1": "VARCHAR", "Product 2": "VARCHAR", "Product 3": "VARCHAR", "HighRiskCustomer": "BOOLEAN",
    "CustomerRestriction": "VARCHAR", "BranchNumber": "VARCHAR", "CustomerSegmentID": "VARCHAR",
    "GlobalCustomerID": "VARCHAR", "CustomerCountryRelationship": "VARCHAR", "VVIP": "BOOLEAN",
    "PremierCustomer": "BOOLEAN", "CommercialorPersonal": "VARCHAR", "IsDigitalEligible": "BOOLEAN",
    "BranchVisits": "INTEGER", "FinancialRiskCustomer": "BOOLEAN", "NumberofTotalProducts": "INTEGER",
    "PhoneNumber": "VARCHAR",
}
CRM_COLUMNS = tuple(CRM_TYPES)
# What the table stores of the extract: everything but the clear phone number (replaced by `phone_hash`).
STORED_CRM_COLUMNS = tuple(c for c in CRM_COLUMNS if c != "PhoneNumber")
ENUMS = {"CommercialorPersonal": ("COMMERCIAL", "PERSONAL")}
_TRUE, _FALSE = ("true", "1", "y", "yes"), ("false", "0", "n", "no")  # compared lower-cased
_DEC_MAX = Decimal("1e16")  # DECIMAL(18,2) holds 16 integer digits
# The decimal spellings SQL reads itself (all but the oddest cells); RE2 syntax, for both Arrow and DuckDB.
_PLAIN_DECIMAL = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)"
_BLOCK_ROWS = 16_384  # rows held as Python strings at a time (~25 MB) before they become Arrow columns


def q(name: str) -> str:
    """Quote an identifier: seed names keep their case and `Product 1` has a space."""
    return '"' + name.replace('"', '""') + '"'


STG_CRM_CUSTOMER_DDL = (
    "CREATE TABLE IF NOT EXISTS stg_crm_customer (\n    "
    + ",\n    ".join(f"{q(c)} {CRM_TYPES[c]}" + (" PRIMARY KEY" if c == "Cust_ID" else "") for c in STORED_CRM_COLUMNS)
    + ",\n    phone_hash VARCHAR,            -- hash_phone(PhoneNumber); the clear number is never stored"
    + "\n    extract_date DATE NOT NULL,    -- the date in the file name: which extract is the master"
    + "\n    source_key VARCHAR NOT NULL,"
    + "\n    ingested_at TIMESTAMPTZ NOT NULL  -- changes when a new extract is applied (re-resolve phone lookups)"
    + "\n)"
)


def ensure_crm_table(con) -> None:
    con.execute(STG_CRM_CUSTOMER_DDL)


def crm_extract_date(key: str) -> date | None:
    match = _KEY_RE.match(key)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:  # customers-2026-02-30.csv: no such day, so no place in the order of extracts
        return None


def is_crm_extract_key(key: str) -> bool:
    return crm_extract_date(key) is not None


# -- values ---------------------------------------------------------------------------------------------------
# A cell is stripped (STRIP_CHARS); empty is null. A bad value becomes null and counts as
# `crm_unparseable:<column>`. The rules, as SQL over a stripped cell `v`:
#   INTEGER  plain base-10 `[+-]?[0-9]+` (not `4_2`, `4.0`, `1e3`, `١٢`, which DuckDB's cast partly takes) in
#            0..2^31-1: ages, months and counts, so a negative value is as wrong as a non-number.
#   BOOLEAN  true/1/y/yes, false/0/n/no in any case.
#   enum     upper-cased, then one of the allowed values. DuckDB's upper() differs from Python's only where
#            Python expands a letter (ß → SS, ﬁ → FI), and no expansion occurs in COMMERCIAL or PERSONAL.
#   DECIMAL  what Python's Decimal() reads, finite, quantized half up to 0.01, under 1e16 after rounding.
def _sql_list(values: tuple) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _integer_sql(v: str) -> str:
    return (f"CASE WHEN regexp_full_match({v}, '[+-]?[0-9]+') AND TRY_CAST({v} AS INTEGER) >= 0"
            f" THEN TRY_CAST({v} AS INTEGER) END")


def _boolean_sql(v: str) -> str:
    return f"CASE WHEN lower({v}) IN {_sql_list(_TRUE)} THEN true WHEN lower({v}) IN {_sql_list(_FALSE)} THEN false END"


def _decimal_sql(v: str) -> str:
    # DuckDB casts a plain decimal digit by digit, rounding half away from zero as ROUND_HALF_UP does, and fails
    # when the rounded value does not fit (9999999999999999.995). Other spellings were replaced by `_decimal`'s.
    return f"CASE WHEN regexp_full_match({v}, '{_PLAIN_DECIMAL}') THEN TRY_CAST({v} AS DECIMAL(18, 2)) END"


def _decimal(text: str) -> Decimal | None:
    """Python's reading, for what `_decimal_sql` leaves alone: `1e3`, `1_000`, `１２.５`, `NaN`, junk."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) >= _DEC_MAX:  # before quantize, which traps on a huge value
        return None
    value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    # 9999999999999999.995 rounds to 17 integer digits: unparseable (it used to fail the whole merge)
    return value if abs(value) < _DEC_MAX else None


def _typed_sql(column: str, present: bool) -> str:
    if not present:
        return f"CAST(NULL AS {CRM_TYPES[column]})"
    v = f"nullif({q(column)}, '')"
    if column in ENUMS:
        return f"CASE WHEN upper({v}) IN {_sql_list(ENUMS[column])} THEN upper({v}) END"
    return {"INTEGER": _integer_sql, "DECIMAL(18,2)": _decimal_sql, "BOOLEAN": _boolean_sql}.get(
        CRM_TYPES[column], lambda v: v)(v)


def _with_odd_decimals_read(table: pa.Table) -> pa.Table:
    """Each decimal cell SQL would not read, replaced by Python's reading of it as plain text (`1e3` → `1000.00`)
    or by `?` (unparseable, still counted). Such cells are rare: `_decimal` runs once per distinct text."""
    for column in (c for c in table.column_names if CRM_TYPES[c] == "DECIMAL(18,2)"):
        cells = table[column]
        odd = pc.and_(pc.not_equal(cells, ""), pc.invert(pc.match_substring_regex(cells, f"^(?:{_PLAIN_DECIMAL})$")))
        if not pc.any(odd).as_py():
            continue
        texts = pc.unique(cells.filter(odd))
        readings = pa.array(["?" if (value := _decimal(text)) is None else str(value) for text in texts.to_pylist()],
                            pa.string())
        read = pc.if_else(odd, pc.take(readings, pc.index_in(cells, texts)), cells)
        table = table.set_column(table.column_names.index(column), column, read)
    return table


# -- parse --------------------------------------------------------------------------------------------------
@dataclass(eq=False)  # hashed by identity: merge finds the extracts among its items
class CrmExtract:
    """One extract file. `rows`: its customers, one row each, as columns of stripped text ('' = empty cell); a
    column absent from the file is absent here. Typed by merge."""
    key: str
    extract_date: date
    last_modified: datetime
    rows: pa.Table
    stats: dict[str, int] = field(default_factory=dict)


def _block(rows: list[list[str]], width: int, columns: dict[str, int]) -> pa.RecordBatch:
    """Rows to Arrow columns of stripped cells: all cells converted at once (much cheaper than per column), each
    column then picked by stride, so every row must hold exactly `width` cells."""
    if min(map(len, rows)) < width or max(map(len, rows)) > width:
        # a blank line is no row; missing cells are empty; cells past the last wanted column are never read
        rows = [fields[:width] + [""] * (width - len(fields)) for fields in rows if fields]
    cells = pc.utf8_trim(pa.array(chain.from_iterable(rows), pa.string(), size=len(rows) * width), STRIP_CHARS)
    starts = np.arange(0, len(cells), width)
    return pa.record_batch([cells.take(starts + p) for p in columns.values()], names=list(columns))


def _rows_to_stage(ids: pa.ChunkedArray) -> tuple[pa.Array | None, int]:
    """Which rows are staged, in order (None: all), and how many have a Cust_ID. A row without one is skipped; the
    last row of a repeated Cust_ID wins, in the place of its first row (where a dict keyed by Cust_ID leaves it).
    By a stable sort rather than a hash table: several times less memory."""
    named = pc.indices_nonzero(pc.not_equal(ids, ""))
    everything = None if len(named) == len(ids) else named
    if len(named) < 2:
        return everything, len(named)
    named_ids = ids.take(named)
    order = pc.sort_indices(named_ids)  # stable: the rows of one Cust_ID keep their file order
    in_order = named_ids.take(order)
    changes = pc.not_equal(in_order[1:], in_order[:-1])  # between sorted positions i and i + 1
    if pc.all(changes).as_py():  # no Cust_ID repeats: the usual case
        return everything, len(named)
    last = order.filter(pa.chunked_array(changes.chunks + [pa.array([True])]))
    first = order.filter(pa.chunked_array([pa.array([True])] + changes.chunks))
    return named.take(last.take(pc.sort_indices(first))), len(named)


class _RecordTooLarge(ValueError):
    pass


def _rows_within(reader, lines: LineSizes, max_record: int):
    """The rows, failing the whole extract at a row over max_record_bytes: the extract replaces the master whole,
    and one without that row would silently delete the customer (as a stray quote fails the file, not the row)."""
    for row in reader:
        if (size := lines.take()) > max_record:
            raise _RecordTooLarge(f"line {reader.line_num}: {record_too_large(size, max_record)}; "
                                  "the extract is not applied (it would drop that customer)")
        yield row


def _read_blocks(reader, lines: LineSizes, columns: dict[str, int], max_record: int) -> pa.Table:
    width, blocks = max(columns.values()) + 1, []
    rows_within = _rows_within(reader, lines, max_record)
    while rows := list(islice(rows_within, _BLOCK_ROWS)):
        blocks.append(_block(rows, width, columns))
        del rows  # the Python strings go, Arrow's compact copy stays
    return pa.Table.from_batches(blocks, pa.schema([(c, pa.string()) for c in columns]))


def parse_crm_extract(obj: LandingObject, data: bytes) -> Parsed:
    """Items: the extract, once per customer staged, so the ingestion loop counts customers as records."""
    extract_date = crm_extract_date(obj.key)
    if extract_date is None:
        return Parsed([], "not a CRM extract name (crm/customers-YYYY-MM-DD.csv)")
    bounds = current_bounds()
    try:
        data = bounded_body(data, bounds.max_decompressed_bytes)
        data.decode("utf-8-sig")  # whole, first: a bad byte anywhere is the reason, as it always was
    except BodyTooLarge as exc:
        return Parsed([], str(exc))
    except (OSError, EOFError, zlib.error) as exc:
        return Parsed([], f"cannot decode gzip body: {type(exc).__name__}: {exc}")
    except UnicodeDecodeError as exc:
        return Parsed([], f"not UTF-8: {exc}")
    # Lines decoded as read (a StringIO holds its text at 4 bytes a character), split at \n, \r and \r\n only,
    # as StringIO(newline="") does. strict: a stray quote must fail the file, not silently swallow the lines
    # after it into one field.
    lines = LineSizes(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return Parsed([], "empty file: no header row")
        if (size := lines.take()) > bounds.max_record_bytes:
            return Parsed([], f"header: {record_too_large(size, bounds.max_record_bytes)}")
        by_name: dict[str, int] = {}
        for position, name in enumerate(header):
            by_name.setdefault(name.strip().lower(), position)  # any order, any case; unknown names ignored
        columns = {c: by_name[c.lower()] for c in CRM_COLUMNS if c.lower() in by_name}  # name → position
        if "Cust_ID" not in columns:
            return Parsed([], "no Cust_ID column")
        table = read_extract_cells(without_bom(data), len(header), columns, size, bounds.max_record_bytes)
        if table is None:  # not certainly read alike by DuckDB: csv.reader, with its refusals and reasons
            table = _read_blocks(reader, lines, columns, bounds.max_record_bytes)
    except csv.Error as exc:
        return Parsed([], f"not readable as CSV (line {reader.line_num}): {exc}")
    except _RecordTooLarge as exc:
        return Parsed([], str(exc))

    keep, with_id = _rows_to_stage(table["Cust_ID"])
    skipped = len(table) - with_id
    if keep is not None:  # taken a column at a time, each old one let go: never two copies of the extract
        names, old = table.column_names, table.columns
        del table
        table = pa.table([old.pop(0).take(keep) for _ in names], names=names)
    if not len(table):
        return Parsed([], "no customer row: an empty extract would wipe the customer master")
    extract = CrmExtract(obj.key, extract_date, obj.last_modified, table)
    extract.stats.update({"crm_rows": len(table), "crm_rows_without_cust_id": skipped,
                          "crm_duplicate_cust_id": with_id - len(table)})
    extract.stats.update({f"crm_missing_column:{c}": 1 for c in CRM_COLUMNS if c not in columns})
    return Parsed([extract] * len(table), None)


# -- merge --------------------------------------------------------------------------------------------------
def merge_crm_extract(con, items: list[CrmExtract], batch_id: str, ingested_at) -> dict:
    """Apply the newest extract of the batch when it is at least as new as the staged master.

    Runs in the caller's transaction (ingest/batch.py). Counts are numbers only (the loop sums them); row, skip,
    duplicate, unparseable and missing-column counts describe the applied extract. `batch_id` is unused: the
    table is replaced whole, so there are no touched rows to mark.
    """
    ensure_crm_table(con)
    extracts = {extract.key: extract for extract in dict.fromkeys(items)}  # items repeat their extract per row
    newest = max(extracts.values(), key=lambda e: (e.extract_date, e.last_modified, e.key))
    current = con.execute("SELECT max(extract_date) FROM stg_crm_customer").fetchone()[0]  # None: no master yet
    stats = {"crm_extracts_read": len(extracts), "crm_extracts_applied": 0,
             "crm_extracts_ignored_older": len(extracts) - 1}
    # `>=`: the same date again can only be the same key re-sent with new content, landed later: a correction.
    if current is not None and newest.extract_date < current:
        stats["crm_extracts_ignored_older"] = len(extracts)
        return stats

    table = _with_odd_decimals_read(newest.rows)
    present = set(table.column_names)
    typed = [c for c in CRM_COLUMNS if c in present and (CRM_TYPES[c] != "VARCHAR" or c in ENUMS)]
    con.execute("DELETE FROM stg_crm_customer")
    # The clear numbers live only in this Arrow view, scanned once and hashed on the way into the table.
    con.register("_crm_extract_rows", table)
    try:
        con.execute(
            f"""INSERT INTO stg_crm_customer ({', '.join(q(c) for c in STORED_CRM_COLUMNS)},
                                              phone_hash, extract_date, source_key, ingested_at)
                SELECT {', '.join(_typed_sql(c, c in present) for c in STORED_CRM_COLUMNS)},
                       hash_phone({_typed_sql("PhoneNumber", "PhoneNumber" in present)}),
                       $extract_date, $source_key, $ingested_at
                FROM _crm_extract_rows""",
            {"extract_date": newest.extract_date, "source_key": newest.key, "ingested_at": ingested_at},
        )
        if typed:  # unparseable: a cell not empty in the file and null in the table
            # fetchall, not fetchone: an unfinished result would block unregister
            given = con.execute("SELECT " + ", ".join(f"count(nullif({q(c)}, ''))" for c in typed)
                                + " FROM _crm_extract_rows").fetchall()[0]
            kept = con.execute("SELECT " + ", ".join(f"count({q(c)})" for c in typed)
                               + " FROM stg_crm_customer").fetchall()[0]
            stats.update({f"crm_unparseable:{c}": g - k for c, g, k in zip(typed, given, kept) if g > k})
    finally:
        con.unregister("_crm_extract_rows")
    stats["crm_extracts_applied"] = 1
    stats.update(newest.stats)
    return stats
