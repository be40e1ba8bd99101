"""The code location loads, and every sensor evaluates one tick."""
import dagster as dg

from cc_reporting.definitions import defs

from .conftest import fixture_bytes


def test_definitions_load_with_all_assets_and_sensors():
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {"stg_ctr", "stg_agent_report"} <= keys
    assert {s.name for s in defs.sensors} >= {"ctr_landing_sensor", "agent_report_sensor"}


def test_every_sensor_evaluates_one_tick(landing):
    landing.write("ctr/2026/01/05/09/s-1-a", fixture_bytes("abandoned_ctr.json"))
    landing.write("reports/TeleoptiAgentPerformance-1.csv", fixture_bytes("agent_report_sample.csv"))
    for sensor in defs.sensors:
        context = dg.build_sensor_context(resources={"landing": landing}, definitions=defs)
        result = sensor(context)
        assert isinstance(result, (dg.RunRequest, dg.SkipReason, list, dg.SensorResult)), sensor.name
