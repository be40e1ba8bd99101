"""The column catalog: what every column of the warehouse assets and of the `bi` views means, written once.

`column_docs/<layer>.yaml` lists each asset table's columns in table order as `column: [DuckDB type, description]`;
`column_docs/bi.yaml` lists the `bi` views, whose columns point at the warehouse column they show (`=table.column`)
or inherit the description of a same-named column. The same text becomes the assets' `dagster/column_schema` at
definition time, the runtime schema's descriptions and the views' `COMMENT ON COLUMN`, so the three cannot disagree.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import dagster as dg
import yaml

from cc_reporting.metadata import table_metadata

DOCS = Path(__file__).with_name("column_docs")
# libyaml's loader reads the catalog in ~35 ms, the pure-Python one in ~290 ms (it is read when the assets load).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=_LOADER)


@lru_cache(maxsize=1)
def _load() -> tuple[dict, dict, dict]:
    """(tables, views, join_keys): tables from every layer file, views and join keys from bi.yaml."""
    tables: dict = {}
    for path in sorted(DOCS.glob("*.yaml")):
        if path.name != "bi.yaml":
            tables.update(_read(path))
    bi = _read(DOCS / "bi.yaml")
    return tables, bi["views"], bi["join_keys"]


def tables() -> dict:
    return _load()[0]


def views() -> dict:
    return _load()[1]


def join_keys() -> dict[str, list[str]]:
    return _load()[2]


def table_columns(table: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of `table`'s columns, in table order."""
    return [(name, entry[0]) for name, entry in tables()[table]["columns"].items()]


def _entry(name: str) -> dict:
    return tables().get(name) or views()[name]


def _own(name: str, column: str) -> str | None:
    """The description written on `name.column` itself, or its `=table.column` reference."""
    value = (_entry(name).get("columns") or {}).get(column)
    if isinstance(value, list):
        return value[1] if len(value) > 1 else None
    return value


def source_of(name: str, column: str) -> tuple[str, str] | None:
    """The column `name.column` shows, one step back: its `=table.column` reference, else the same-named column of
    the first inherited table that has it; None when `name.column` carries its own description."""
    own = _own(name, column)
    if own is not None:
        if not own.startswith("="):
            return None
        table, _, source_column = own[1:].partition(".")
        return table, source_column
    for parent in _entry(name).get("inherits", []):
        if column in (_entry(parent).get("columns") or {}):
            return parent, column
    return None


def describe(name: str, column: str) -> str | None:
    """The description of `name.column` (a table or a view), following references and inheritance."""
    for _ in range(10):  # references are a few steps deep; a cycle gives no description rather than a hang
        own = _own(name, column)
        if own is not None and not own.startswith("="):
            return own
        found = source_of(name, column)
        if found is None:
            return None
        name, column = found
    return None


def column_schema(table: str) -> dg.TableSchema:
    """The asset's `dagster/column_schema`: the catalog's columns of `table`, with types and descriptions."""
    return dg.TableSchema(columns=[dg.TableColumn(name=name, type=sql_type, description=describe(table, name))
                                   for name, sql_type in table_columns(table)])


def definition_metadata(table: str) -> dict:
    """What an asset's decorator carries: its column schema, known before any run."""
    return {"dagster/column_schema": column_schema(table)}


def described_schema(con, table: str) -> dg.TableSchema:
    """The table as it is (DESCRIBE), each column with its catalog description: the runtime schema."""
    return dg.TableSchema(columns=[dg.TableColumn(name=name, type=sql_type, description=describe(table, name))
                                   for name, sql_type, *_ in con.execute(f'DESCRIBE "{table}"').fetchall()])


def described_table_metadata(con, table: str, preview_sql: str | None = None, **kwargs) -> dict:
    """`metadata.table_metadata` with the column schema carrying the catalog's descriptions (a materialization's
    schema is what the UI shows once there is one, so it must not lose them)."""
    return {**table_metadata(con, table, preview_sql, **kwargs), "dagster/column_schema": described_schema(con, table)}
