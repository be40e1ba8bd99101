"""Firehose object decoding (connect-formats.md §2)."""
import gzip
import json
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from cc_reporting.ingest import firehose
from cc_reporting.ingest.bounded import Bounds
from cc_reporting.ingest.firehose import decode_ctr_object

from .conftest import concat, fixture_bytes, fixture_json


def test_never_split_on_brace_pair_inside_strings():
    body = fixture_bytes("firehose_object_sample")
    assert len(body.decode().split("}{")) == 4  # the naive split the spec warns about
    decoded = decode_ctr_object(body)
    assert decoded.error is None
    assert [json.loads(r)["ContactId"][:8] for r in decoded.records] == ["7f3a9c21", "d2c6a8e4", "7f3a9c21"]
    assert "}{" in json.loads(decoded.records[1])["Attributes"]["crmRef"]


def test_newline_delimited_and_whitespace_between_objects_are_accepted():
    a, b = fixture_json("abandoned_ctr.json"), fixture_json("ivr_only_ctr.json")
    body = ("\ufeff" + json.dumps(a) + "\n  \r\n" + json.dumps(b) + "\n").encode()
    assert len(decode_ctr_object(body).records) == 2


def test_gzip_is_detected_by_magic_bytes_not_by_name():
    body = gzip.compress(concat(fixture_json("abandoned_ctr.json")))
    assert len(decode_ctr_object(body).records) == 1


def test_records_before_garbage_are_kept_and_the_object_flagged():
    body = concat(fixture_json("abandoned_ctr.json")) + b'{"ContactId": "x", trunc'
    decoded = decode_ctr_object(body)
    assert len(decoded.records) == 1
    assert "invalid JSON after 1 record" in decoded.error


def test_values_that_are_not_contact_records_are_rejected_and_counted():
    event = fixture_json("sample_agent_event.json")
    bad_ts = dict(fixture_json("abandoned_ctr.json"), ContactId="c2", LastUpdateTimestamp="yesterday")
    decoded = decode_ctr_object(concat(fixture_json("abandoned_ctr.json"), event, bad_ts) + b"[1,2]")
    assert len(decoded.records) == 1 and decoded.rejected == 3
    assert "not contact records" in decoded.error


def test_invalid_utf8_and_empty_objects_are_errors():
    assert decode_ctr_object(b"\xff\xfe{}").error.startswith("cannot decode")
    assert decode_ctr_object(b"   ").error == "object holds no contact record"


# -- the fast path agrees with the exact decoder ------------------------------------------------------------------
# `decode_ctr_object` first tries `firehose._decode_fast` (cut at `}{`, validate each piece with msgspec); with it
# switched off, the exact json decoder reads every object. The two must give the same records, error and count.
def _same_as_exact(body: bytes, bounds: Bounds | None = None):
    fast = decode_ctr_object(body, bounds)
    # called from this very frame: json's RecursionError depends on the depth of the stack
    with mock.patch.object(firehose, "_decode_fast", lambda body, max_record: None):
        exact = decode_ctr_object(body, bounds)
    assert (fast.records, fast.error, fast.rejected, fast.oversized) == \
        (exact.records, exact.error, exact.rejected, exact.oversized)
    return fast


_TS = "2026-01-05T09:00:00.123Z"
_ctr = {"ContactId": "c-1", "LastUpdateTimestamp": _TS, "Channel": "VOICE", "Attributes": {"a": "1"}}
_tricky_text = st.lists(st.one_of(
    st.sampled_from(["}{", "} {", "}\n{", "}\r\n\t{", '"}{"', '}{"ContactId":"fake","LastUpdateTimestamp":"' + _TS
                     + '"}{', "{", "}", "[", "]", '"', "\\", "\n", "\ufeff", "é", "𝄞", "\x00"]),
    st.characters(blacklist_categories=("Cs",))), max_size=8).map("".join)


@st.composite
def _value(draw, objects_only=False):
    value = {"ContactId": draw(st.one_of(st.text(max_size=6), st.sampled_from([None, 7, ["x"]]))),
             "LastUpdateTimestamp": draw(st.sampled_from([_TS, "2026-01-05 09:00", "2026-02-30T00:00:00Z",
                                                           "yesterday", None, 1736067600])),
             "Attributes": draw(st.dictionaries(_tricky_text, _tricky_text, max_size=3)),
             "DisconnectReason": draw(_tricky_text)}
    text = json.dumps(value, ensure_ascii=draw(st.booleans()),
                      separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])))
    if not objects_only and draw(st.integers(0, 15)) == 0:
        return draw(st.sampled_from(["", "[]", '"x"', "42"]))  # not a record (or nothing): rejected by both
    return text


_tails = st.sampled_from([b"", b"\n", b'{"ContactId":"x", trunc', b'{"ContactId":"x"', b"}", b"{", b"\xff", b"\xc3\x28",
                          b'{"ContactId":"t","LastUpdateTimestamp":"' + _TS.encode() + b'","x":"\xed\xa0\x80"}',
                          b"NaN", b"[1,2]", b'{"a":NaN}', b'{"a":"\\ud800"}', b"\xef\xbb\xbf{}", b"}{", b" \x00"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_value(), max_size=6), st.sampled_from(["", "\n", " ", "\r\n", "\n\t "]), st.booleans(), _tails,
       st.integers(0, 10**6))
