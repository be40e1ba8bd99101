"""Lookups by id through the primary-key index (`warehouse.ids_in`): what keeps an increment's merge from scanning
the whole history, and the subquery form it falls back to for ids that cannot be written as SQL literals."""
from __future__ import annotations

import duckdb

from cc_reporting.resources.warehouse import INDEX_LOOKUP_MAX, ROWS_PER_PROBE, ids_in, table_rows


def _table(rows: int = 300_000):
    con = duckdb.connect(config={"index_scan_max_count": INDEX_LOOKUP_MAX})
    con.execute("CREATE TABLE t (id VARCHAR PRIMARY KEY, v INTEGER)")
    con.execute(f"INSERT INTO t SELECT 'id-' || i, i FROM range({rows}) r(i)")
    con.execute("CREATE TEMP TABLE wanted AS SELECT 'id-7' AS id UNION ALL SELECT 'it''s'")
    return con


def _scan_type(con, predicate: str) -> str:
    plan = con.execute(f"EXPLAIN ANALYZE SELECT v FROM t WHERE {predicate}").fetchall()[0][1]
    return "index" if "Index Scan" in plan else "sequential"


def test_a_lookup_by_ids_is_answered_from_the_primary_key_index():
    con = _table()
    ids = [f"id-{i * 97}" for i in range(1500)]
    predicate = ids_in("id", ids, "SELECT id FROM wanted")
    assert _scan_type(con, predicate) == "index"
    # What the merge did before: a subquery of that many ids scans the column (DuckDB pushes only small sets down).
    con.execute("CREATE TEMP TABLE many AS SELECT unnest(?::VARCHAR[]) AS id", [ids])
    assert _scan_type(con, "id IN (SELECT id FROM many)") == "sequential"
    found = sorted(r[0] for r in con.execute(f"SELECT v FROM t WHERE {predicate}").fetchall())
    assert found == [i * 97 for i in range(1500)]


def test_an_id_unsafe_as_a_literal_takes_the_subquery_form():
    con = _table(10)
    con.execute("INSERT INTO t VALUES ('it''s', -1)")
    predicate = ids_in("id", ["id-7", "it's"], "SELECT id FROM wanted")
    assert predicate == "id IN (SELECT id FROM wanted)"
    assert sorted(r[0] for r in con.execute(f"SELECT v FROM t WHERE {predicate}").fetchall()) == [-1, 7]


def test_too_many_ids_or_none_at_all():
    assert ids_in("id", [f"x{i}" for i in range(INDEX_LOOKUP_MAX + 1)], "SELECT 1") == "id IN (SELECT 1)"
    assert ids_in("id", [], "SELECT 1") == "false"
    assert ids_in("id", [None, "a", "a"], "SELECT 1") == "id IN ('a')"


def test_a_young_table_is_scanned_rather_than_probed_id_by_id():
    ids = [f"id-{i}" for i in range(10)]
    predicate = ids_in("id", ids, "SELECT id FROM wanted", table_rows=10 * ROWS_PER_PROBE - 1)
    assert predicate == "id IN (SELECT id FROM wanted)"
    assert ids_in("id", ids, "SELECT id FROM wanted", table_rows=10 * ROWS_PER_PROBE).startswith("id IN ('id-0'")


def test_table_rows_reads_the_catalog():
    con = _table(1234)
    assert table_rows(con, "t") == 1234 and table_rows(con, "no_such_table") == 0
