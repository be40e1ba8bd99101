"""The curated `bi` schema: one naming convention, one spelling per join key, TIMESTAMPTZ, BOOLEAN flags, one grain
per view, a comment on every view and column, sensitive CAR columns only with CC_CAR_EXPORT_SENSITIVE=true, and the
README's example queries run."""
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from cc_reporting.delivery import column_catalog
from cc_reporting.models.analytics.car import SEED_TYPES, SENSITIVE_COLUMNS
from cc_reporting.models.analytics.jar_schema import FLAG_COLUMNS, SEED_COLUMNS
from cc_reporting.models.bi.views import ensure_bi_views

from .bi_warehouse import built_warehouse, database, materialize_car_on_a_copy  # noqa: F401 (a fixture)

README = Path(__file__).resolve().parents[1] / "README.md"
VIEWS = list(column_catalog.views())
NAMED_VIEWS = [v for v in VIEWS if not column_catalog.views()[v].get("seed_names")]


@pytest.fixture(scope="module")
def con(built_warehouse):
    connection = duckdb.connect(str(database(built_warehouse)), read_only=True)
    yield connection
    connection.close()


def columns(con, view: str) -> list[tuple[str, str, str | None]]:
    return con.execute("SELECT column_name, data_type, comment FROM duckdb_columns() WHERE schema_name = 'bi' "
                       "AND table_name = ? ORDER BY column_index", [view]).fetchall()


def test_every_catalog_view_is_built_by_the_pipeline(con):
    built = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE schema_name = 'bi'").fetchall()}
    assert built == set(VIEWS)


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_and_every_column_has_a_comment(con, view):
    comment = con.execute("SELECT comment FROM duckdb_views() WHERE schema_name = 'bi' AND view_name = ?",
                          [view]).fetchone()[0]
    assert comment and len(comment) > 20
    bare = [name for name, _, text in columns(con, view) if not text]
    assert columns(con, view) and bare == []


@pytest.mark.parametrize("view", VIEWS)
def test_every_timestamp_is_timestamptz(con, view):
    naive = [(name, kind) for name, kind, _ in columns(con, view)
             if kind.startswith("TIMESTAMP") and kind != "TIMESTAMP WITH TIME ZONE"]
    assert naive == []
    assert all(kind == "TIMESTAMP WITH TIME ZONE" for name, kind, _ in columns(con, view) if name.endswith("_utc"))


@pytest.mark.parametrize("view", NAMED_VIEWS)
def test_no_column_name_has_a_space_or_uppercase(con, view):
    assert [name for name, _, _ in columns(con, view) if not re.fullmatch(r"[a-z][a-z0-9_]*", name)] == []


def test_seed_views_keep_the_seed_names_in_seed_order(con):
    assert [c[0] for c in columns(con, "jar_seed")] == [name for name, _ in SEED_COLUMNS]
    assert len(columns(con, "jar_seed")) == 34
    assert [c[0] for c in columns(con, "car_seed")] == [c for c in SEED_TYPES if c not in SENSITIVE_COLUMNS]


def test_one_spelling_per_join_key(con):
    """A view column showing a join key's warehouse column is named as the key, in every view."""
    misnamed, used = [], {}
    for view in NAMED_VIEWS:
        for name, _, _ in columns(con, view):
            source = column_catalog.source_of(view, name)
            for key, sources in column_catalog.join_keys().items():
                if source and f"{source[0]}.{source[1]}" in sources:
                    used.setdefault(key, set()).add(view)
                    if name != key:
                        misnamed.append(f"bi.{view}.{name} shows {source} but is not named {key}")
    assert misnamed == []
    assert {key for key, in_views in used.items() if len(in_views) >= 2} >= {
        "customer_id", "queue_id", "agent_username", "channel_type", "interval_start_utc", "report_date"}
    other_spellings = {"cust_id", "custid", "contact_id", "agent_id", "username", "queue", "skill_id",
                       "interval_start", "day", "date", "channel"}
    assert [(v, c[0]) for v in NAMED_VIEWS for c in columns(con, v) if c[0] in other_spellings] == []


