"""`stg_crm_customer`: the customer master from the CRM extract `crm/customers-YYYY-MM-DD.csv` (car-jar.md §8).

The extract is a full dump, not a delta: the file with the latest date in its name is the whole master. A newer
extract replaces the table; an older one landing late (a re-sent or delayed dump) changes nothing. The same date
landing again (the same key with a new ETag, necessarily later) is a corrected dump and replaces the table.

Columns are found by header name. A bad value becomes null and is counted instead of dropping the customer: the
CAR needs every customer, and one bad cell must not hide the rest of its row. A file that cannot be read as a
whole (not UTF-8, broken quoting, no `Cust_ID` column, no customer row) is quarantined rather than applied, since
applying it would wipe the master.

`PhoneNumber` is hashed in SQL with `hash_phone` (staging/pii.py) on the way in; the clear number never reaches a
DuckDB table, only `phone_hash` is stored (car-jar.md §2).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

import pyarrow as pa

from cc_reporting.ingest.batch import Parsed
from cc_reporting.resources.landing import LandingObject

CRM_PREFIX = "crm/"
_KEY_RE = re.compile(r"^crm/customers-(\d{4}-\d{2}-\d{2})\.csv$")

# Every column of the extract, in the order of the spec's header. Types per car-jar.md §8.
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
_TRUE, _FALSE = {"true", "1", "y", "yes"}, {"false", "0", "n", "no"}
_INT_RE = re.compile(r"^[+-]?[0-9]+$")  # plain base-10: no `4_2`, `4.0`, `1e3` (Python's int() accepts some)
_INT_MAX = 2**31 - 1
_DEC_MAX = Decimal("1e16")  # DECIMAL(18,2) holds 16 integer digits


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


# -- values -------------------------------------------------------------------------------------------------
class Unparseable(ValueError):
    pass


def _integer(text: str) -> int:
    # All four integer columns are ages, months or counts: a negative value is as wrong as a non-number.
    if not _INT_RE.match(text) or not 0 <= int(text) <= _INT_MAX:
        raise Unparseable(text)
    return int(text)


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Unparseable(text) from None
    if not value.is_finite() or abs(value) >= _DEC_MAX:
        raise Unparseable(text)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise Unparseable(text)


def _converter(column: str):
    kind = CRM_TYPES[column]
    if column in ENUMS:
        allowed = ENUMS[column]

        def enum(text: str) -> str:
            if text.upper() not in allowed:
                raise Unparseable(text)
            return text.upper()
        return enum
    return {"INTEGER": _integer, "DECIMAL(18,2)": _decimal, "BOOLEAN": _boolean}.get(kind, lambda text: text)


_CONVERTERS = {c: _converter(c) for c in CRM_COLUMNS}


# -- parse --------------------------------------------------------------------------------------------------
@dataclass
class CrmExtract:
    """One extract file; its rows point to it so merge knows which file each row belongs to."""
    key: str
    extract_date: date
    last_modified: datetime
    stats: dict[str, int] = field(default_factory=dict)


class CrmRow(NamedTuple):
    extract: CrmExtract
    values: tuple  # typed, in CRM_COLUMNS order (PhoneNumber still clear: hashed by merge in SQL)


def _cell(fields: list[str], position: int | None) -> str | None:
    if position is None or position >= len(fields):
        return None
    text = fields[position].strip()
    return text or None


def parse_crm_extract(obj: LandingObject, data: bytes) -> Parsed:
    extract_date = crm_extract_date(obj.key)
    if extract_date is None:
        return Parsed([], "not a CRM extract name (crm/customers-YYYY-MM-DD.csv)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Parsed([], f"not UTF-8: {exc}")
    # strict: a stray quote must fail the file, not silently swallow the lines after it into one field
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return Parsed([], "empty file: no header row")
        by_name: dict[str, int] = {}
        for position, name in enumerate(header):
            by_name.setdefault(name.strip().lower(), position)  # any order, any case; unknown names ignored
        positions = {c: by_name.get(c.lower()) for c in CRM_COLUMNS}
        if positions["Cust_ID"] is None:
            return Parsed([], "no Cust_ID column")
        latest: dict[str, list[str]] = {}
        skipped = duplicates = 0
        for fields in reader:
            if not fields:  # a blank line is no row
                continue
            cust_id = _cell(fields, positions["Cust_ID"])
            if cust_id is None:
                skipped += 1
                continue
            if cust_id in latest:
                duplicates += 1
            latest[cust_id] = fields  # the last row of a repeated Cust_ID wins
    except csv.Error as exc:
        return Parsed([], f"not readable as CSV (line {reader.line_num}): {exc}")

    extract = CrmExtract(obj.key, extract_date, obj.last_modified)
    stats = extract.stats
    stats.update({"crm_rows": len(latest), "crm_rows_without_cust_id": skipped, "crm_duplicate_cust_id": duplicates})
    for column in CRM_COLUMNS:
        if positions[column] is None:
            stats[f"crm_missing_column:{column}"] = 1
    present = [(column, positions[column], _CONVERTERS[column]) for column in CRM_COLUMNS]
    rows = []
    for fields in latest.values():  # typed only for the winners: counts describe what is staged
        values = []
        for column, position, convert in present:
            raw = _cell(fields, position)
            value = None
            if raw is not None:
                try:
                    value = convert(raw)
                except Unparseable:
                    stats[f"crm_unparseable:{column}"] = stats.get(f"crm_unparseable:{column}", 0) + 1
            values.append(value)
        rows.append(CrmRow(extract, tuple(values)))
    if not rows:
        return Parsed([], "no customer row: an empty extract would wipe the customer master")
    return Parsed(rows, None)


# -- merge --------------------------------------------------------------------------------------------------
_ARROW_TYPES = {"VARCHAR": pa.string(), "INTEGER": pa.int32(), "DECIMAL(18,2)": pa.decimal128(18, 2),
                "BOOLEAN": pa.bool_()}


def merge_crm_extract(con, items: list[CrmRow], batch_id: str, ingested_at) -> dict:
    """Apply the newest extract of the batch when it is at least as new as the staged master.

    Runs in the caller's transaction (ingest/batch.py). Counts are numbers only (the loop sums them); row, skip,
    duplicate, unparseable and missing-column counts describe the applied extract. `batch_id` is unused: the
    table is replaced whole, so there are no touched rows to mark.
    """
    ensure_crm_table(con)
    extracts: dict[str, tuple[CrmExtract, list]] = {}
    for item in items:
        extracts.setdefault(item.extract.key, (item.extract, []))[1].append(item.values)
    newest, rows = max(extracts.values(), key=lambda e: (e[0].extract_date, e[0].last_modified, e[0].key))
    current = con.execute("SELECT max(extract_date) FROM stg_crm_customer").fetchone()[0]  # None: no master yet
    stats = {"crm_extracts_read": len(extracts), "crm_extracts_applied": 0,
             "crm_extracts_ignored_older": len(extracts) - 1}
    # `>=`: the same date again can only be the same key re-sent with new content, landed later: a correction.
    if current is not None and newest.extract_date < current:
        stats["crm_extracts_ignored_older"] = len(extracts)
        return stats

    columns = {c: [r[i] for r in rows] for i, c in enumerate(CRM_COLUMNS)}
    table = pa.table({c: pa.array(v, _ARROW_TYPES[CRM_TYPES[c]]) for c, v in columns.items()})
    con.execute("DELETE FROM stg_crm_customer")
    # The clear numbers live only in this Arrow view, scanned once and hashed on the way into the table.
    con.register("_crm_extract_rows", table)
    try:
        con.execute(
            f"""INSERT INTO stg_crm_customer ({', '.join(q(c) for c in STORED_CRM_COLUMNS)},
                                              phone_hash, extract_date, source_key, ingested_at)
                SELECT {', '.join(q(c) for c in STORED_CRM_COLUMNS)}, hash_phone("PhoneNumber"),
                       $extract_date, $source_key, $ingested_at
                FROM _crm_extract_rows""",
            {"extract_date": newest.extract_date, "source_key": newest.key, "ingested_at": ingested_at},
        )
    finally:
        con.unregister("_crm_extract_rows")
    stats["crm_extracts_applied"] = 1
    stats.update(newest.stats)
    return stats
