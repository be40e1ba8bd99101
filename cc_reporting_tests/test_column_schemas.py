"""Every warehouse asset carries its column schema, with a description per column, in its definition; the schema equals
the table a run builds (so the catalog cannot drift from the SQL), and a materialization's schema keeps the
descriptions."""
import duckdb
import pytest

from cc_reporting.definitions import defs
from cc_reporting.delivery import column_catalog

from .bi_warehouse import built_warehouse, database, materialize_car_on_a_copy  # noqa: F401 (a fixture)

# The Connect metric tables are described by the metric catalog itself (test_connect_metrics checks them).
DESCRIBED_BY_THE_METRIC_CATALOG = {"connect_metrics", "connect_reconciliation"}
WAREHOUSE_SPECS = {spec.key.to_user_string(): spec for spec in defs.resolve_all_asset_specs()
                   if "duckdb" in spec.kinds and spec.key.to_user_string() not in DESCRIBED_BY_THE_METRIC_CATALOG}
# Synced from a Connect instance, which the built warehouse has none of: test_connect_dimensions compares their
# definition schema with the tables a sync writes.
SYNCED_FROM_CONNECT = {"dim_queue", "dim_agent", "dim_routing_profile", "dim_hierarchy_group"}


def _schema(spec) -> list[tuple[str, str, str | None]]:
    return [(c.name, c.type, c.description) for c in spec.metadata["dagster/column_schema"].columns]


def test_every_warehouse_asset_has_a_column_schema_at_definition_time():
    assert set(WAREHOUSE_SPECS) >= {"stg_ctr", "jar", "car", "kpi_interval", "kpi_daily", "teleopti_queue_stats",
                                    "agent_state_intervals"}
    assert [key for key, spec in WAREHOUSE_SPECS.items() if "dagster/column_schema" not in spec.metadata] == []
    assert set(WAREHOUSE_SPECS) == set(column_catalog.tables())


@pytest.mark.parametrize("asset", sorted(WAREHOUSE_SPECS))
def test_every_column_of_the_definition_schema_has_a_description(asset):
    assert [name for name, _, text in _schema(WAREHOUSE_SPECS[asset]) if not text] == []


@pytest.mark.parametrize("asset", sorted(set(WAREHOUSE_SPECS) - SYNCED_FROM_CONNECT))
def test_the_definition_schema_equals_the_materialized_table(built_warehouse, asset):
    with duckdb.connect(str(database(built_warehouse)), read_only=True) as con:
        actual = [(name, kind) for name, kind, *_ in con.execute(f'DESCRIBE main."{asset}"').fetchall()]
    assert [(name, kind) for name, kind, _ in _schema(WAREHOUSE_SPECS[asset])] == actual


def _units(name: str, text: str) -> bool:
    if name.endswith("_s"):
        return "second" in text
    if name.endswith("_rate") or name.endswith("_rate_90d"):
        return "ratio 0-1" in text
    return True


def test_durations_and_rates_state_their_unit():
    named = [(table, name, column_catalog.describe(table, name)) for table in column_catalog.tables()
             for name, _ in column_catalog.table_columns(table)]
    named += [(view, name, column_catalog.describe(view, name)) for view, entry in column_catalog.views().items()
              for name in entry.get("columns") or {}]
    assert [(where, name) for where, name, text in named if not _units(name, text or "")] == []


def test_a_materialization_keeps_the_descriptions(built_warehouse, tmp_path, monkeypatch):
    result, _ = materialize_car_on_a_copy(built_warehouse, tmp_path, monkeypatch)
    runtime = result.asset_materializations_for_node("car")[0].metadata["dagster/column_schema"].schema
    assert [(c.name, c.type, c.description) for c in runtime.columns] == _schema(WAREHOUSE_SPECS["car"])
