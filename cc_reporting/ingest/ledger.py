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
    # Python lists bind as DuckDB LISTs: one statement, and no Arrow (building Arrow from Python objects imports
    # pandas, ~0.4 s of an increment). executemany would cost ~3 ms a row.
    rows = con.execute(
        """SELECT c.object_key, c.etag
           FROM (SELECT unnest($keys::VARCHAR[]) AS object_key, unnest($etags::VARCHAR[]) AS etag) c
           JOIN ingest_ledger l ON l.source = $source AND l.object_key = c.object_key AND l.etag = c.etag""",
        {"keys": [o.key for o in objects], "etags": [o.etag for o in objects], "source": source},
    ).fetchall()
    return {(k, e) for k, e in rows}


_ENTRY_COLUMNS = {"object_key": "VARCHAR", "etag": "VARCHAR", "size": "BIGINT", "records": "INTEGER",
                  "status": "VARCHAR", "error": "VARCHAR", "quarantine_key": "VARCHAR"}


def record(con, source: str, entries: list[dict], run_id: str, ingested_at) -> None:
    if not entries:
        return
    values = {"object_key": [e["key"] for e in entries], "etag": [e["etag"] for e in entries],
              "size": [e["size"] for e in entries], "records": [e["records"] for e in entries],
              "status": [e["status"] for e in entries], "error": [e.get("error") for e in entries],
              "quarantine_key": [e.get("quarantine_key") for e in entries]}
    unnested = ", ".join(f"unnest(${c}::{t}[]) AS {c}" for c, t in _ENTRY_COLUMNS.items())
    con.execute(
        f"""INSERT OR REPLACE INTO ingest_ledger
            (source, object_key, etag, size, records, status, error, quarantine_key, run_id, ingested_at)
            SELECT $source, object_key, etag, size, records, status, error, quarantine_key, $run_id,
                   $ingested_at::TIMESTAMPTZ
            FROM (SELECT {unnested})""",
        {**values, "source": source, "run_id": run_id, "ingested_at": ingested_at},
    )
