"""The ingestion ledger: which landing object (key + ETag) was ingested, with what result.

Written in the same transaction as the staged rows, so it never claims work that did not commit.
"""
from __future__ import annotations

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
    con.execute("CREATE OR REPLACE TEMP TABLE _candidates (object_key VARCHAR, etag VARCHAR)")
    con.executemany("INSERT INTO _candidates VALUES (?, ?)", [(o.key, o.etag) for o in objects])
    rows = con.execute(
        """SELECT c.object_key, c.etag FROM _candidates c
           JOIN ingest_ledger l ON l.source = ? AND l.object_key = c.object_key AND l.etag = c.etag""",
        [source],
    ).fetchall()
    return {(k, e) for k, e in rows}


def record(con, source: str, entries: list[dict], run_id: str, ingested_at) -> None:
    con.executemany(
        """INSERT OR REPLACE INTO ingest_ledger
           (source, object_key, etag, size, records, status, error, quarantine_key, run_id, ingested_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            (source, e["key"], e["etag"], e["size"], e["records"], e["status"], e.get("error"),
             e.get("quarantine_key"), run_id, ingested_at)
            for e in entries
        ],
    )
