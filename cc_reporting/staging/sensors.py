"""Landing-zone sensors: one for contact-record objects, one for scheduled agent reports.

They only list the landing zone (never open the warehouse: DuckDB has one writer) and request a staging run
per batch; the run key is derived from the batch's keys and ETags so nothing is requested twice. A batch stays in
the cursor until one of its runs succeeded: a batch whose runs all failed is requested again (requested.py).
Every tick also records what the sensor saw of its raw source (an observation of `raw_ctr`, ...: object count,
newest object, lag).

All four start by themselves (RUNNING by default) when a daemon loads the code location.
"""

import hashlib
from datetime import datetime, timezone

import dagster as dg

from cc_reporting.ingest.automation import starts_by_itself
from cc_reporting.ingest.cursor import LandingCursor, next_batch
from cc_reporting.ingest.raw_sources import (
    landing_observation,
    raw_agent_report,
    raw_channel_sessions,
    raw_crm_extract,
    raw_ctr,
)
from cc_reporting.ingest.requested import BATCH_TAG, batch_state, rerequest
from cc_reporting.resources.landing import LandingZone
from cc_reporting.staging.agent_report_table import REPORT_PREFIX, is_agent_report_key
from cc_reporting.staging.assets import stg_agent_report, stg_channel_session, stg_crm_customer, stg_ctr
from cc_reporting.staging.channel_sessions import CHANNELS_PREFIX, is_channel_session_key
from cc_reporting.staging.crm import CRM_PREFIX, is_crm_extract_key
from cc_reporting.staging.ctr_source import CTR_PREFIX
from cc_reporting.staging.instances import instance_listings

MAX_OBJECTS_PER_RUN = 500
# Batches requested and not ingested yet beyond which a sensor requests no new ones: runs share one warehouse
# writer, so more queued runs would not go faster, and the cursor holds one id per batch.
MAX_PENDING_BATCHES = 10
_now = lambda: datetime.now(timezone.utc)  # noqa: E731  the clock of the lag, replaceable in tests

# New contacts, sessions or a CRM extract refresh the JAR and the CAR in the same run (docs/analytics.md §5-§6).
_ANALYTICS = dg.AssetSelection.keys("jar", "car")  # by key: staging does not import the models above it
ingest_ctr_job = dg.define_asset_job(
    "ingest_ctr", selection=dg.AssetSelection.assets(stg_ctr) | _ANALYTICS,
    description="Stage the CTR objects a ctr_landing_sensor batch names into stg_ctr (ingestion ledger: each "
                "object once), then refresh the JAR and the CAR.")
ingest_channel_sessions_job = dg.define_asset_job(
    "ingest_channel_sessions", selection=dg.AssetSelection.assets(stg_channel_session) | _ANALYTICS,
    description="Stage the chat/NLU-bot session files a channel_session_sensor batch names into "
                "stg_channel_session, then refresh the JAR and the CAR.")
ingest_crm_job = dg.define_asset_job(
    "ingest_crm", selection=dg.AssetSelection.assets(stg_crm_customer) | _ANALYTICS,
    description="Load the CRM extract crm_sensor found into stg_crm_customer, then refresh the JAR (phone "
                "lookups) and the CAR.")
ingest_agent_report_job = dg.define_asset_job(
    "ingest_agent_report", selection=dg.AssetSelection.assets(stg_agent_report),
    description="Stage the TeleoptiAgentPerformance reports an agent_report_sensor batch names into "
                "stg_agent_report.")


def _run_key(asset_name: str, batch) -> str:
    digest = hashlib.sha256("\n".join(f"{o.key}\t{o.etag}" for o in batch).encode()).hexdigest()[:32]
    return f"{asset_name}-{digest}"


