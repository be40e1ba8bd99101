"""The landing cursor stays a few kilobytes however many objects land, and still requests each object exactly once,
also one that becomes visible late inside a second the sensor already passed (S3 `LastModified`: 1 s)."""
import hashlib
import random
from collections import Counter
from datetime import datetime, timedelta, timezone

import dagster as dg

import cc_reporting.staging.sensors as sensors
from cc_reporting.definitions import defs
from cc_reporting.ingest.cursor import LandingCursor, next_batch
from cc_reporting.resources.landing import LandingObject

from .conftest import fixture_bytes
from .dagster_home import instance_for, make_dagster_home

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
FEW_KB = 5_000


def firehose_object(i, second, etag="e"):
    """A key shaped like Firehose's (stream, time, then a random id): keys of one second land in random order."""
    uuid = hashlib.sha256(str(i).encode()).hexdigest()[:32]
    return LandingObject(f"ctr/2026/01/05/09/cc-ctr-1-2026-01-05-09-{second // 60:02d}-{second % 60:02d}-{uuid}",
                         etag, 10, T0 + timedelta(seconds=second))


def run_ticks(visible_at, ticks, max_objects=500):
    """Tick once per simulated second over the objects visible by then; every request and the largest cursor."""
    cursor, requested, largest = LandingCursor.parse(None), Counter(), 0
    for now in ticks:
        listing = [o for o, when in visible_at if when <= now]
        batch, cursor = next_batch(listing, LandingCursor.parse(cursor.serialize()), max_objects)
        requested.update((o.key, o.etag) for o in batch)
        largest = max(largest, len(cursor.serialize()))
    return requested, largest


def test_the_cursor_stays_a_few_kilobytes_for_20000_objects_in_one_second_or_across_many():
    for objects in ([firehose_object(i, 0) for i in range(20_000)],
                    [firehose_object(i, i % 120) for i in range(20_000)]):
        requested, largest = run_ticks([(o, 0) for o in objects], range(45))
        assert requested == Counter({(o.key, o.etag): 1 for o in objects})
        assert largest < FEW_KB


def test_objects_landing_late_within_a_passed_second_are_each_requested_exactly_once():
    rng = random.Random(7)
    # 6,000 objects over 60 s; one in thirty becomes visible 1-20 s after its LastModified second.
    objects = [firehose_object(i, i // 100) for i in range(6_000)]
    visible_at = [(o, i // 100 + (rng.randint(1, 20) if rng.random() < 0.033 else 0)) for i, o in enumerate(objects)]
    late = sum(1 for o, when in visible_at if when > (o.last_modified - T0).total_seconds())
    requested, largest = run_ticks(visible_at, range(90))
    assert late > 150
    assert requested == Counter({(o.key, o.etag): 1 for o in objects})
    assert largest < FEW_KB


def test_late_objects_inside_a_second_of_20000_are_each_requested_once_while_it_is_paged():
    objects = [firehose_object(i, 0) for i in range(20_000)]
    stragglers = [firehose_object(i, 0) for i in range(20_000, 20_012)]
    visible_at = [(o, 0) for o in objects] + [(o, 3 + n // 3) for n, o in enumerate(stragglers)]
    requested, largest = run_ticks(visible_at, range(45))
    assert requested == Counter({(o.key, o.etag): 1 for o in objects + stragglers})
    assert largest < FEW_KB


def test_an_object_rewritten_within_its_second_is_requested_once_per_version():
    first = [firehose_object(i, 0) for i in range(1_000)]
    rewritten = firehose_object(5, 0, etag="second version")
    visible_at = [(o, 0) for o in first] + [(rewritten, 2)]
    cursor, requested = LandingCursor.parse(None), Counter()
    for now in range(5):
        listing = [o for o, when in visible_at if when <= now and not (now >= 2 and o == first[5])]
        batch, cursor = next_batch(listing, LandingCursor.parse(cursor.serialize()), 500)
        requested.update((o.key, o.etag) for o in batch)
    assert requested == Counter({(o.key, o.etag): 1 for o in first + [rewritten]})


def test_a_flood_of_late_objects_too_large_to_name_is_requested_again_never_skipped():
    objects = [firehose_object(i, 0) for i in range(1_000)]
    flood = [firehose_object(i, 0) for i in range(1_000, 1_300)]  # 300 late at once: beyond the sketch
    requested, _ = run_ticks([(o, 0) for o in objects] + [(o, 5) for o in flood], range(10))
    assert set(requested) == {(o.key, o.etag) for o in objects + flood}
    assert all(requested[(o.key, o.etag)] == 1 for o in flood)


def test_a_cursor_of_the_earlier_form_resumes_without_skipping():
    objects = [firehose_object(i, 0) for i in range(600)]
    passed = sorted(objects, key=lambda o: o.key)[:400]
    earlier = ('{"high_water": "%s", "pending": ["stg_ctr-abc"], "seconds": {"%s": ["%s", "0123456789abcdef"]}}'
               % (T0.isoformat(), T0.isoformat(), passed[-1].key))
    batch, cursor = next_batch(objects, LandingCursor.parse(earlier), 500)
    assert {o.key for o in batch} == {o.key for o in objects} and cursor.pending == ["stg_ctr-abc"]
    assert next_batch(objects, LandingCursor.parse(cursor.serialize()), 500)[0] == []


def test_a_sensor_requests_no_new_batch_while_too_many_of_its_batches_are_not_ingested(tmp_path, landing, warehouse,
                                                                                       monkeypatch):
    monkeypatch.setattr(sensors, "MAX_OBJECTS_PER_RUN", 1)
    monkeypatch.setattr(sensors, "MAX_PENDING_BATCHES", 3)
    for n in range(5):
        landing.write(f"ctr/2026/01/05/09/s-1-{n}", fixture_bytes("abandoned_ctr.json"))
    instance = instance_for(make_dagster_home(tmp_path))
    cursor, requests = None, []
    for _ in range(4):
        data = sensors.ctr_landing_sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing": landing}))
        cursor, requests = data.cursor, requests + list(data.run_requests)
    assert len(requests) == 3 and "wait (at most 3 batches at once)" in data.skip_message
    assert len(LandingCursor.parse(cursor).pending) == 3

    first = requests[0]  # one batch is ingested: room for the next one
    assert defs.resolve_job_def("ingest_ctr").execute_in_process(
        run_config=first.run_config, tags={**first.tags, "dagster/run_key": first.run_key}, instance=instance,
        resources={"landing": landing, "warehouse": warehouse}).success
    data = sensors.ctr_landing_sensor.evaluate_tick(
        dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing": landing}))
    [fourth] = data.run_requests
    assert fourth.run_config["ops"]["stg_ctr"]["config"]["object_keys"] not in [
        r.run_config["ops"]["stg_ctr"]["config"]["object_keys"] for r in requests]
    assert len(LandingCursor.parse(data.cursor).pending) == 3
