"""The `jar` asset: incremental refreshes by default, a full rebuild on request (the Sunday analytics run)."""
import dagster as dg

from cc_reporting.models.analytics.assets import jar
from cc_reporting.staging.assets import stg_ctr

from .conftest import concat, fixture_json, materialize

KEY = "ctr/2026/01/05/09/cc-ctr-stream-1-2026-01-05-09-15-00-a"


def _mode(result) -> str:
    [event] = result.asset_materializations_for_node("jar")
    return event.metadata["mode"].value


def test_jar_refreshes_incrementally_unless_a_full_rebuild_is_requested(landing, warehouse):
    landing.write(KEY, concat(fixture_json("abandoned_ctr.json")))
    materialize([stg_ctr], landing, warehouse)
    as_of = {"as_of": "2026-01-06T00:30:00+00:00"}
    runs = [{}, {}, {"full_rebuild": True}]
    modes = [_mode(dg.materialize([jar], resources={"warehouse": warehouse},
                                  run_config={"ops": {"jar": {"config": {**as_of, **extra}}}}))
             for extra in runs]
    assert modes == ["full", "incremental", "full"]
