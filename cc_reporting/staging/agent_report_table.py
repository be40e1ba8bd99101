"""`stg_agent_report`: the scheduled `TeleoptiAgentPerformance` report, one row per agent and 30-minute interval.

Parsed by header name, never by position (docs/connect-inputs.md §3). Consecutive runs overlap: per (agent,
interval) the row of the file created last wins, taken as (LastModified, key).
"""
from __future__ import annotations

import csv
import io
import zlib
from datetime import datetime
from decimal import Decimal

import pyarrow as pa

from cc_reporting.ingest.batch import Parsed
from cc_reporting.ingest.bounded import BodyTooLarge, LineSizes, bounded_body, current_bounds, record_too_large
from cc_reporting.resources.landing import LandingObject
from cc_reporting.staging.agent_report_batch import ReportFile, report_files_sql, stage_report_body
from cc_reporting.staging.instances import instance_sql
from cc_reporting.staging.scratch import without_bom

STG_AGENT_REPORT_DDL = """
CREATE TABLE IF NOT EXISTS stg_agent_report (
    agent_username VARCHAR NOT NULL,
    interval_start TIMESTAMPTZ NOT NULL,
    interval_end TIMESTAMPTZ NOT NULL,
    agent_name VARCHAR,
    online_s INTEGER, non_productive_s INTEGER, idle_s INTEGER, on_contact_s INTEGER,
    occupancy DOUBLE,
    source_key VARCHAR NOT NULL,
    source_last_modified TIMESTAMPTZ NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL,
    connect_instance VARCHAR NOT NULL DEFAULT 'default',  -- the instance whose landing prefix held the report
    PRIMARY KEY (connect_instance, agent_username, interval_start)
)
"""

TOUCHED_DDL = """
CREATE TABLE IF NOT EXISTS stg_agent_report_touched (
    batch_id VARCHAR NOT NULL, interval_start TIMESTAMPTZ NOT NULL, ingested_at TIMESTAMPTZ NOT NULL
)
"""

REPORT_PREFIX = "reports/"
REPORT_NAME = "TeleoptiAgentPerformance"


def is_agent_report_key(key: str) -> bool:
    """Real names hold the report name and a creation time of unverified shape: match prefix and `.csv` only."""
    return key.startswith(REPORT_PREFIX) and key.rsplit("/", 1)[-1].startswith(REPORT_NAME) and key.endswith(".csv")


REQUIRED_COLUMNS = ("Agent", "StartInterval", "EndInterval", "Online time", "Non-Productive Time", "Agent idle time")
DURATION_COLUMNS = {
    "Online time": "online_s",
    "Non-Productive Time": "non_productive_s",
    "Agent idle time": "idle_s",
    "Agent on contact time": "on_contact_s",
}
COLUMNS = (
    "agent_username", "interval_start", "interval_end", "agent_name",
    "online_s", "non_productive_s", "idle_s", "on_contact_s", "occupancy",
    "source_key", "source_last_modified",
)


def _blank(value: str | None) -> bool:
    return value is None or value.strip() in ("", "-")


def parse_duration(value: str | None) -> int | None:
    """Seconds, a decimal point accepted (rounded half up); `-` or empty = no data."""
    if _blank(value):
        return None
    seconds = int(float(value.strip()) + 0.5)  # nan: ValueError, inf: OverflowError
    if not -2**31 <= seconds < 2**31:  # the INTEGER column: out of range would fail the whole merge
        raise ValueError(f"duration out of range: {value.strip()[:40]!r}")
    return seconds


def parse_percent(value: str | None) -> float | None:
    if _blank(value):
        return None
    return float(Decimal(value.strip().rstrip("%")) / 100)  # Decimal: '83.33%' is exactly 0.8333


def parse_interval(value: str) -> datetime:
    return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))


def _agent_name(row: dict) -> str | None:
    if not _blank(row.get("Agent Name")):
        return row["Agent Name"].strip()
    parts = [row.get(c, "").strip() for c in ("Agent First Name", "Agent Last Name") if not _blank(row.get(c))]
    return " ".join(parts) or None


def parse_agent_report(obj: LandingObject, data: bytes) -> Parsed:
    bounds = current_bounds()
    try:
        body = bounded_body(data, bounds.max_decompressed_bytes)
        text = body.decode("utf-8-sig")
    except BodyTooLarge as exc:
        return Parsed([], str(exc))
    except (OSError, EOFError, zlib.error) as exc:
        return Parsed([], f"cannot decode gzip body: {type(exc).__name__}: {exc}")
    except UnicodeDecodeError as exc:
        return Parsed([], f"not UTF-8: {exc}")
    lines = LineSizes(io.StringIO(text, newline=""))
    reader = csv.DictReader(lines)
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        return Parsed([], f"not readable as CSV: {exc}")
    header_size = lines.take()
    if header_size > bounds.max_record_bytes:
        return Parsed([], f"header: {record_too_large(header_size, bounds.max_record_bytes)}")
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return Parsed([], f"missing required column(s): {', '.join(missing)}")
    staged = stage_report_body(without_bom(body), header, header_size, bounds.max_record_bytes, obj.key,
                               obj.last_modified)
    if staged is not None:  # every row read alike by DuckDB: one item per row, all the same file (counted as rows)
        return Parsed([staged] * staged.rows, None)
    rows, bad = [], []
    try:
        _read_report_rows(obj, reader, rows, bad, lines, bounds.max_record_bytes)
    except csv.Error as exc:  # e.g. a field larger than the csv module's limit: keep the rows before it
        bad.append(f"line {reader.line_num}: not readable as CSV: {exc}")
    error = f"{len(bad)} unreadable row(s): " + "; ".join(bad[:5]) if bad else None
    return Parsed(rows, error)


