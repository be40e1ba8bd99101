"""BI exports: Parquet under `CC_EXPORT_DIR/<table>/date=YYYY-MM-DD/<table>.parquet`, one file per partition.

DuckDB writes a temporary file beside the target and `os.replace` swaps it in: a BI tool reading the folder while
Dagster writes sees the old file or the new one, never half of one (and the warehouse file is never opened by it).
"""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from cc_reporting.delivery.temp_files import sweep_stale


def partition_path(export_dir: str, table: str, day: date) -> Path:
    return Path(export_dir) / table / f"date={day:%Y-%m-%d}" / f"{table}.parquet"


def export_partition(con, export_dir: str, table: str, day: date, select_sql: str, params: list | None = None) -> int:
    """Write `select_sql` (rows of `table` for `day`) as that day's Parquet file; returns the row count."""
    target = partition_path(export_dir, table, day)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target.parent, f".{target.name}.tmp-*")  # left by a run killed mid-COPY (a failed COPY removes its own)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    con.execute(f"COPY ({select_sql}) TO '{tmp.as_posix()}' (FORMAT parquet, COMPRESSION zstd)", params or [])
    os.replace(tmp, target)
    return con.execute(f"SELECT count(*) FROM read_parquet('{target.as_posix()}')").fetchone()[0]
