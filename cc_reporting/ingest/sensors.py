"""Landing-zone sensors: one for contact-record objects, one for scheduled agent reports.

They only list the landing zone (never open the warehouse: DuckDB has one writer) and request a staging run
per batch; the run key is derived from the batch's keys and ETags so nothing is requested twice.
"""

import hashlib

import dagster as dg

from cc_reporting.ingest.cursor import LandingCursor, next_batch
from cc_reporting.resources.landing import LandingZone
from cc_reporting.staging.agent_report_table import REPORT_PREFIX, is_agent_report_key
from cc_reporting.staging.assets import stg_agent_report, stg_ctr
from cc_reporting.staging.ctr_source import CTR_PREFIX

MAX_OBJECTS_PER_RUN = 500

ingest_ctr_job = dg.define_asset_job("ingest_ctr", selection=dg.AssetSelection.assets(stg_ctr))
ingest_agent_report_job = dg.define_asset_job("ingest_agent_report", selection=dg.AssetSelection.assets(stg_agent_report))


def _run_key(asset_name: str, batch) -> str:
    digest = hashlib.sha256("\n".join(f"{o.key}\t{o.etag}" for o in batch).encode()).hexdigest()[:32]
    return f"{asset_name}-{digest}"


def landing_tick(context, landing: LandingZone, prefix: str, asset_name: str, accept=lambda key: True):
    cursor = LandingCursor.parse(context.cursor)
    objects = [o for o in landing.list(prefix) if accept(o.key)]
    batch, cursor = next_batch(objects, cursor, MAX_OBJECTS_PER_RUN)
    if not batch:
        return dg.SkipReason(f"no new objects under {prefix} ({len(objects)} listed)")
    context.update_cursor(cursor.serialize())
    return dg.RunRequest(
        run_key=_run_key(asset_name, batch),
        run_config={"ops": {asset_name: {"config": {"object_keys": [o.key for o in batch]}}}},
        tags={"cc_reporting/objects": str(len(batch))},
    )


@dg.sensor(job=ingest_ctr_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="New or updated Firehose objects under ctr/ → stage them into stg_ctr.")
def ctr_landing_sensor(context: dg.SensorEvaluationContext, landing: LandingZone):
    return landing_tick(context, landing, CTR_PREFIX, "stg_ctr")


@dg.sensor(job=ingest_agent_report_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="New TeleoptiAgentPerformance reports under reports/ → stage them into stg_agent_report.")
def agent_report_sensor(context: dg.SensorEvaluationContext, landing: LandingZone):
    return landing_tick(context, landing, REPORT_PREFIX, "stg_agent_report", is_agent_report_key)
