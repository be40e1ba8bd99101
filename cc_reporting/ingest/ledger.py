"""The ingestion ledger: which landing object (key + ETag) was ingested, with what result.

Written in the same transaction as the staged rows, so it never claims work that did not commit.
"""
from __future__ import annotations

import pyarrow as pa

from cc_reporting.resources.warehouse import arrow_view

LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS ingest_ledger (
    source VARCHAR NOT NULL,          -- 'ctr', 'agent_report', ...
    object_key VARCHAR NOT NULL,
    etag VARCHAR NOT NULL,
    size BIGINT,
    records INTEGER,
    status VARCHAR NOT NULL,          -- 'ingested', 'partial' (some records kept), 'quarantined'
    error VARCHAR,
    quarantine_key VARCHAR,
    run_id VARCHAR,
    ingested_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, object_key, etag)
)
"""


def ensure_ledger(con) -> None:
    con.execute(LEDGER_DDL)


def already_ingested(con, source: str, objects) -> set[tuple[str, str]]:
    """(key, etag) pairs of `objects` the ledger already holds: re-ingesting them is a no-op."""
    if not objects:
        return set()
    # One Arrow table, not one statement per object: executemany costs ~3 ms a row in DuckDB.
    candidates = pa.table({"object_key": [o.key for o in objects], "etag": [o.etag for o in objects]},
                          schema=pa.schema([("object_key", pa.string()), ("etag", pa.string())]))
    with arrow_view(con, "_ledger_candidates", candidates):
        rows = con.execute(
            """SELECT c.object_key, c.etag FROM _ledger_candidates c
               JOIN ingest_ledger l ON l.source = ? AND l.object_key = c.object_key AND l.etag = c.etag""",
            [source],
        ).fetchall()
    return {(k, e) for k, e in rows}


_ENTRY_SCHEMA = pa.schema([("object_key", pa.string()), ("etag", pa.string()), ("size", pa.int64()),
                           ("records", pa.int32()), ("status", pa.string()), ("error", pa.string()),
                           ("quarantine_key", pa.string())])


def record(con, source: str, entries: list[dict], run_id: str, ingested_at) -> None:
    rows = pa.Table.from_pylist(
        [{"object_key": e["key"], "etag": e["etag"], "size": e["size"], "records": e["records"],
          "status": e["status"], "error": e.get("error"), "quarantine_key": e.get("quarantine_key")}
         for e in entries], schema=_ENTRY_SCHEMA)
    with arrow_view(con, "_ledger_entries", rows):
        con.execute(
            """INSERT OR REPLACE INTO ingest_ledger
               (source, object_key, etag, size, records, status, error, quarantine_key, run_id, ingested_at)
               SELECT ?, object_key, etag, size, records, status, error, quarantine_key, ?, ?::TIMESTAMPTZ
               FROM _ledger_entries""",
            [source, run_id, ingested_at],
        )
