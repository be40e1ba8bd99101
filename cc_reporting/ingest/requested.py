"""Batches a landing sensor requested, until a run of theirs succeeded.

The cursor moves past objects the moment their run is requested; if that run fails (disk full, warehouse
locked, killed worker) and nothing asks again, the objects are never ingested. So the cursor also keeps each
requested batch's id (not its objects: those are in the run's config in the Dagster instance, which keeps the
cursor small) and every tick asks the instance how the batch's runs ended. The warehouse is never opened here.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import dagster as dg
from dagster._core.storage.tags import WILL_RETRY_TAG

BATCH_TAG = "cc_reporting/batch"
REREQUEST_OF_TAG = "cc_reporting/rerequest_of"
MAX_ATTEMPTS = 5  # a batch failing this often needs a person (see SkipReason), not a run every 30 s
# Dagster's run-retry daemon re-executes a failed run within seconds (run_retries in dagster.yaml); a run still
# marked "will retry" this long after it ended was not retried (e.g. no code location), so the sensor asks again.
RETRY_GRACE_SECONDS = 300
_now = time.time  # the clock, replaceable in tests


@dataclass(frozen=True)
class BatchState:
    status: str  # 'succeeded', 'running', 'failed' (ask again), 'given_up', 'unknown' (no run yet)
    attempts: int = 0
    object_keys: tuple[str, ...] = ()
    last_run_id: str | None = None


def _group(instance, run) -> list:
    group = instance.get_run_group(run.run_id)
    return list(group[1]) if group else [run]


def batch_state(instance, batch_id: str, asset_name: str) -> BatchState:
    # The first request's run also carries the batch id as its run key (runs requested before the batch tag).
    runs = {r.run_id: r for tags in ({BATCH_TAG: batch_id}, {"dagster/run_key": batch_id})
            for r in instance.get_runs(filters=dg.RunsFilter(tags=tags))}.values()
    if not runs:  # requested this tick or the daemon has not submitted it yet
        return BatchState("unknown")
    # A batch's runs with their re-executions (automatic retries of run_retries, manual ones from the UI).
    family = {r.run_id: r for run in runs for r in _group(instance, run)}.values()
    if any(r.status == dg.DagsterRunStatus.SUCCESS for r in family):
        return BatchState("succeeded", len(runs))
    if any(not r.is_finished for r in family):
        return BatchState("running", len(runs))
    # The sensor's own attempts: a retry by the run-retry daemon carries the tags of the run it retries.
    attempts = len({r.tags.get("dagster/root_run_id", r.run_id) for r in runs})
    newest = max((instance.get_run_record_by_id(r.run_id) for r in family), key=lambda rec: rec.create_timestamp)
    if (newest.dagster_run.tags.get(WILL_RETRY_TAG) == "true"
            and _now() - (newest.end_time or 0) < RETRY_GRACE_SECONDS):
        return BatchState("running", attempts)  # the run-retry daemon will re-execute it
    config = newest.dagster_run.run_config.get("ops", {}).get(asset_name, {}).get("config", {})
    status = "given_up" if attempts >= MAX_ATTEMPTS else "failed"
    return BatchState(status, attempts, tuple(config.get("object_keys", ())), newest.dagster_run.run_id)


def rerequest(batch_id: str, asset_name: str, state: BatchState) -> dg.RunRequest:
    """The failed batch's objects again, under a new run key (Dagster skips a run key it has seen).

    A failed run without object keys in its config asks for none: the empty list stages every object the ledger
    does not hold yet, which is still what was lost."""
    return dg.RunRequest(
        run_key=f"{batch_id}-attempt{state.attempts + 1}",
        run_config={"ops": {asset_name: {"config": {"object_keys": list(state.object_keys)}}}},
        tags={BATCH_TAG: batch_id, REREQUEST_OF_TAG: state.last_run_id or "",
              "cc_reporting/objects": str(len(state.object_keys)), "cc_reporting/attempt": str(state.attempts + 1)},
    )
