"""Staging of contact trace records: typing, dedupe, quarantine, idempotency (connect-formats.md §1-2)."""
import hashlib
import json
import os
from datetime import datetime, timezone

from cc_reporting.staging.assets import stg_ctr

from .conftest import TEST_SALT, concat, fixture_bytes, fixture_json, materialize, query

KEY = "ctr/2026/01/05/09/cc-ctr-stream-1-2026-01-05-09-15-00-{}"


def utc(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def row(warehouse, contact_id):
    with warehouse.connect() as con:
        cur = con.execute("SELECT * FROM stg_ctr WHERE contact_id = ?", [contact_id])
        names = [d[0] for d in cur.description]
        values = cur.fetchone()
    return dict(zip(names, values)) if values else None


def test_real_sample_ctr_is_staged_field_by_field(landing, warehouse):
    landing.write(KEY.format("a"), fixture_bytes("sample_ctr.json"))
    materialize([stg_ctr], landing, warehouse)
    r = row(warehouse, "6fe40d2a-1a89-4d73-bfcf-5d9c33894f47")
    expected = {
        "initial_contact_id": None, "previous_contact_id": None, "next_contact_id": None,
        "root_contact_id": "6fe40d2a-1a89-4d73-bfcf-5d9c33894f47",
        "channel": "VOICE", "initiation_method": "INBOUND",
        "initiation_ts": utc("2022-01-05T17:12:59Z"), "connected_to_system_ts": utc("2022-01-05T17:12:59Z"),
        "disconnect_ts": utc("2022-01-05T17:47:28Z"), "disconnect_reason": "CUSTOMER_DISCONNECT",
        "last_update_ts": utc("2022-01-05T17:48:35Z"), "transfer_completed_ts": utc("2022-01-05T17:28:12Z"),
        "agent_connection_attempts": 1, "aws_account_id": "123456789012",
        "instance_id": "258252ea-967d-46f9-a510-b7f0bae69eea",
        "agent_id": "e7c9afb6-b1e1-4afa-b5b5-d1c9bc752b69", "agent_username": "Steve.Lusk",
        "agent_connected_ts": utc("2022-01-05T17:20:32Z"), "agent_interaction_duration": 239,
        "customer_hold_duration": 221, "number_of_holds": 2, "longest_hold_duration": 204,
        "acw_start_ts": utc("2022-01-05T17:28:12Z"), "acw_end_ts": utc("2022-01-05T17:28:17Z"), "acw_duration": 5,
        "routing_profile_id": "304e0036-2322-45fd-80c4-c97e184c388b", "routing_profile_name": "TCC ALL",
        "hierarchy_level1": "TCC", "hierarchy_level2": "TCC ALL", "hierarchy_level3": None,
        "queue_id": "078ccbaa-ae69-4bf9-84bc-5c60ca9b1478", "queue_name": "TCC Refrig AC LLA",
        "is_agent_queue": False, "enqueue_ts": utc("2022-01-05T17:14:46Z"),
        "dequeue_ts": utc("2022-01-05T17:20:32Z"), "queue_duration": 346,
        "customer_endpoint_type": "TELEPHONE_NUMBER",
        "system_endpoint_address": "+18003335555", "transferred_to_endpoint_address": "+18002430000",
        "recording_status": "AVAILABLE", "source_key": KEY.format("a"),
    }
    assert {k: r[k] for k in expected} == expected
    assert json.loads(r["attributes"])["PathCode"] == "8477597_002_00002"


def test_customer_phone_is_hashed_with_the_salt_and_never_stored_in_clear(landing, warehouse):
    landing.write(KEY.format("a"), fixture_bytes("sample_ctr.json"))
    materialize([stg_ctr], landing, warehouse)
    r = row(warehouse, "6fe40d2a-1a89-4d73-bfcf-5d9c33894f47")
    assert r["customer_phone_hash"] == hashlib.sha256((TEST_SALT + "+190011112222").encode()).hexdigest()
    with warehouse.connect() as con:
        con.execute(f"EXPORT DATABASE '{warehouse.database}.export' (FORMAT csv)")
    dumped = "".join(open(os.path.join(warehouse.database + ".export", f), errors="replace").read()
                     for f in os.listdir(warehouse.database + ".export"))
    assert "190011112222" not in dumped


def test_ivr_only_and_abandoned_legs_stage_with_null_agent_and_queue(landing, warehouse):
    landing.write(KEY.format("a"), concat(fixture_json("ivr_only_ctr.json"), fixture_json("abandoned_ctr.json")))
    materialize([stg_ctr], landing, warehouse)
    ivr = row(warehouse, "1e0c5b7a-8f2d-4a3c-9b61-d4e7f0a2c815")
    assert (ivr["queue_id"], ivr["agent_username"], ivr["enqueue_ts"], ivr["agent_connection_attempts"]) == (
        None, None, None, 0)
    assert ivr["disconnect_reason"] == "CONTACT_FLOW_DISCONNECT"
    abandoned = row(warehouse, "4b9e2d7f-0a6c-4f1b-8e3d-c5a7f9b1d204")
    assert (abandoned["queue_name"], abandoned["queue_duration"],
            abandoned["agent_connected_ts"]) == ("Billing", 3, None)


def test_null_system_endpoint_and_unknown_fields_are_fine(landing, warehouse):
    record = fixture_json("abandoned_ctr.json")
    record.update(SystemEndpoint=None, BrandNewField={"x": [1, 2]}, Agent=None, ContactId="c-unknown-fields")
    record["Queue"]["SomethingNew"] = "ignored"
    landing.write(KEY.format("a"), concat(record))
    materialize([stg_ctr], landing, warehouse)
    r = row(warehouse, "c-unknown-fields")
    assert r["system_endpoint_address"] is None and r["queue_duration"] == 3


def test_firehose_sample_dedupes_to_latest_last_update(landing, warehouse):
    landing.write(KEY.format("a"), fixture_bytes("firehose_object_sample"))
    result = materialize([stg_ctr], landing, warehouse)
    assert query(warehouse, "SELECT count(*) FROM stg_ctr") == [(2,)]
    kept = row(warehouse, "7f3a9c21-5e8b-4d6f-a0c4-b2e91d7f5a36")
    assert kept["last_update_ts"] == utc("2026-01-05T09:18:40Z")
    assert json.loads(kept["attributes"])["disposition"] == "resolved"
    meta = result.asset_materializations_for_node("stg_ctr")[0].metadata
    assert meta["records_read"].value == 3 and meta["dagster/row_count"].value == 2


def test_updated_resend_in_a_later_file_replaces_and_older_copy_never_wins(landing, warehouse):
    v1 = fixture_json("abandoned_ctr.json")
    v2 = dict(v1, LastUpdateTimestamp="2026-01-05T10:00:00Z", Attributes={"intent": "billing", "csat": "4"})
    landing.write(KEY.format("1"), concat(v1))
    landing.write(KEY.format("2"), concat(v2))
    materialize([stg_ctr], landing, warehouse)
    assert json.loads(row(warehouse, v1["ContactId"])["attributes"])["csat"] == "4"
    # The old copy re-delivered later (Firehose retry) must not overwrite the update.
    landing.write(KEY.format("3"), concat(v1))
    materialize([stg_ctr], landing, warehouse)
    r = row(warehouse, v1["ContactId"])
    assert json.loads(r["attributes"])["csat"] == "4" and r["source_key"] == KEY.format("2")


def test_an_update_of_a_contact_whose_id_is_no_safe_literal_replaces_it_too(landing, warehouse):
    # The merge finds staged copies through the primary-key index with the ids written into the SQL; an id with a
    # quote must take the subquery path and still be deduplicated, in a later run as in the same one.
    v1 = dict(fixture_json("abandoned_ctr.json"), ContactId="o'brien-1")
    v2 = dict(v1, LastUpdateTimestamp="2026-01-05T10:00:00Z", Attributes={"csat": "5"})
    landing.write(KEY.format("1"), concat(v1))
    materialize([stg_ctr], landing, warehouse)
    landing.write(KEY.format("2"), concat(v2))
    materialize([stg_ctr], landing, warehouse)
    assert query(warehouse, "SELECT count(*) FROM stg_ctr WHERE contact_id = ?", ["o'brien-1"])[0][0] == 1
    assert json.loads(row(warehouse, "o'brien-1")["attributes"])["csat"] == "5"


def test_identical_resend_across_files_keeps_one_row_and_touches_nothing(landing, warehouse):
    record = fixture_json("abandoned_ctr.json")
    landing.write(KEY.format("1"), concat(record))
    materialize([stg_ctr], landing, warehouse)
    touched_before = query(warehouse, "SELECT count(*) FROM stg_ctr_touched")[0][0]
    landing.write(KEY.format("2"), concat(record))
    result = materialize([stg_ctr], landing, warehouse)
    assert query(warehouse, "SELECT count(*), min(source_key) FROM stg_ctr") == [(1, KEY.format("1"))]
    assert query(warehouse, "SELECT count(*) FROM stg_ctr_touched")[0][0] == touched_before
    assert result.asset_materializations_for_node("stg_ctr")[0].metadata["new_contacts"].value == 0


def test_tie_on_last_update_keeps_the_copy_ingested_last(landing, warehouse):
    a = fixture_json("abandoned_ctr.json")
    b = dict(a, Attributes={"intent": "moved"})
    landing.write(KEY.format("1"), concat(a, b))  # same LastUpdateTimestamp, b later in the batch
    materialize([stg_ctr], landing, warehouse)
    assert json.loads(row(warehouse, a["ContactId"])["attributes"])["intent"] == "moved"


def test_malformed_object_is_quarantined_and_good_objects_fully_ingested(landing, warehouse):
    good = fixture_bytes("firehose_object_sample")
    landing.write(KEY.format("good1"), good)
    landing.write(KEY.format("bad"), b'{"ContactId": "broken", "LastUpdateTim')
    landing.write(KEY.format("good2"), concat(fixture_json("abandoned_ctr.json")))
    result = dg_result = materialize([stg_ctr], landing, warehouse)
    assert query(warehouse, "SELECT count(*) FROM stg_ctr") == [(3,)]
    assert landing.read("quarantine/" + KEY.format("bad")) == b'{"ContactId": "broken", "LastUpdateTim'
    assert b"invalid JSON" in landing.read("quarantine/" + KEY.format("bad") + ".reason.txt")
    check = dg_result.get_asset_check_evaluations()[0]
    assert check.check_name == "no_quarantined_objects" and not check.passed
    assert check.metadata["quarantined_objects"].value == 1
    assert query(warehouse, "SELECT status FROM ingest_ledger WHERE object_key = ?", [KEY.format("bad")]) == [
        ("quarantined",)]
    assert result.success


def test_reingesting_the_same_object_is_a_no_op(landing, warehouse):
    landing.write(KEY.format("a"), fixture_bytes("firehose_object_sample"))
    materialize([stg_ctr], landing, warehouse)
    before = query(warehouse, "SELECT * FROM stg_ctr ORDER BY contact_id")
    result = materialize([stg_ctr], landing, warehouse, keys=[KEY.format("a")])
    meta = result.asset_materializations_for_node("stg_ctr")[0].metadata
    assert meta["objects_already_ingested"].value == 1 and meta["records_read"].value == 0
    assert query(warehouse, "SELECT * FROM stg_ctr ORDER BY contact_id") == before
    assert query(warehouse, "SELECT count(*) FROM ingest_ledger") == [(1,)]


def test_an_updated_object_with_a_new_etag_is_upserted(landing, warehouse):
    v1 = fixture_json("abandoned_ctr.json")
    landing.write(KEY.format("a"), concat(v1))
    materialize([stg_ctr], landing, warehouse)
    v2 = dict(v1, LastUpdateTimestamp="2026-01-05T11:00:00Z", DisconnectReason="TELECOM_PROBLEM")
    other = dict(v1, ContactId="c-new")
    landing.write(KEY.format("a"), concat(v2, other))
    os.utime(landing._local(KEY.format("a")), (2_000_000_000, 2_000_000_000))  # a new ETag locally
    materialize([stg_ctr], landing, warehouse)
    assert row(warehouse, v1["ContactId"])["disconnect_reason"] == "TELECOM_PROBLEM"
    assert query(warehouse, "SELECT count(*) FROM stg_ctr") == [(2,)]
    assert query(warehouse, "SELECT count(*) FROM ingest_ledger") == [(2,)]


def test_config_restricts_the_run_to_the_requested_objects(landing, warehouse):
    landing.write(KEY.format("1"), concat(fixture_json("abandoned_ctr.json")))
    landing.write(KEY.format("2"), concat(fixture_json("ivr_only_ctr.json")))
    materialize([stg_ctr], landing, warehouse, keys=[KEY.format("2")])
    assert query(warehouse, "SELECT contact_id FROM stg_ctr") == [("1e0c5b7a-8f2d-4a3c-9b61-d4e7f0a2c815",)]


def test_touched_intervals_record_old_and_new_attribution_windows(landing, warehouse):
    v1 = fixture_json("abandoned_ctr.json")  # enqueued 09:03:20
    landing.write(KEY.format("1"), concat(v1))
    materialize([stg_ctr], landing, warehouse)
    v2 = json.loads(json.dumps(v1))
    v2["LastUpdateTimestamp"] = "2026-01-05T12:00:00Z"
    v2["Queue"]["EnqueueTimestamp"] = "2026-01-05T09:16:00Z"
    landing.write(KEY.format("2"), concat(v2))
    materialize([stg_ctr], landing, warehouse)
    batches = query(warehouse, """SELECT batch_id, list(strftime(interval_start, '%H:%M') ORDER BY interval_start)
                                  FROM stg_ctr_touched GROUP BY batch_id ORDER BY min(ingested_at)""")
    assert batches[0][1] == ["09:00"]
    assert batches[1][1] == ["09:00", "09:15"]  # the interval it left and the one it moved to
