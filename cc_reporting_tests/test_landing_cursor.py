"""The landing sensors' cursor: pagination-scale batches, equal LastModified seconds, updates."""
from datetime import datetime, timedelta, timezone

from cc_reporting.ingest.cursor import LandingCursor, next_batch
from cc_reporting.resources.landing import LandingObject

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def obj(i, second=0, etag="e"):
    return LandingObject(f"ctr/2026/01/05/09/o-{i:05d}", etag, 10, T0 + timedelta(seconds=second))


def drain(objects, cursor, max_objects):
    seen, ticks = [], 0
    while True:
        batch, cursor = next_batch(objects, LandingCursor.parse(cursor.serialize()), max_objects)
        if not batch:
            return seen, ticks, cursor
        seen += [o.key for o in batch]
        ticks += 1


def test_more_than_a_thousand_objects_in_the_same_second_are_each_requested_once():
    objects = [obj(i) for i in range(2_345)]
    seen, ticks, _ = drain(objects, LandingCursor(), 500)
    assert sorted(seen) == sorted(o.key for o in objects) and len(seen) == len(set(seen))
    assert ticks == 5  # bounded batches per tick


def test_objects_arriving_later_in_an_already_seen_second_are_picked_up():
    first = [obj(i, second=10) for i in range(3)]
    _, _, cursor = drain(first, LandingCursor(), 500)
    later = first + [obj(99, second=10), obj(100, second=11)]
    batch, _ = next_batch(later, cursor, 500)
    assert [o.key for o in batch] == [obj(99).key, obj(100).key]


def test_an_updated_object_with_a_new_etag_is_requested_again():
    objects = [obj(1, second=5)]
    _, _, cursor = drain(objects, LandingCursor(), 500)
    batch, _ = next_batch([obj(1, second=6, etag="new")], cursor, 500)
    assert [(o.key, o.etag) for o in batch] == [(obj(1).key, "new")]


def test_cursor_round_trips_and_forgets_keys_outside_the_lookback():
    objects = [obj(i, second=i * 30) for i in range(10)]
    _, _, cursor = drain(objects, LandingCursor(), 3)
    restored = LandingCursor.parse(cursor.serialize())
    assert restored.high_water == T0 + timedelta(seconds=270)
    # Only the seconds within 60 s of the high-water mark are kept.
    assert set(restored.seconds) == {(T0 + timedelta(seconds=s)).isoformat() for s in (210, 240, 270)}
    assert next_batch(objects, restored, 500)[0] == []


def test_cursor_size_does_not_grow_with_the_number_of_objects():
    def size(n):
        objects = [obj(i, second=i % 120) for i in range(n)]
        _, _, cursor = drain(objects, LandingCursor(), 500)
        return len(cursor.serialize())
    small, large = size(1_000), size(20_000)
    assert large == small and large < 61 * 100  # one entry per second of look-back, ~100 bytes each


def test_an_object_appearing_before_the_last_key_of_an_already_requested_second_is_requested():
    first = [obj(i, second=10) for i in (10, 20, 30)]
    _, _, cursor = drain(first, LandingCursor(), 500)
    late = first + [obj(15, second=10)]  # sorts before o-00030, the second's last requested key
    batch, cursor = next_batch(late, LandingCursor.parse(cursor.serialize()), 500)
    assert obj(15).key in {o.key for o in batch}  # with the second's others: the ledger skips those
    assert next_batch(late, cursor, 500)[0] == []


def test_an_object_updated_within_the_same_second_is_requested_again():
    first = [obj(i, second=10) for i in range(3)]
    _, _, cursor = drain(first, LandingCursor(), 500)
    updated = [first[0], obj(1, second=10, etag="new"), first[2]]
    batch, _ = next_batch(updated, cursor, 500)
    assert (obj(1).key, "new") in {(o.key, o.etag) for o in batch}
