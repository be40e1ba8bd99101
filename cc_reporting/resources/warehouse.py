"""The DuckDB warehouse. One writer per file: every asset that writes runs in the `duckdb_writer` pool (size 1,
`dagster.yaml`), connections are short, and BI readers get Parquet exports instead of the live file."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from dagster_duckdb import DuckDBResource

WAREHOUSE_POOL = "duckdb_writer"


class Warehouse(DuckDBResource):
    @contextmanager
    def connect(self):
        if self.database != ":memory:":
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with self.get_connection() as con:
            # Sources are UTC; local time appears only at the edges (CC_REPORT_TIMEZONE).
            con.execute("SET TimeZone = 'UTC'")
            yield con


@contextmanager
def arrow_view(con, name: str, table):
    """Expose an Arrow table to SQL as `name` inside the block (bulk input without a statement per row).

    DuckDB 2.0 refuses `register` while an earlier result on the connection is unfinished (a `fetchone()` leaves
    it so): finish it first.
    """
    con.complete()
    con.register(name, table)
    try:
        yield name
    finally:
        con.unregister(name)