def test_fast_path_agrees_with_the_exact_decoder_on_any_concatenation(records, separator, bom, tail, cut):
    body = (("\ufeff" if bom else "") + separator.join(records)).encode() + tail
    _same_as_exact(body)
    _same_as_exact(body[: cut % (len(body) + 1)])  # a cut anywhere, even inside a UTF-8 sequence
    _same_as_exact(gzip.compress(body))
    # a record bound that falls among the values' sizes: both paths measure a value's UTF-8 bytes alike
    _same_as_exact(body, Bounds(max_decompressed_bytes=1 << 20, max_record_bytes=cut % 200 + 2))


@settings(max_examples=100, deadline=None)
@given(st.lists(_value(objects_only=True), min_size=1, max_size=6), st.sampled_from(["", "\n", " \r\n"]))
def test_fast_path_reads_clean_objects_without_the_exact_decoder(records, separator):
    body = separator.join(records).encode()
    assert firehose._decode_fast(body, 1 << 20) is not None, "a clean object fell back to the slow decoder"
    _same_as_exact(body)


def test_a_cut_inside_a_string_is_never_a_record_boundary():
    fake = '}{"ContactId":"fake","LastUpdateTimestamp":"' + _TS + '"}{'
    first, second = dict(_ctr, DisconnectReason=fake), dict(_ctr, ContactId="c-2", Attributes={fake: fake})
    body = (json.dumps(first, separators=(",", ":")) + json.dumps(second)).encode()
    decoded = firehose._decode_fast(body, 1 << 20)
    assert decoded is not None and decoded.error is None
    assert [json.loads(r)["ContactId"] for r in decoded.records] == ["c-1", "c-2"]
    _same_as_exact(body)


def test_whitespace_between_records_is_a_boundary_and_not_part_of_a_record():
    record = json.dumps(_ctr)
    for separator in ["\n", " ", "\t", "\r\n", " \n\t\r "]:
        body = ("\ufeff" + separator + record + separator + record + separator).encode()
        decoded = firehose._decode_fast(body, 1 << 20)
        assert decoded is not None and decoded.records == [record, record] and decoded.error is None
        _same_as_exact(body)
    for not_whitespace in ["\f", "\v", "\u00a0", "\ufeff", ","]:  # json does not skip these between values
        decoded = _same_as_exact((record + not_whitespace + record).encode())
        assert decoded.records == [record] and "invalid JSON after 1 record" in decoded.error


def test_records_before_damage_are_kept_by_the_fast_path_as_by_the_exact_one():
    record = json.dumps(_ctr, separators=(",", ":"))
    for damage in [b'{"ContactId":"x", trunc', b"\xff\xfe", b'{"a":"\xff"}', b"[" * 100_000, b'{"a":' * 50_000]:
        body = (record * 3).encode() + damage + record.encode()
        decoded = _same_as_exact(body)
        assert decoded.records == [record] * 3 and decoded.error


def test_values_only_json_accepts_are_judged_by_json():
    record = json.dumps(_ctr, separators=(",", ":"))
    for value in ['{"a":NaN}', '{"a":-Infinity}', '{"a":"\\ud800"}', '{"a":"\\udc00x"}', '[1,2]', '"text"', "42",
                  "null", '{"ContactId":1e400,"LastUpdateTimestamp":"' + _TS + '"}',
                  '{"ContactId":"\\ud800","LastUpdateTimestamp":"' + _TS + '"}']:
        decoded = _same_as_exact((record + value + record).encode())
        assert len(decoded.records) + decoded.rejected == 3 and decoded.records[0] == record, value


def test_the_last_duplicate_key_wins_in_both_paths():
    for duplicate in ['"ContactId":""', '"ContactId":5', '"LastUpdateTimestamp":"never"', '"ContactId":"c-9"']:
        body = (json.dumps(_ctr, separators=(",", ":"))[:-1] + "," + duplicate + "}").encode()
        decoded = _same_as_exact(body)
        assert len(decoded.records) == (duplicate == '"ContactId":"c-9"')


def test_values_nested_deeper_than_the_fast_limit_are_left_to_json():
    record = json.dumps(_ctr, separators=(",", ":"))
    # json's limit is the stack's (RecursionError near depth 1000), msgspec's is close to it but not the same
    for depth in [firehose._FAST_MAX_OPENERS - 1, 500, *range(900, 1040), 5000]:
        deep = json.dumps(dict(_ctr, ContactId="deep"))[:-1] + ',"x":' + "[" * depth + "]" * depth + "}"
        body = (record + deep + record).encode()
        assert firehose._decode_fast(body, 1 << 20) is None
        _same_as_exact(body)


def test_retrying_joined_pieces_reads_the_object_at_most_twice(monkeypatch):
    record = json.dumps(dict(_ctr, DisconnectReason="}{" * 20), separators=(",", ":"))
    read = []
    decode_key = firehose._decode_key
    monkeypatch.setattr(firehose, "_decode_key", lambda piece: read.append(len(piece)) or decode_key(piece))
    for body in [('{"broken":"' + record * 5000).encode(), (record * 5000).encode()]:
        read.clear()
        _same_as_exact(body)
        assert sum(read) <= 2 * len(body) + firehose._JOIN_ALLOWANCE
