"""A window's Teleopti files come from one statement per kind (window_render.py), byte for byte what the one quoting
rule (`csv_cell`) makes of each row, one file per interval; a range run records each partition with its own
metadata."""
from datetime import timedelta

import dagster as dg
import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.models.teleopti import assets as teleopti_assets
from cc_reporting.models.teleopti import files as teleopti_files
from cc_reporting.models.teleopti import interval_stats
from cc_reporting.models.teleopti.csv_rule import csv_cell, csv_line
from cc_reporting.models.teleopti.window_render import plain_text
from cc_reporting.staging.assets import stg_ctr

from .conftest import concat
from .dagster_home import instance_for, make_dagster_home
from .teleopti_legs import at, leg, stage

KINDS = [teleopti_files.QUEUE_STATS, teleopti_files.AGENT_QUEUE_STATS, teleopti_files.CONTACTS]
HOSTILE_NAMES = ["Billing", "North;South", 'Billing "VIP"', "=1+1", "-Sales", "-1", "+4677", "a,b", "Line\nBreak",
                 "\tTab", "", "Ünïcödé ✓", "@SUM(A1)"]


def hostile_legs():
    """Two hours of legs whose names, agents and endpoints exercise every branch of the quoting rule; 09:30–09:45
    stays quiet."""
    legs = []
    for i in range(40):
        minute = i * 3
        if 30 <= minute < 45:
            continue
        name = HOSTILE_NAMES[i % len(HOSTILE_NAMES)]
        legs.append(leg(f"c{i:03d}", enqueue=f"{9 + minute // 60:02d}:{minute % 60:02d}:0{i % 10}",
                        queue=f"q{i % 3}", queue_name=name, agent=HOSTILE_NAMES[(i + 3) % len(HOSTILE_NAMES)] or "x",
                        answered=i % 4 != 0, transfer_completed=i % 5 == 0, queue_duration=i % 30))
    return legs


def build(con):
    stage(con, *hostile_legs())
    interval_stats.build_queue_stats(con, at("09:00:00"), at("11:00:00"), 20, 5, "UTC")
    interval_stats.build_agent_queue_stats(con, at("09:00:00"), at("11:00:00"), "UTC")
    interval_stats.build_contacts(con, at("09:00:00"), at("11:00:00"))
    # fractions (what agent state gives): decided by csv_cell in Python, through the lookup
    con.execute("UPDATE teleopti_queue_stats SET avg_avail_member_cnt = answ_call_cnt / 3 - 0.5")


def reference_file(con, kind, interval_start) -> bytes:
    """The rule applied the plain way: the interval's rows in file order, `csv_line` per row."""
    columns = ", ".join(f'"{c}"' for c in kind.columns)
    rows = con.execute(f"SELECT {columns} FROM {kind.table} WHERE interval_start = ? ORDER BY {kind.order_by}",
                       [interval_start]).fetchall()
    lines = [csv_line(kind.columns, kind.separator)] if kind.header else []
    return "".join(lines + [csv_line(row, kind.separator) for row in rows]).encode("utf-8")


def test_a_windows_files_equal_the_files_of_its_intervals_built_one_at_a_time(con, tmp_path):
    build(con)
    for kind in KINDS:
        window = teleopti_files.write_files(con, kind, at("09:00:00"), at("11:00:00"), str(tmp_path / "window"))
        assert len(window) == 8
        for written in window:
            (single,) = teleopti_files.write_files(con, kind, written.interval_start,
                                                   written.interval_start + timedelta(minutes=15),
                                                   str(tmp_path / "single"))
            assert written.path.read_bytes() == single.path.read_bytes() == reference_file(
                con, kind, written.interval_start)
        assert b"'=1+1" in b"".join(w.path.read_bytes() for w in window)  # the guard applied, through Python


def test_a_quiet_interval_still_gets_its_empty_file(con, tmp_path):
    build(con)
    quiet = at("09:30:00")
    for kind in KINDS:
        (written,) = [w for w in teleopti_files.write_files(con, kind, at("09:00:00"), at("11:00:00"), str(tmp_path))
                      if w.interval_start == quiet]
        expected = csv_line(kind.columns, kind.separator).encode() if kind.header else b""
        assert written.path.read_bytes() == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from('ab1;,"\r\n\t=+-@ .9Ü'), max_size=6), min_size=1, max_size=20),
       st.sampled_from([";", ","]))
def test_sql_writes_a_text_cell_itself_only_where_csv_cell_leaves_it_unchanged(values, separator):
    con = duckdb.connect()
    rows = con.execute(f"SELECT v, {plain_text('v', separator)} FROM unnest(?::VARCHAR[]) AS t(v)",
                       [values]).fetchall()
    for value, plain in rows:
        if plain:
            assert csv_cell(value, separator) == value


def test_sql_integer_cells_are_what_csv_cell_writes(con):
    numbers = [0, 7, -1, -200, 2 ** 40, -(2 ** 40)]
    got = [r[0] for r in con.execute("SELECT CAST(v AS VARCHAR) FROM unnest(?::BIGINT[]) AS t(v)",
                                     [numbers]).fetchall()]
    assert got == [csv_cell(n, ";") for n in numbers]


def test_each_partition_of_a_range_run_is_materialized_with_its_own_small_metadata(tmp_path, landing, warehouse):
    resources = {"landing": landing, "warehouse": warehouse, "teleopti_sftp": TeleoptiSftp()}
    landing.write("ctr/2026/01/05/12/s-1-a", concat(*hostile_legs()))
    keys = ["2026-01-05-09:00", "2026-01-05-09:15", "2026-01-05-09:30", "2026-01-05-09:45"]
    tags = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
    with instance_for(make_dagster_home(tmp_path)) as instance:
        assert dg.materialize([stg_ctr], resources=resources, instance=instance).success
        assert dg.materialize([teleopti_assets.teleopti_queue_stats], resources=resources, instance=instance,
                              tags=tags).success
        records = instance.fetch_materializations(dg.AssetKey("teleopti_queue_stats"), limit=100).records
        by_key = {r.partition_key: r.asset_materialization.metadata for r in records}
        rows = dict(warehouse_rows(warehouse))
    assert sorted(by_key) == keys
    assert {k: m["dagster/row_count"].value for k, m in by_key.items()} == {k: rows.get(k, 0) for k in keys}
    assert rows.get("2026-01-05-09:30", 0) == 0 and rows["2026-01-05-09:00"] > 0
    assert all(m["partition_files_changed"].value == 1 for m in by_key.values())
    assert all(m["files_written"].value == 4 for m in by_key.values())  # the run's counts, on each
    assert [k for k, m in by_key.items() if "window_preview" in m] == [keys[-1]]  # one preview for the run
    assert all(len(by_key[k]) <= 12 for k in keys[:-1])


def warehouse_rows(warehouse):
    with warehouse.connect() as con:
        return con.execute("SELECT strftime(timezone('UTC', interval_start), '%Y-%m-%d-%H:%M'), count(*) "
                           "FROM teleopti_queue_stats GROUP BY 1").fetchall()
