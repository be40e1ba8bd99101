"""CTR staging hands the decoder's records to DuckDB as UTF-8 bytes, parses and types them in one pass and ranks the
copies of a contact on narrow columns: the rows staged, their record_hash and the counts must be what the text
records always gave."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import subprocess
import sys
from datetime import datetime, timezone

import duckdb
import pytest

from cc_reporting.ingest.firehose import decode_ctr_object
from cc_reporting.staging.assets import stg_ctr
from cc_reporting.staging.ctr_table import merge_ctr_records
from cc_reporting.staging.schema import ensure_staging_tables

from . import hostile_corpus as hc
from .conftest import FIXTURES, TEST_SALT, concat, fixture_bytes, fixture_json, materialize, query

KEY = "ctr/2026/01/05/09/cc-ctr-stream-1-2026-01-05-09-15-00-{}"


def _ctr_objects() -> list[bytes]:
    """The public samples, and a hostile corpus of CTR objects (fast path, exact decoder, gzip, damage)."""
    bodies = [fixture_bytes(name) for name in ("sample_ctr.json", "firehose_object_sample", "abandoned_ctr.json",
                                               "ivr_only_ctr.json")]
    rng = random.Random(16)
    for i in range(300):
        garbage = hc.CTR_GARBAGE[i % len(hc.CTR_GARBAGE)] if i % 3 else None
        bodies.append(hc.ctr_object(rng, f"one-pass-{i}", garbage).data)
    bodies.append(gzip.compress(bodies[1]))
    return bodies


def _staged(records: list[tuple[str, str | bytes]]) -> tuple[list[tuple], dict]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ensure_staging_tables(con, TEST_SALT)
    stats = merge_ctr_records(con, records, "b1", datetime(2026, 1, 6, tzinfo=timezone.utc))
    rows = con.execute("SELECT * FROM stg_ctr ORDER BY contact_id").fetchall()
    con.close()
    return rows, stats


def test_staging_reads_each_object_into_the_same_records_as_utf8_bytes():
    for body in _ctr_objects():
        text, raw = decode_ctr_object(body), decode_ctr_object(body, as_bytes=True)
        assert raw.records == [record.encode() for record in text.records]
        assert (raw.error, raw.rejected, raw.oversized) == (text.error, text.rejected, text.oversized)


def test_records_given_as_bytes_stage_the_same_rows_and_counts_as_given_as_text():
    text_records, byte_records = [], []
    for i, body in enumerate(_ctr_objects()):
        text_records += [(f"ctr/{i}", record) for record in decode_ctr_object(body).records]
        byte_records += [(f"ctr/{i}", record) for record in decode_ctr_object(body, as_bytes=True).records]
    assert len(text_records) > 500
    from_text, from_bytes = _staged(text_records), _staged(byte_records)
    assert from_bytes == from_text


def test_record_hash_is_the_md5_of_the_raw_record_text():
    record = json.dumps(dict(fixture_json("abandoned_ctr.json"), DisconnectReason="é 𝄞 }{"), ensure_ascii=False)
    rows, _ = _staged([("ctr/a", record.encode())])
    assert [row[-3] for row in rows] == [hashlib.md5(record.encode()).hexdigest()]  # record_hash


def test_a_contact_with_no_valid_last_update_in_any_copy_is_counted_once_and_not_staged():
    base = fixture_json("abandoned_ctr.json")
    never = [dict(base, ContactId="c-never", LastUpdateTimestamp="never", Channel=channel) for channel in "AB"]
    mixed = [dict(base, ContactId="c-mixed", LastUpdateTimestamp="soon"),
             dict(base, ContactId="c-mixed", LastUpdateTimestamp="2026-01-05T10:00:00Z", Channel="CHAT")]
    rows, stats = _staged([("ctr/a", json.dumps(r)) for r in never + mixed])
    assert [(row[0], row[6]) for row in rows] == [("c-mixed", "CHAT")]
    assert (stats["records_bad_timestamp"], stats["new_contacts"], stats["unchanged_or_older_copies"]) == (1, 1, 2)


def test_arn_id_is_the_part_after_the_last_slash_as_the_regex_took_it(con):
    arns = ["arn:aws:connect:eu-west-1:1:instance/i-1/queue/q-1", "q-plain", "", "ends-with/", "//", "a/b\nc/d\ne",
            "arn:aws:connect:eu-west-1:1:instance/i-1/agent/é𝄞", None]
    assert con.execute("""SELECT list(NULLIF(split_part(a, '/', -1), '') IS NOT DISTINCT FROM
                                      NULLIF(regexp_extract(a, '[^/]*$'), '') ORDER BY i)
                          FROM unnest(?) WITH ORDINALITY AS t(a, i)""", [arns]).fetchone()[0] == [True] * len(arns)


def test_tie_on_last_update_across_objects_of_one_batch_keeps_the_object_ingested_last(landing, warehouse):
    first = fixture_json("abandoned_ctr.json")
    last = dict(first, Attributes={"intent": "from the object landed last"})
    # keys in the opposite order of landing: objects are ingested in the order they landed
    landing.write(KEY.format("z"), concat(first))
    landing.write(KEY.format("a"), concat(last))
    os.utime(landing._local(KEY.format("z")), (1_900_000_000, 1_900_000_000))
    os.utime(landing._local(KEY.format("a")), (1_900_000_100, 1_900_000_100))
    materialize([stg_ctr], landing, warehouse)
    assert query(warehouse, "SELECT count(DISTINCT batch_id) FROM stg_ctr_touched") == [(1,)]
    attributes, source_key = query(warehouse, "SELECT attributes, source_key FROM stg_ctr")[0]
    assert json.loads(attributes)["intent"] == "from the object landed last" and source_key == KEY.format("a")


def test_staging_a_ctr_batch_does_not_import_pandas():
    # pyarrow imports pandas the first time it converts a Python list (0.75-1.2 s in every run process)
    script = f"""
import sys
from datetime import datetime, timezone
import duckdb
from cc_reporting.ingest.firehose import decode_ctr_object
from cc_reporting.staging.ctr_table import merge_ctr_records
from cc_reporting.staging.schema import ensure_staging_tables
con = duckdb.connect()
ensure_staging_tables(con, "salt")
body = open({str(FIXTURES / "firehose_object_sample")!r}, "rb").read()
records = [("ctr/a", raw) for raw in decode_ctr_object(body, as_bytes=True).records]
stats = merge_ctr_records(con, records, "b1", datetime.now(timezone.utc))
assert stats["new_contacts"] == 2, stats
print("pandas" in sys.modules)
"""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


def test_a_record_that_is_not_utf8_text_is_refused_before_it_reaches_duckdb():
    # the decoders never give one; a caller that did must fail loudly, not stage bytes DuckDB takes for text
    records = [("ctr/a", b'{"ContactId":"c","LastUpdateTimestamp":"2026-01-05T09:00:00Z"}'),
               ("ctr/a", b'{"ContactId":"c\xff","LastUpdateTimestamp":"2026-01-05T09:00:00Z"}')]
    with pytest.raises(Exception, match="(?i)utf-?8"):
        _staged(records)
