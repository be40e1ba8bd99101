"""The `bi` schema: curated views over the warehouse for BI tools that attach it read-only between runs.

Each view is `sql/<view>.sql` (one grain, snake_case, TIMESTAMPTZ, BOOLEAN flags), commented view by view and column
by column from the column catalog (`delivery/column_catalog`). A view is (re)built once its source tables exist;
its CAR columns from `SENSITIVE_COLUMNS` are left out unless CC_CAR_EXPORT_SENSITIVE=true, as in the Parquet export.
Everything is replaced in one transaction, and skipped when the stored fingerprint says nothing changed: the assets
call this on every run, and each catalog write is a commit.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from cc_reporting.delivery import column_catalog
from cc_reporting.models.analytics.car import SENSITIVE_COLUMNS

SQL_DIR = Path(__file__).with_name("sql")
SCHEMA = "bi"
# Stable names kept for BI reports made before the `bi` schema (same rows and columns as their tables).
LEGACY_VIEWS = {"bi_jar": "jar", "bi_car": "car", "bi_kpi_interval": "kpi_interval", "bi_kpi_daily": "kpi_daily",
                "bi_teleopti_queue_stats": "teleopti_queue_stats"}


def _sql(view: str) -> str:
    text = (SQL_DIR / f"{view}.sql").read_text()
    return text.replace("{queue_measures}", (SQL_DIR / "queue_measures.sql").read_text().strip())


def sensitive_columns(con, view: str) -> list[str]:
    """The view's columns that show a sensitive CAR column."""
    sensitive = {("car", column) for column in SENSITIVE_COLUMNS}
    return [name for name, *_ in con.execute(f"DESCRIBE {_sql(view)}").fetchall()
            if column_catalog.source_of(view, name) in sensitive]


def view_sql(con, view: str, include_sensitive: bool) -> str:
    hidden = [] if include_sensitive else sensitive_columns(con, view)
    if not hidden:
        return _sql(view)
    excluded = ", ".join(f'"{c}"' for c in hidden)
    return f"SELECT * EXCLUDE ({excluded}) FROM (\n{_sql(view)}\n) AS curated"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fingerprint(built: list[str], include_sensitive: bool) -> str:
    parts = [str(include_sensitive), *built, *(_sql(v) for v in built),
             *(p.read_text() for p in sorted(column_catalog.DOCS.glob("*.yaml")))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _stored_fingerprint(con) -> str | None:
    # A macro, not a table: BI tools listing the schema see the views only (DuckDB has no schema comments).
    # Calling it is cheap; listing duckdb_functions() to find it took ~50 ms.
    try:
        return con.execute(f"SELECT {SCHEMA}.build_fingerprint()").fetchone()[0]
    except duckdb.CatalogException:
        return None


def _comment_view(con, view: str) -> None:
    entry = column_catalog.views()[view]
    con.execute(f"COMMENT ON VIEW {SCHEMA}.{view} IS {_literal(entry['comment'])}")
    columns_sql = "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?"
    for (column,) in con.execute(columns_sql, [SCHEMA, view]).fetchall():
        description = column_catalog.describe(view, column)
        if description:  # a column without one is left bare; test_bi_views names it
            con.execute(f'COMMENT ON COLUMN {SCHEMA}.{view}."{column}" IS {_literal(description)}')


def ensure_bi_views(con, include_sensitive: bool) -> list[str]:
    """Create or replace every `bi` view whose source tables exist, with comments; returns the views built."""
    existing = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary").fetchall()}
    built = [v for v, entry in column_catalog.views().items() if set(entry["requires"]) <= existing]
    fingerprint = _fingerprint(built, include_sensitive)
    if _stored_fingerprint(con) == fingerprint:
        return built
    con.execute("BEGIN TRANSACTION")
    try:
        _replace_views(con, built, existing, include_sensitive, fingerprint)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return built


def _replace_views(con, built: list[str], existing: set[str], include_sensitive: bool, fingerprint: str) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    # Every view of the schema, so one the catalog renamed or dropped does not linger.
    for (view,) in con.execute("SELECT view_name FROM duckdb_views() WHERE schema_name = ?", [SCHEMA]).fetchall():
        con.execute(f'DROP VIEW {SCHEMA}."{view}"')
    for view in built:
        con.execute(f"CREATE VIEW {SCHEMA}.{view} AS\n{view_sql(con, view, include_sensitive)}")
        _comment_view(con, view)
    for legacy, table in LEGACY_VIEWS.items():
        if table in existing:
            con.execute(f"CREATE OR REPLACE VIEW main.{legacy} AS SELECT * FROM main.{table}")
    con.execute(f"CREATE OR REPLACE MACRO {SCHEMA}.build_fingerprint() AS {_literal(fingerprint)}")