def _read_report_rows(obj: LandingObject, reader, rows: list, bad: list, lines: LineSizes, max_record: int) -> None:
    for line_no, row in enumerate(reader, start=2):
        size = lines.take()
        if size > max_record:
            bad.append(f"line {line_no}: {record_too_large(size, max_record)}")
            continue
        try:
            if _blank(row.get("Agent")):
                raise ValueError("empty Agent")
            item = {
                "agent_username": row["Agent"].strip(),
                "interval_start": parse_interval(row["StartInterval"]),
                "interval_end": parse_interval(row["EndInterval"]),
                "agent_name": _agent_name(row),
                "occupancy": parse_percent(row.get("Occupancy")),
                "source_key": obj.key,
                "source_last_modified": obj.last_modified,
            }
            for column, name in DURATION_COLUMNS.items():
                item[name] = parse_duration(row.get(column))
        except (ValueError, TypeError, AttributeError, ArithmeticError) as exc:  # Overflow, decimal errors
            bad.append(f"line {line_no}: {exc}")
            continue
        rows.append(item)


def merge_agent_report_rows(con, items: list, batch_id: str, ingested_at) -> dict:
    """Items: rows parsed by Python (dicts) and files DuckDB reads (ReportFile, repeated once per row)."""
    files = list(dict.fromkeys(i for i in items if isinstance(i, ReportFile)))
    rows = [i for i in items if not isinstance(i, ReportFile)]
    try:
        _create_report_batch(con, rows, files, ingested_at)
    finally:
        for file in files:
            file.staged.discard()
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _report_winners AS
           SELECT b.* FROM (
               SELECT * FROM _report_batch
               QUALIFY row_number() OVER (PARTITION BY connect_instance, agent_username, interval_start
                                          ORDER BY source_last_modified DESC, source_key DESC) = 1) b
           LEFT JOIN stg_agent_report s USING (connect_instance, agent_username, interval_start)
           WHERE s.agent_username IS NULL
              OR (b.source_last_modified, b.source_key) >= (s.source_last_modified, s.source_key)"""
    )
    replaced = con.execute(
        """SELECT count(*) FROM stg_agent_report s
           JOIN _report_winners w USING (connect_instance, agent_username, interval_start)"""
    ).fetchone()[0]
    con.execute(
        """DELETE FROM stg_agent_report s USING _report_winners w
           WHERE s.connect_instance = w.connect_instance AND s.agent_username = w.agent_username
             AND s.interval_start = w.interval_start"""
    )
    con.execute(
        """INSERT INTO stg_agent_report_touched
           SELECT DISTINCT ?, w.interval_start, ? FROM _report_winners w
           LEFT JOIN stg_agent_report s USING (connect_instance, agent_username, interval_start)
           WHERE s.agent_username IS NULL OR (w.online_s, w.non_productive_s, w.idle_s)
                 IS DISTINCT FROM (s.online_s, s.non_productive_s, s.idle_s)""",
        [batch_id, ingested_at],
    )
    con.execute("INSERT INTO stg_agent_report BY NAME SELECT * FROM _report_winners")
    kept = con.execute("SELECT count(*) FROM _report_winners").fetchone()[0]
    return {"report_rows_read": len(items), "new_rows": kept - replaced, "replaced_rows": replaced}


def _create_report_batch(con, rows: list[dict], files: list[ReportFile], ingested_at) -> None:
    selects = report_files_sql(con, files) if files else []
    if rows or not selects:
        # Column-wise through Arrow: executemany inserts row by row (40 s for a 1,000-agent day).
        # Created straight from the data, not `LIMIT 0` + INSERT (a DuckDB 2.0 bug loses rows past one row group).
        con.register("_report_arrow", pa.table({c: [r[c] for r in rows] for c in COLUMNS}))
        selects.append(
            """SELECT agent_username::VARCHAR AS agent_username, interval_start::TIMESTAMPTZ AS interval_start,
                      interval_end::TIMESTAMPTZ AS interval_end, agent_name::VARCHAR AS agent_name,
                      online_s::INTEGER AS online_s, non_productive_s::INTEGER AS non_productive_s,
                      idle_s::INTEGER AS idle_s, on_contact_s::INTEGER AS on_contact_s,
                      occupancy::DOUBLE AS occupancy, source_key::VARCHAR AS source_key,
                      source_last_modified::TIMESTAMPTZ AS source_last_modified
               FROM _report_arrow""")
    try:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _report_batch AS
                        SELECT *, {instance_sql('source_key')} AS connect_instance, ?::TIMESTAMPTZ AS ingested_at
                        FROM ({' UNION ALL BY NAME '.join(selects)})""",
                    [ingested_at])
    finally:
        for view in ("_report_arrow", "_report_file_names"):
            con.unregister(view)