def landing_tick(context, landing: LandingZone, prefix: str, asset_name: str, raw: dg.AssetSpec,
                 accept=lambda key: True, per_instance=False):
    cursor = LandingCursor.parse(context.cursor)
    requests, notes, pending, in_flight = _recover_failed_batches(context, cursor.pending, asset_name)
    listings = [listed for _, listed in instance_listings(prefix)] if per_instance else [prefix]
    objects = [o for listed in listings for o in landing.list(listed) if accept(o.key[len(listed) - len(prefix):])]
    _record(context, landing_observation(raw, ", ".join(listings), objects, _now()))
    batch = []
    if in_flight < MAX_PENDING_BATCHES:  # else the cursor stays where it is: nothing is passed, only delayed
        batch, cursor = next_batch(objects, cursor, MAX_OBJECTS_PER_RUN)
    # Late objects of the look-back come on top of a full batch of new ones: split so no run exceeds the limit.
    for start in range(0, len(batch), MAX_OBJECTS_PER_RUN):
        chunk = batch[start:start + MAX_OBJECTS_PER_RUN]
        batch_id = _run_key(asset_name, chunk)
        pending.append(batch_id)
        requests.append(dg.RunRequest(
            run_key=batch_id,
            run_config={"ops": {asset_name: {"config": {"object_keys": [o.key for o in chunk]}}}},
            tags={BATCH_TAG: batch_id, "cc_reporting/objects": str(len(chunk))},
        ))
    cursor.pending = pending
    context.update_cursor(cursor.serialize())
    if not requests:
        waiting = f"; {len(pending)} requested batch(es) not ingested yet" if pending else ""
        under = ", ".join(listings)
        news = (f"new objects under {under} wait (at most {MAX_PENDING_BATCHES} batches at once)"
                if in_flight >= MAX_PENDING_BATCHES else f"no new objects under {under}")
        return dg.SkipReason(f"{news} ({len(objects)} listed){waiting}" + "".join("; " + n for n in notes))
    return requests[0] if len(requests) == 1 else requests


def _record(context, observation: dg.AssetObservation) -> None:
    """Store the observation in the instance the sensor runs in (a bare test context has none).

    Not through `SensorResult(asset_events=...)`: these sensors return their RunRequest or SkipReason themselves,
    which is what a direct call of the sensor gives back too."""
    instance = _instance(context)
    if instance is not None:
        instance.report_runless_asset_event(observation)


def _instance(context):
    try:
        return context.instance
    except dg.DagsterInvariantViolationError:
        return None


def _recover_failed_batches(context, batch_ids, asset_name):
    """Re-requests of batches whose runs all failed; what to tell the operator; the batches still to watch, and
    how many of those may still be ingested (not given up)."""
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
    return requests, notes, still_pending, len(still_pending) - len(notes)


def _described(name: str, what: str, seconds: int) -> str:
    return (f"{what} Every {seconds} s: lists the prefix (never opens the warehouse), requests at most "
            f"{MAX_OBJECTS_PER_RUN} objects per run, asks again for the objects of failed runs, and records an "
            f"observation of the raw source (object count, newest object, lag). " + starts_by_itself("sensor", name))


@dg.sensor(job=ingest_ctr_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description=_described("ctr_landing_sensor", "New or updated Firehose objects under ctr/ (raw_ctr) → "
                                                        "ingest_ctr: stg_ctr, jar, car.", 30))
def ctr_landing_sensor(context: dg.SensorEvaluationContext, landing: LandingZone):
    return landing_tick(context, landing, CTR_PREFIX, "stg_ctr", raw_ctr, per_instance=True)


@dg.sensor(job=ingest_agent_report_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description=_described("agent_report_sensor", "New TeleoptiAgentPerformance reports under reports/ "
                                                         "(raw_agent_report) → ingest_agent_report: "
                                                         "stg_agent_report.", 60))
def agent_report_sensor(context: dg.SensorEvaluationContext, landing: LandingZone):
    return landing_tick(context, landing, REPORT_PREFIX, "stg_agent_report", raw_agent_report, is_agent_report_key,
                        per_instance=True)


@dg.sensor(job=ingest_channel_sessions_job, minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description=_described("channel_session_sensor", "New chatbot/NLU-bot session files under channels/ "
                                                            "(raw_channel_sessions) → ingest_channel_sessions: "
                                                            "stg_channel_session, jar, car.", 60))
def channel_session_sensor(context: dg.SensorEvaluationContext, landing: LandingZone):
    return landing_tick(context, landing, CHANNELS_PREFIX, "stg_channel_session", raw_channel_sessions,
                        is_channel_session_key)


@dg.sensor(job=ingest_crm_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING,
           description=_described("crm_sensor", "A new CRM extract under crm/ (raw_crm_extract) → ingest_crm: "
                                                "stg_crm_customer, jar (phone lookups), car.", 300))
def crm_sensor(context: dg.SensorEvaluationContext, landing: LandingZone):
    return landing_tick(context, landing, CRM_PREFIX, "stg_crm_customer", raw_crm_extract, is_crm_extract_key)


landing_sensors = [ctr_landing_sensor, agent_report_sensor, channel_session_sensor, crm_sensor]
ingest_jobs = [ingest_ctr_job, ingest_agent_report_job, ingest_channel_sessions_job, ingest_crm_job]
