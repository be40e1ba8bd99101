"""The DuckDB warehouse. One writer per file: every asset that writes runs in the `duckdb_writer` pool (size 1,
`dagster.yaml`), connections are short, and BI readers get Parquet exports instead of the live file."""
from __future__ import annotations

import logging
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

from dagster_duckdb import DuckDBResource
from pydantic import Field

WAREHOUSE_POOL = "duckdb_writer"


_DUCKDB_MAGIC = (8, b"DUCK")  # where DuckDB's main header says what the file is


def set_aside_unfinished_file(path: Path, min_age_s: float = 2.0) -> Path | None:
    """A process killed while DuckDB was creating the file leaves it without its header, and DuckDB then refuses
    the file forever ("not a valid DuckDB database file"). Such a file never held a committed transaction: rename
    it (and a WAL beside it) out of the way, keeping it for inspection, so the next run starts a new warehouse.
    A file with a header is never touched. Returns the new name, or None."""
    if not path.is_file() or time.time() - path.stat().st_mtime < min_age_s:  # young: maybe being created now
        return None
    offset, magic = _DUCKDB_MAGIC
    with path.open("rb") as f:
        f.seek(offset)
        if f.read(len(magic)) == magic:
            return None
    aside = path.with_name(f"{path.name}.unfinished-{int(time.time())}")
    path.rename(aside)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        wal.rename(aside.with_name(aside.name + ".wal"))
    return aside


# Connections held for a run (`Warehouse.hold_for_run`), by database path: Dagster hands each run its own copy of
# the resource object, so the one the orchestrator releases is found here, not on an attribute.
_held: dict[str, object] = {}


class Warehouse(DuckDBResource):
    hold_for_run: bool = Field(
        default=False,
        description="Open the file once and give each asset its own cursor of that connection until `release()` "
                    "(one open and one checkpoint per run instead of one per asset). Only for a process that is the "
                    "file's only writer and releases it after each run (`cc-reporting run` without DAGSTER_HOME): "
                    "the `duckdb_writer` pool is claimed per op, so a run holding the file between its ops would "
                    "lock out another run's op.")

    def release(self) -> None:
        """Close the connection held since the last release (the run's one checkpoint); a no-op if none."""
        held = _held.pop(self.database, None)
        if held is not None:
            held.close()

    def _open(self):
        if self.database != ":memory:":
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
            aside = set_aside_unfinished_file(Path(self.database))
            if aside is not None:
                logging.getLogger(__name__).warning(
                    "warehouse %s had no DuckDB header (a run was killed while creating it): moved to %s, "
                    "starting a new one", self.database, aside)
        return self.get_connection()

    @contextmanager
    def connect(self):
        if self.hold_for_run:
            if self.database not in _held:
                _held[self.database] = self._open().__enter__()
            con = _held[self.database].cursor()   # its own transactions and temp tables, the open database
            try:
                con.execute("SET TimeZone = 'UTC'")
                yield con
            finally:
                con.close()
            return
        with self._open() as con:
            try:
                # Sources are UTC; local time appears only at the edges (CC_REPORT_TIMEZONE).
                con.execute("SET TimeZone = 'UTC'")
                yield con
            finally:
                con.close()   # also when the asset raised: dagster_duckdb closes only on success


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


# Ids that may stand in SQL text as literals: the characters of Connect ids (UUIDs) and of our own keys. Anything
# else (hostile input can put quotes or NUL bytes in an id) takes the subquery form.
_LITERAL_ID = re.compile(r"[A-Za-z0-9._:~/@+-]{1,256}")
# DuckDB answers `col IN (constants)` from the column's ART index when the matches are at most
# `index_scan_max_count` (set on warehouse connections, resources/__init__.py); larger sets scan the column.
INDEX_LOOKUP_MAX = 20_000


# Each id probed costs about what scanning a few hundred rows of the column does (measured on DuckDB 2.0).
ROWS_PER_PROBE = 200


def ids_in(column: str, ids: Iterable[str], fallback: str, table_rows: int | None = None) -> str:
    """A predicate `column IN ids` that DuckDB can answer from the column's PRIMARY KEY index.

    A lookup by id through `IN (SELECT ...)` scans the whole column, so its cost grows with the history; a list of
    constants probes the index, so it grows with the number of ids. `fallback` is the same set as a subquery,
    used when a list would be too long, an id is not safe to write as a literal, or (given `table_rows`) the ids
    are so many for the table that one scan is cheaper than their probes (a day's backfill into a young table).
    """
    ids = list(dict.fromkeys(i for i in ids if i is not None))
    if not ids:
        return "false"
    too_many = len(ids) > INDEX_LOOKUP_MAX or (table_rows is not None and len(ids) * ROWS_PER_PROBE > table_rows)
    if too_many or not all(_LITERAL_ID.fullmatch(i) for i in ids):
        return f"{column} IN ({fallback})"
    return f"{column} IN ({', '.join(repr(i) for i in ids)})"


def table_rows(con, table: str) -> int:
    """DuckDB's row count of a table from its catalog (no scan)."""
    row = con.execute("SELECT estimated_size FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
                      [table]).fetchone()
    return int(row[0]) if row else 0
