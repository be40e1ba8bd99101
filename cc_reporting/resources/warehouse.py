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
