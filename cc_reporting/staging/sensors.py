"""Landing-zone sensors: one for contact-record objects, one for scheduled agent reports.

They only list the landing zone (never open the warehouse: DuckDB has one writer) and request a staging run
per batch; the run key is derived from the batch's keys and ETags so nothing is requested twice. A batch stays in
the cursor until one of its runs succeeded: a batch whose runs all failed is requested again (requested.py).
"""

import hashlib

import dagster as dg

from cc_reporting.ingest.cursor import LandingCursor, next_batch
from cc_reporting.ingest.requested import BATCH_TAG, batch_state, rerequest
from cc_reporting.resources.landing import LandingZone
from cc_reporting.staging.agent_report_table import REPORT_PREFIX, is_agent_report_key
from cc_reporting.staging.assets import stg_agent_report, stg_channel_session, stg_crm_customer, stg_ctr
from cc_reporting.staging.channel_sessions import CHANNELS_PREFIX, is_channel_session_key
from cc_reporting.staging.crm import CRM_PREFIX, is_crm_extract_key
from cc_reporting.staging.ctr_source import CTR_PREFIX

MAX_OBJECTS_PER_RUN = 500

# New contacts, sessions or a CRM extract refresh the JAR and the CAR in the same run (docs/analytics.md §5-§6).
_ANALYTICS = dg.AssetSelection.keys("jar", "car")  # by key: staging does not import the models above it
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
    requests, notes, pending = _recover_failed_batches(context, cursor.pending, asset_name)
    objects = [o for o in landing.list(prefix) if accept(o.key)]
    batch, cursor = next_batch(objects, cursor, MAX_OBJECTS_PER_RUN)
    if batch:
        batch_id = _run_key(asset_name, batch)
        pending.append(batch_id)
        requests.append(dg.RunRequest(
            run_key=batch_id,
            run_config={"ops": {asset_name: {"config": {"object_keys": [o.key for o in batch]}}}},
            tags={BATCH_TAG: batch_id, "cc_reporting/objects": str(len(batch))},
        ))
    cursor.pending = pending
    context.update_cursor(cursor.serialize())
    if not requests:
        waiting = f"; {len(pending)} requested batch(es) not ingested yet" if pending else ""
        return dg.SkipReason(f"no new objects under {prefix} ({len(objects)} listed){waiting}"
                             + "".join("; " + n for n in notes))
    return requests[0] if len(requests) == 1 else requests


def _instance(context):
    try:
        return context.instance
    except dg.DagsterInvariantViolationError:
        return None


def _recover_failed_batches(context, batch_ids, asset_name):
    """Re-requests of batches whose runs all failed; the batches still to watch; what to tell the operator."""
    requests, notes, still_pending = [], [], []
    instance = _instance(context)
    for batch_id in batch_ids:
        state = batch_state(instance, batch_id, asset_name) if instance else None
        if state is None:  # a context without an instance (never the daemon's) cannot tell: keep watching
            still_pending.append(batch_id)
            continue
        if state.status == "succeeded":
            continue
        still_pending.append(batch_id)
        if state.status == "failed":
            context.log.warning(f"{batch_id}: run {state.last_run_id} failed; requesting its "
                                f"{len(state.object_keys)} objects again (attempt {state.attempts + 1})")
            requests.append(rerequest(batch_id, asset_name, state))
        elif state.status == "given_up":
            notes.append(f"{batch_id}: {state.attempts} runs failed, {len(state.object_keys)} objects NOT ingested "
                         f"(last run {state.last_run_id}); fix the cause and re-execute that run")
            context.log.error(notes[-1])
    return requests, notes, still_pending


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
