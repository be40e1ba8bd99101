"""Dagster metadata every table asset reports: row count, column schema and a small preview."""
from __future__ import annotations

import dagster as dg

_TYPES = {"VARCHAR": "string", "INTEGER": "int", "BIGINT": "int", "DOUBLE": "float", "BOOLEAN": "bool"}


def table_metadata(con, table: str, preview_sql: str | None = None, limit: int = 5, params: list | None = None) -> dict:
    """`dagster/row_count`, `dagster/column_schema` and a Markdown preview of `table`."""
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    schema = column_schema(con, table)
    cursor = con.execute(preview_sql or f"SELECT * FROM {table} LIMIT {limit}", params or [])
    names = [d[0] for d in cursor.description]
    body = cursor.fetchall()
    return {
        "dagster/row_count": dg.MetadataValue.int(rows),
        "dagster/column_schema": schema,
        "preview": dg.MetadataValue.md(markdown_table(names, body)),
    }


def column_schema(con, table: str) -> dg.TableSchema:
    described = con.execute(f"DESCRIBE {table}").fetchall()
    return dg.TableSchema(columns=[dg.TableColumn(name=c[0], type=_TYPES.get(c[1], c[1].lower())) for c in described])


def markdown_table(names, rows) -> str:
    def cell(value):
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) if rows else "_(no rows)_"


def rows_per_partition(con, table: str, start, end, minutes: int, naive_utc: bool = False) -> dict:
    """Partition key (`YYYY-MM-DD-HH:MM`, UTC) → rows of `table` in it, over [start, end) of its `interval_start`
    (a TIMESTAMPTZ, or with `naive_utc` a TIMESTAMP holding UTC)."""
    utc = "interval_start" if naive_utc else "timezone('UTC', interval_start)"
    return dict(con.execute(
        f"""SELECT strftime(time_bucket(INTERVAL {int(minutes)} MINUTE, {utc}), '%Y-%m-%d-%H:%M'), count(*)
            FROM {table} WHERE interval_start >= ? AND interval_start < ? GROUP BY 1""", [start, end]).fetchall())


def add_partition_metadata(context, per_key: dict, once: dict) -> None:
    """Each partition of a range run gets its own small metadata on its own materialization (Dagster records one
    per key; what the MaterializeResult carries is copied onto every one of them, so that stays a few counts).
    `once` (previews, schema) goes on the last key only, the materialization the UI shows as the latest."""
    keys = context.partition_keys
    for key in keys:
        extra = {**per_key.get(key, {}), **(once if key == keys[-1] else {})}
        if extra:
            context.add_asset_metadata(extra, partition_key=key)
