"""A run killed while DuckDB creates the warehouse leaves a file without header that DuckDB refuses forever; the
next connection sets it aside (kept, renamed) and starts a new warehouse. A real database is never touched."""
import os
import time

import duckdb

from cc_reporting.resources.warehouse import Warehouse, set_aside_unfinished_file


def _age(path, seconds=10):
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_a_warehouse_file_without_header_is_set_aside_and_a_new_one_started(tmp_path):
    path = tmp_path / "warehouse" / "cc.duckdb"
    path.parent.mkdir()
    path.write_bytes(b"\0" * 4096)  # what SIGKILL during creation leaves
    _age(path)
    with Warehouse(database=str(path)).connect() as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    aside = [p.name for p in path.parent.iterdir() if ".unfinished-" in p.name]
    assert len(aside) == 1 and (path.parent / aside[0]).read_bytes() == b"\0" * 4096
    with Warehouse(database=str(path)).connect() as con:
        assert con.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_a_real_database_or_a_file_being_created_is_left_alone(tmp_path):
    real = tmp_path / "real.duckdb"
    duckdb.connect(str(real)).close()
    _age(real)
    assert set_aside_unfinished_file(real) is None and real.exists()
    young = tmp_path / "young.duckdb"
    young.write_bytes(b"")
    assert set_aside_unfinished_file(young) is None and young.exists()
    _age(young)
    assert set_aside_unfinished_file(young) is not None and not young.exists()
