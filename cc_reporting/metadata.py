"""Dagster metadata every table asset reports: row count, column schema and a small preview."""
from __future__ import annotations

import dagster as dg

_TYPES = {"VARCHAR": "string", "INTEGER": "int", "BIGINT": "int", "DOUBLE": "float", "BOOLEAN": "bool"}


def table_metadata(con, table: str, preview_sql: str | None = None, limit: int = 5, params: list | None = None) -> dict:
    """`dagster/row_count`, `dagster/column_schema` and a Markdown preview of `table`."""
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    described = con.execute(f"DESCRIBE {table}").fetchall()
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name=c[0], type=_TYPES.get(c[1], c[1].lower())) for c in described]
    )
    cursor = con.execute(preview_sql or f"SELECT * FROM {table} LIMIT {limit}", params or [])
    names = [d[0] for d in cursor.description]
    body = cursor.fetchall()
    return {
        "dagster/row_count": dg.MetadataValue.int(rows),
        "dagster/column_schema": schema,
        "preview": dg.MetadataValue.md(markdown_table(names, body)),
    }


def markdown_table(names, rows) -> str:
    def cell(value):
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) if rows else "_(no rows)_"
