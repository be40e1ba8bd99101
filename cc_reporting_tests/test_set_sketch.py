"""The cursor's set sketch names a small difference exactly, and says when a difference is too large to name."""
from cc_reporting.ingest.set_sketch import SetSketch, element_id

SET = [element_id(f"ctr/o-{i}") for i in range(3_000)]


def test_a_small_difference_is_named_exactly_both_ways_whatever_the_size_of_the_sets():
    stored = SetSketch.parse(SetSketch.of(SET).serialize())
    for trial in range(120):
        added = [element_id(f"late-{trial}-{n}") for n in range(trial % 12)]
        gone = SET[trial * 7: trial * 7 + trial % 4]
        listed = SetSketch.of([e for e in SET if e not in set(gone)] + added)
        assert listed.difference(stored) == (set(added), set(gone))


def test_a_difference_too_large_to_name_is_reported_never_answered_wrongly():
    stored = SetSketch.of(SET)
    flood = SetSketch.of(SET + [element_id(f"flood-{n}") for n in range(300)])
    assert flood.difference(stored) is None
    assert SetSketch.of(SET).difference(stored) == (set(), set())
