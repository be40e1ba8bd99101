"""The Teleopti files of a whole window rendered by DuckDB in one statement per kind, byte for byte what
`csv_line` makes of each row.

`csv_cell` (files.py) stays the one quoting rule. SQL writes a cell itself only where that rule provably leaves the
value unchanged: an integer (its decimal digits, as `format_number` writes it), null (empty), and text that starts
with no formula prefix and holds neither the separator, `"`, CR nor LF. Every other value (guarded or quoted text,
a fraction) is decided by `csv_cell` in Python, once per distinct value of the window, and joined back in.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from cc_reporting.models.teleopti.csv_rule import FORMULA_PREFIXES, QUOTE_TRIGGERS, csv_cell

_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                  "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}


def _sql_text(chars: str) -> str:
    return ", ".join(f"chr({ord(c)})" for c in chars)


def plain_text(column: str, separator: str) -> str:
    """True where `csv_cell` returns the text unchanged (a sufficient test: anything else goes to Python)."""
    contained = " OR ".join(f"contains({column}, chr({ord(c)}))" for c in separator + QUOTE_TRIGGERS)
    return f"(left({column}, 1) NOT IN ({_sql_text(''.join(FORMULA_PREFIXES))}) AND NOT ({contained}))"


def _column_types(con, table: str) -> dict[str, str]:
    return {name: dtype for name, dtype, *_ in con.execute(f"DESCRIBE {table}").fetchall()}


def render_window(con, kind, start: datetime, end: datetime) -> Iterator[tuple[datetime, str]]:
    """(interval start, file body without header) of every interval of [start, end) that has rows, in order."""
    types = _column_types(con, kind.table)
    window = "interval_start >= $start AND interval_start < $end"
    sep = kind.separator
    cells, needs_python = [], []
    for i, column in enumerate(kind.columns):
        quoted, dtype = f'"{column}"', types[column]
        if dtype in _INTEGER_TYPES:
            cells.append(f"coalesce(CAST({quoted} AS VARCHAR), '')")
        elif dtype == "VARCHAR":
            plain = plain_text(quoted, sep)
            cells.append(f"CASE WHEN {quoted} IS NULL THEN '' WHEN {plain} THEN {quoted} ELSE lookup_{i}.cell END")
            needs_python.append((i, column, dtype, f"{quoted} IS NOT NULL AND NOT {plain}"))
        else:
            cells.append(f"coalesce(lookup_{i}.cell, '')")
            needs_python.append((i, column, dtype, f"{quoted} IS NOT NULL"))
    params: dict = {"start": start, "end": end}
    joins = []
    if needs_python:
        distinct = ", ".join(f'list(DISTINCT "{column}") FILTER (WHERE {where})' for _, column, _, where in needs_python)
        values = con.execute(f"SELECT {distinct} FROM {kind.table} WHERE {window}", params).fetchone()
        for (i, column, dtype, _), found in zip(needs_python, values):
            found = found or []
            params[f"values_{i}"], params[f"cells_{i}"] = found, [csv_cell(v, sep) for v in found]
            joins.append(f"""LEFT JOIN (SELECT unnest($values_{i}::{dtype}[]) AS value,
                                               unnest($cells_{i}::VARCHAR[]) AS cell) lookup_{i}
                             ON lookup_{i}.value = t."{column}" """)
    # concat() of the cells and separators: one allocation per line (a chain of || is three times slower).
    line = "concat(" + f", chr({ord(sep)}), ".join(cells) + ", chr(10))"
    cursor = con.execute(f"""
        SELECT interval_start, string_agg(line, '' ORDER BY {kind.order_by}) FROM (
            SELECT t.*, {line} AS line FROM (SELECT * FROM {kind.table} WHERE {window}) t {' '.join(joins)})
        GROUP BY interval_start ORDER BY interval_start""", params)
    while batch := cursor.fetchmany(8):  # a few bodies at a time: a busy day's contacts run to tens of MB
        yield from batch
