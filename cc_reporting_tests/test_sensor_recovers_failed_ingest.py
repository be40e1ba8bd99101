"""A landing sensor never loses the objects of a run that failed: it asks for them again, and says so."""
import errno
from datetime import datetime, timezone

import dagster as dg

import cc_reporting.ingest.requested as requested
import cc_reporting.staging.assets as staging_assets
from cc_reporting.definitions import defs
from cc_reporting.ingest.cursor import LandingCursor
from cc_reporting.simulate import simulate
from cc_reporting.staging.sensors import ctr_landing_sensor

from .conftest import query
from .dagster_home import instance_for, make_dagster_home


def tick(instance, landing, cursor):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing": landing})
    data = ctr_landing_sensor.evaluate_tick(context)
    return data, data.cursor


def execute(instance, request, landing, warehouse):
    job = defs.resolve_job_def("ingest_ctr")
    return job.execute_in_process(
        run_config=request.run_config, tags={**request.tags, "dagster/run_key": request.run_key},
        instance=instance, resources={"landing": landing, "warehouse": warehouse}, raise_on_error=False)


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_objects_of_a_failed_ingest_run_are_requested_again_until_ingested(tmp_path, landing, warehouse,
                                                                           monkeypatch):
    summary = simulate(datetime(2026, 1, 5, 8, tzinfo=timezone.utc), 7, 12, 3, landing,
                       str(tmp_path / "landing" / "agent-events"))
    objects = list(landing.list("ctr/"))
    assert len(objects) == summary.ctr_objects > 100
    instance = instance_for(make_dagster_home(tmp_path))

    first, cursor = tick(instance, landing, None)
    [request] = first.run_requests
    assert len(request.run_config["ops"]["stg_ctr"]["config"]["object_keys"]) == len(objects)
    with monkeypatch.context() as m:  # the warehouse disk is full for this run
        m.setattr(staging_assets, "ingest_objects", disk_full)
        assert not execute(instance, request, landing, warehouse).success
    failed = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/run_key": request.run_key}))[0]
    assert failed.status == dg.DagsterRunStatus.FAILURE and failed.tags["dagster/will_retry"] == "true"

    # While Dagster's run-retry daemon may still re-execute it, the sensor waits and says what it waits for.
    waiting, cursor = tick(instance, landing, cursor)
    assert not waiting.run_requests and "1 requested batch(es) not ingested yet" in waiting.skip_message

    # No retry came (none of the daemon's in this test): the sensor requests the same objects under a new key.
    end = instance.get_run_record_by_id(failed.run_id).end_time
    monkeypatch.setattr(requested, "_now", lambda: end + requested.RETRY_GRACE_SECONDS + 1)
    again, cursor = tick(instance, landing, cursor)
    [retry] = again.run_requests
    assert retry.run_key != request.run_key
    assert retry.tags[requested.REREQUEST_OF_TAG] == failed.run_id and retry.tags["cc_reporting/attempt"] == "2"
    assert sorted(retry.run_config["ops"]["stg_ctr"]["config"]["object_keys"]) == sorted(o.key for o in objects)
    assert execute(instance, retry, landing, warehouse).success

    done, cursor = tick(instance, landing, cursor)
    assert not done.run_requests and "not ingested yet" not in done.skip_message
    assert LandingCursor.parse(cursor).pending == []
    assert query(warehouse, "SELECT count(*) FROM ingest_ledger WHERE source = 'ctr'")[0][0] == len(objects)
    assert query(warehouse, "SELECT count(*) FROM stg_ctr")[0][0] == summary.contacts


def test_a_batch_failing_every_attempt_is_reported_not_requested_for_ever(tmp_path, landing, warehouse,
                                                                          monkeypatch):
    simulate(datetime(2026, 1, 5, 8, tzinfo=timezone.utc), 1, 3, 3, landing, str(tmp_path / "landing" / "ae"))
    instance = instance_for(make_dagster_home(tmp_path))
    monkeypatch.setattr(staging_assets, "ingest_objects", disk_full)
    monkeypatch.setattr(requested, "_now", lambda: 4e9)  # long after every run: no retry by the daemon to wait for
    data, cursor = tick(instance, landing, None)
    for _ in range(requested.MAX_ATTEMPTS):
        [request] = data.run_requests
        assert not execute(instance, request, landing, warehouse).success
        data, cursor = tick(instance, landing, cursor)
    assert not data.run_requests
    assert f"{requested.MAX_ATTEMPTS} runs failed" in data.skip_message and "NOT ingested" in data.skip_message
    assert len(LandingCursor.parse(cursor).pending) == 1  # still watched: a manual re-execution clears it
