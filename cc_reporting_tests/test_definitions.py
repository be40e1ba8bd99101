"""The code location loads, and every sensor evaluates one tick."""
import dagster as dg

from cc_reporting.definitions import defs

from .conftest import fixture_bytes


def test_definitions_load_with_all_assets_and_sensors():
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {"stg_ctr", "stg_agent_report"} <= keys
    assert {s.name for s in defs.sensors} >= {"ctr_landing_sensor", "agent_report_sensor",
                                              "teleopti_late_data_sensor", "teleopti_delivery_retry_sensor"}


def test_every_sensor_evaluates_one_tick(landing):
    landing.write("ctr/2026/01/05/09/s-1-a", fixture_bytes("abandoned_ctr.json"))
    landing.write("reports/TeleoptiAgentPerformance-1.csv", fixture_bytes("agent_report_sample.csv"))
    with dg.DagsterInstance.ephemeral() as instance:
        for sensor in defs.sensors:
            context = dg.build_sensor_context(resources={"landing": landing}, definitions=defs, instance=instance)
            result = sensor(context)
            assert isinstance(result, (dg.RunRequest, dg.SkipReason, list, dg.SensorResult)), sensor.name


def test_instance_config_puts_writers_in_a_pool_of_one():
    import shutil
    import tempfile
    from pathlib import Path

    home = tempfile.mkdtemp()
    shutil.copy(Path(__file__).resolve().parents[1] / "dagster.yaml", home)
    with dg.DagsterInstance.from_config(home) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1


def test_every_schedule_evaluates_one_tick(monkeypatch):
    from datetime import datetime, timezone

    # connect_dimensions_schedule skips without an instance (test_connect_dimensions); here one is configured.
    monkeypatch.setenv("CC_CONNECT_INSTANCE_ARN", "arn:aws:connect:eu-west-1:123456789012:instance/I1")
    schedules = defs.get_repository_def().schedule_defs
    assert len(schedules) == 8
    for schedule in schedules:
        context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 1, 5, 9, 50, tzinfo=timezone.utc),
                                            repository_def=defs.get_repository_def())
        requests = schedule.evaluate_tick(context).run_requests
        assert len(requests) == 1 and isinstance(requests[0], dg.RunRequest), schedule.name


def test_every_asset_that_writes_the_warehouse_is_in_the_single_writer_pool():
    from cc_reporting.resources.warehouse import WAREHOUSE_POOL

    writers = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and "warehouse" in a.required_resource_keys]
    assert len(writers) >= 12
    assert {key.to_user_string(): a.op.pool for a in writers for key in a.keys} == {
        key.to_user_string(): WAREHOUSE_POOL for a in writers for key in a.keys}


def test_warehouse_buffer_pool_is_bounded_by_cc_duckdb_memory_limit(monkeypatch, tmp_path):
    from cc_reporting.resources import build_resources

    monkeypatch.setenv("CC_WAREHOUSE_PATH", str(tmp_path / "wh.duckdb"))
    monkeypatch.setenv("CC_DUCKDB_MEMORY_LIMIT", "300MB")
    with build_resources()["warehouse"].connect() as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit == "286.1 MiB"  # 300 MB as DuckDB prints it (binary units); its default is 80 % of RAM