@pytest.mark.parametrize("view", NAMED_VIEWS)
def test_flags_are_boolean(con, view):
    flag_sources = {("jar", f) for f in FLAG_COLUMNS}
    for name, kind, _ in columns(con, view):
        if name.startswith("is_") or column_catalog.source_of(view, name) in flag_sources:
            assert kind == "BOOLEAN", (view, name, kind)


@pytest.mark.parametrize("view, grain", [
    ("journey_leg", ["session_id"]), ("customer", ["customer_id"]),
    ("kpi_queue_interval", ["interval_start_utc", "queue_id"]), ("kpi_queue_day", ["report_date", "queue_id"]),
    ("kpi_channel_day", ["report_date", "channel_type"]),
    ("teleopti_queue_interval", ["interval_start_utc", "queue_id"]),
    ("agent_interval", ["interval_start_utc", "agent_username"]),
])
def test_one_row_per_grain(con, view, grain):
    keys = ", ".join(grain)
    rows, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({keys})) FROM bi.{view}").fetchone()
    assert rows > 0 and rows == distinct


def test_offered_summed_over_a_daily_view_counts_each_contact_once(con):
    """The old bi_kpi_daily mixed queue and channel rows, so summing `offered` counted every contact twice."""
    offered_legs = con.execute(
        "SELECT count(*) FROM bi.journey_leg WHERE is_queued AND NOT is_transfer_in").fetchone()[0]
    assert offered_legs > 0
    for view in ("kpi_queue_day", "kpi_channel_day"):
        assert con.execute(f"SELECT sum(offered) FROM bi.{view}").fetchone()[0] == offered_legs
    assert con.execute("SELECT sum(offered) FROM bi.kpi_queue_interval").fetchone()[0] == offered_legs


def _customer_columns(path: Path, view: str) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return [c[0] for c in columns(connection, view)]


def test_sensitive_car_columns_appear_only_with_the_setting(built_warehouse, tmp_path, monkeypatch):
    sensitive_names = {"age", "marital_status", "ethnicity", "gross_annual_income"}
    assert not sensitive_names & set(_customer_columns(database(built_warehouse), "customer"))
    assert not set(SENSITIVE_COLUMNS) & set(_customer_columns(database(built_warehouse), "car_seed"))

    monkeypatch.setenv("CC_CAR_EXPORT_SENSITIVE", "true")
    _, copy = materialize_car_on_a_copy(built_warehouse, tmp_path, monkeypatch)
    assert sensitive_names <= set(_customer_columns(copy, "customer"))
    assert set(SENSITIVE_COLUMNS) <= set(_customer_columns(copy, "car_seed"))

    with duckdb.connect(str(copy)) as connection:  # and away again when the setting is off
        ensure_bi_views(connection, include_sensitive=False)
    assert not sensitive_names & set(_customer_columns(copy, "customer"))


def readme_bi_queries() -> list[str]:
    text = README.read_text()
    section = text.split("\n## BI views\n", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sql\n(.*?)```", section, flags=re.S)]


def test_the_readme_shows_an_example_query_for_every_view():
    queries = readme_bi_queries()
    shown = {name for q in queries for name in re.findall(r"\bbi\.(\w+)", q)}
    assert shown >= set(VIEWS)


@pytest.mark.parametrize("index", range(len(readme_bi_queries())))
def test_every_readme_example_query_runs(con, index):
    cursor = con.execute(readme_bi_queries()[index])
    assert cursor.description and cursor.fetchall() is not None


def test_a_view_the_catalog_no_longer_has_is_dropped_and_an_unchanged_catalog_rebuilds_nothing(
        built_warehouse, tmp_path):
    copy = tmp_path / "cc.duckdb"
    shutil.copy(database(built_warehouse), copy)
    with duckdb.connect(str(copy)) as connection:
        connection.execute("CREATE VIEW bi.renamed_long_ago AS SELECT 1 AS one")
        assert ensure_bi_views(connection, include_sensitive=False) == VIEWS  # the stored fingerprint matches
        assert connection.execute("SELECT count(*) FROM bi.renamed_long_ago").fetchone() == (1,)
        connection.execute("CREATE OR REPLACE MACRO bi.build_fingerprint() AS 'stale'")
        ensure_bi_views(connection, include_sensitive=False)
        views = {r[0] for r in connection.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = 'bi'").fetchall()}
    assert views == set(VIEWS)
