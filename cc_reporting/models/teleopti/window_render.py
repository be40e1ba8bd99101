"""The Teleopti files of a whole window rendered by DuckDB in one statement per kind, byte for byte what
`csv_line` makes of each row.

`csv_cell` (csv_rule.py) stays the one quoting rule. SQL writes a cell itself only where that rule provably leaves the
value unchanged: an integer (its decimal digits, as `format_number` writes it), null (empty), and text that starts
with no formula prefix and holds neither the separator, `"`, CR nor LF. Every other value (guarded or quoted text,
a fraction) is decided by `csv_cell` in Python, once per distinct value of the window, and looked up by SQL.
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


def render_window(con, kind, start: datetime, end: datetime,
                  instance: str | None = None) -> Iterator[tuple[datetime, str]]:
    """(interval start, file body without header) of every interval of [start, end) that has rows, in order;
    only `instance`'s rows when given (None: every row, the single-instance case)."""
    types = _column_types(con, kind.table)
    window = "interval_start >= $start AND interval_start < $end"
    if instance is not None:
        window += " AND connect_instance = $instance"
    scope = {"instance": instance} if instance is not None else {}
    sep = kind.separator
    cells, texts, others = [], [], []
    for column in kind.columns:
        quoted, dtype = f'"{column}"', types[column]
        if dtype in _INTEGER_TYPES:
            cells.append(f"coalesce(CAST({quoted} AS VARCHAR), '')")
        elif dtype == "VARCHAR":
            # CASE runs its ELSE branch only on the rows that reach it: the lookup costs only the rare cells
            cells.append(f"CASE WHEN {quoted} IS NULL THEN '' WHEN {plain_text(quoted, sep)} THEN {quoted} "
                         f"ELSE $text_cells[list_position($texts, {quoted})] END")
            texts.append(quoted)
        else:
            cells.append(f"coalesce($other_cells[list_position($others, {quoted})], '')")
            others.append((quoted, dtype))
    if len({dtype for _, dtype in others}) > 1:
        raise ValueError(f"{kind.table}: one non-integer, non-text column type per file kind, got {others}")
    # The window's values csv_cell must decide, whatever their column (the cell depends on the value alone):
    # one statement, two distinct sets.
    text_list = f"[{', '.join(texts)}]" if texts else "[]::VARCHAR[]"
    other_list = f"[{', '.join(q for q, _ in others)}]" if others else "[]::DOUBLE[]"
    found_texts, found_others = con.execute(
        f"""SELECT coalesce(list(DISTINCT t) FILTER (WHERE t IS NOT NULL AND NOT {plain_text('t', sep)}), []),
                   coalesce(list(DISTINCT o) FILTER (WHERE o IS NOT NULL), [])
            FROM (SELECT unnest({text_list}) AS t, unnest({other_list}) AS o FROM {kind.table} WHERE {window})""",
        {"start": start, "end": end} | scope).fetchone()
    params = scope | {"start": start, "end": end, "texts": found_texts,
                      "text_cells": [csv_cell(v, sep) for v in found_texts]}
    if others:
        params |= {"others": found_others, "other_cells": [csv_cell(v, sep) for v in found_others]}
    # concat() of the cells and separators: one allocation per line (a chain of || is three times slower).
    line = "concat(" + f", chr({ord(sep)}), ".join(cells) + ", chr(10))"
    cursor = con.execute(f"""
        SELECT interval_start, string_agg({line}, '' ORDER BY {kind.order_by}) FROM {kind.table}
        WHERE {window} GROUP BY interval_start ORDER BY interval_start""", params)
    while batch := cursor.fetchmany(8):  # a few bodies at a time: a busy day's contacts run to tens of MB
        yield from batch
