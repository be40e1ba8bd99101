"""Firehose object decoding (connect-formats.md §2)."""
import gzip
import json

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
