"""Where a Kinesis shard stands after one GetRecords page, rule by rule (the stream tests cover them end to end)."""
from cc_reporting.realtime.kinesis_source import CAUGHT_UP, MORE, _after_page, _read_past_end
from cc_reporting.realtime.stream_positions import SHARD_END, split_quota

RECORD = {"SequenceNumber": "5", "Data": b"{}"}


def test_a_null_next_iterator_ends_the_shard():
    assert _after_page({"Records": [RECORD], "NextShardIterator": None}, closed=True) == SHARD_END


def test_an_empty_caught_up_page_of_a_closed_shard_ends_it():
    assert _after_page({"Records": [], "NextShardIterator": "it", "MillisBehindLatest": 0}, closed=True) == SHARD_END


def test_an_open_shard_caught_up_stops_reading_until_the_next_call():
    assert _after_page({"Records": [RECORD], "NextShardIterator": "it", "MillisBehindLatest": 0},
                       closed=False) == CAUGHT_UP
    assert _after_page({"Records": [], "NextShardIterator": "it", "MillisBehindLatest": 0}, closed=False) == CAUGHT_UP


def test_a_shard_behind_the_tip_is_read_on():
    assert _after_page({"Records": [RECORD], "NextShardIterator": "it", "MillisBehindLatest": 900},
                       closed=False) == MORE
    # a closed shard that returned records may hold more before its end, even at 0 ms behind
    assert _after_page({"Records": [RECORD], "NextShardIterator": "it", "MillisBehindLatest": 0}, closed=True) == MORE


def test_a_closed_shard_read_to_its_ending_sequence_number_is_not_read_again():
    shard = {"SequenceNumberRange": {"StartingSequenceNumber": "1", "EndingSequenceNumber": "40"}}
    assert _read_past_end(shard, "40") and not _read_past_end(shard, "39") and not _read_past_end(shard, None)


def test_a_read_budget_splits_evenly_the_first_shards_taking_the_remainder():
    assert split_quota(10, ["a", "b", "c"]) == {"a": 4, "b": 3, "c": 3}
    assert split_quota(5, []) == {}
