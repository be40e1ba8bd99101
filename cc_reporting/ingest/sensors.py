"""Landing-zone sensors: one for contact-record objects, one for scheduled agent reports.

They only list the landing zone (never open the warehouse: DuckDB has one writer) and request a staging run
per batch; the run key is derived from the batch's keys and ETags so nothing is requested twice.
"""

import hashlib

import dagster as dg

from cc_reporting.ingest.cursor import LandingCursor, next_batch
from cc_reporting.resources.landing import LandingZone
from cc_reporting.models.analytics.assets import car, jar
from cc_reporting.staging.agent_report_table import REPORT_PREFIX, is_agent_report_key
from cc_reporting.staging.assets import stg_agent_report, stg_channel_session, stg_crm_customer, stg_ctr
from cc_reporting.staging.channel_sessions import CHANNELS_PREFIX, is_channel_session_key
from cc_reporting.staging.crm import CRM_PREFIX, is_crm_extract_key
from cc_reporting.staging.ctr_source import CTR_PREFIX

MAX_OBJECTS_PER_RUN = 500

# New contacts, sessions or a CRM extract refresh the JAR and the CAR in the same run (car-jar.md §7-8).
_ANALYTICS = dg.AssetSelection.assets(jar, car)
ingest_ctr_job = dg.define_asset_job("ingest_ctr", selection=dg.AssetSelection.assets(stg_ctr) | _ANALYTICS)
ingest_channel_sessions_job = dg.define_asset_job(
    "ingest_channel_sessions", selection=dg.AssetSelection.assets(stg_channel_session) | _ANALYTICS)
ingest_crm_job = dg.define_asset_job("ingest_crm", selection=dg.AssetSelection.assets(stg_crm_customer) | _ANALYTICS)
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


@dg.sensor(job=ingest_channel_sessions_job, minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="New chatbot/NLU-bot session files under channels/ → stg_channel_session, jar, car.")
def channel_session_sensor(context: dg.SensorEvaluationContext, landing: LandingZone):
    return landing_tick(context, landing, CHANNELS_PREFIX, "stg_channel_session", is_channel_session_key)


@dg.sensor(job=ingest_crm_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING,
           description="A new CRM extract under crm/ → stg_crm_customer, jar (phone lookups), car.")
def crm_sensor(context: dg.SensorEvaluationContext, landing: LandingZone):
    return landing_tick(context, landing, CRM_PREFIX, "stg_crm_customer", is_crm_extract_key)


landing_sensors = [ctr_landing_sensor, agent_report_sensor, channel_session_sensor, crm_sensor]
ingest_jobs = [ingest_ctr_job, ingest_agent_report_job, ingest_channel_sessions_job, ingest_crm_job]
