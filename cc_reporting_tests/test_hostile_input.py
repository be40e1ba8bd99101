"""Hostile input: bad landing data never crashes staging and never loses a good record.

- a hypothesis property over CTR Firehose bodies (good records, then garbage of every kind);
- the same property through `stg_ctr` (every good record staged, every bad object quarantined with a reason);
- a generated corpus of >10,000 malformed objects across the four sources, mixed with good ones, staged through
  the real assets in two batches;
- one 50 MB CTR object with garbage at its end.

Kinds that once hit bugs (hostile_corpus.KNOWN_BUGS: invalid UTF-8 after good records, deep nesting, timestamps
Python reads but DuckDB does not, numeric overflow, oversized CSV fields, out-of-range offsets) are tested on their
own below as regressions.
"""
from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import dagster as dg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cc_reporting.ingest.firehose import decode_ctr_object
from cc_reporting.resources.landing import LandingZone
from cc_reporting.resources.warehouse import Warehouse
from cc_reporting.staging.assets import (
    staging_assets,
    stg_agent_report,
    stg_channel_session,
    stg_ctr,
)

from . import hostile_corpus as hc
from .conftest import query

ASSET_OF = {"ctr": stg_ctr, "agent_report": stg_agent_report, "channel_session": stg_channel_session}

# -- strategies --------------------------------------------------------------------------------------------------
_nasty_text = st.lists(
    st.one_of(st.sampled_from(["}{", "{", "}", '"', "\\", "\x00", "\ufeff", "\n", "\u2028", "é", "𝄞"]),
              st.characters(blacklist_categories=("Cs",))),
    max_size=12).map("".join)


@st.composite
def good_record(draw):
    rng = random.Random(draw(st.integers(0, 2**32)))
    record = hc.good_ctr(f"g-{draw(st.uuids()).hex}", rng, attributes=draw(st.integers(0, 5)))
    record["Attributes"].update(draw(st.dictionaries(_nasty_text, _nasty_text, max_size=4)))
    record["DisconnectReason"] = draw(_nasty_text)
    return hc._dumps(record) if draw(st.booleans()) else json.dumps(record)  # compact or spaced, ascii or not


def _garbage(kinds):
    return st.one_of(
        st.tuples(st.sampled_from(kinds), st.integers(0, 2**32)).map(
            lambda kr: (hc.ctr_garbage(kr[0], random.Random(kr[1]), "h"), True)),
        # arbitrary (valid UTF-8) text: it may even be harmless, so only "never raises / keeps the prefix" holds
        _nasty_text.map(lambda t: (t.encode(), False)),
    )


@st.composite
def ctr_body(draw, kinds=hc.CTR_GARBAGE):
    good = draw(st.lists(good_record(), max_size=4))
    separator = draw(st.sampled_from(["", "\n", " \r\n"]))
    body = ("\ufeff" if draw(st.booleans()) else "") + separator.join(good)
    garbage, surely_bad = draw(_garbage(kinds))
    return body.encode() + draw(st.sampled_from([b"", b"\n"])) + garbage, good, surely_bad


def _check_decoded(body, good, surely_bad):
    decoded = decode_ctr_object(body)
    assert decoded.records[: len(good)] == good, "a good record before the garbage was lost or altered"
    if surely_bad:
        assert decoded.error, "garbage was not reported"


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ctr_body())
def test_decode_ctr_object_keeps_every_good_record_before_garbage(case):
    _check_decoded(*case)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.lists(good_record(), max_size=2))
def test_decode_ctr_object_never_raises_on_arbitrary_bytes(garbage, good):
    decode_ctr_object(garbage)
    decode_ctr_object("".join(good).encode() + garbage)
    decode_ctr_object(garbage + "".join(good).encode())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.generate])  # no shrinking: the failure is known, keep the run short
@given(ctr_body(kinds=("ctr_invalid_utf8", "ctr_deep_nesting")))
def test_decode_ctr_object_survives_invalid_utf8_and_deep_nesting(case):
    body, good, _ = case
    _check_decoded(*case)  # never raises, keeps the good prefix


# -- staging helpers -------------------------------------------------------------------------------------------
def _stage(base: Path, items: list[hc.Item], assets=staging_assets, landing: LandingZone | None = None):
    landing = landing or LandingZone(uri=str(base / "landing"))
    for item in items:
        landing.write(item.key, item.data)
    warehouse = Warehouse(database=str(base / "warehouse" / "cc.duckdb"))
    result = dg.materialize(assets, resources={"landing": landing, "warehouse": warehouse}, raise_on_error=False)
    return result, landing, warehouse


def _ledger(warehouse) -> dict[str, tuple[str, str | None]]:
    return {k: (s, e) for k, s, e in query(warehouse, "SELECT object_key, status, error FROM ingest_ledger")}


def _staged_ids(warehouse) -> dict[str, set[str]]:
    def ids(sql):
        try:
            return {r[0] for r in query(warehouse, sql)}
        except Exception:  # table not created (a source without objects)
            return set()
    return {"ctr": ids("SELECT contact_id FROM stg_ctr"),
            "agent_report": ids("SELECT DISTINCT agent_username FROM stg_agent_report"),
            "channel_session": ids("SELECT session_id FROM stg_channel_session"),
            "crm": ids('SELECT "Cust_ID" FROM stg_crm_customer')}


def _check_items(base: Path, warehouse, items: list[hc.Item], crm_master: hc.Item | None = None) -> dict:
    """Every good record staged; every bad object quarantined (copy + non-empty reason); clean ones not."""
    ledger, staged = _ledger(warehouse), _staged_ids(warehouse)
    counts = {"inputs": len(items), "malformed": 0, "quarantined": 0, "good_expected": 0, "good_kept": 0}
    lost, unquarantined, wrongly = [], [], []
    for item in items:
        status, error = ledger[item.key]
        copy = base / "landing" / "quarantine" / item.key
        reason = base / "landing" / "quarantine" / (item.key + ".reason.txt")
        if item.bad:
            counts["malformed"] += 1
            if status in ("partial", "quarantined") and error and copy.read_bytes() == item.data \
                    and reason.read_text().strip():
                counts["quarantined"] += 1
            else:
                unquarantined.append((item.kind, item.key, status))
        elif status != "ingested" or copy.exists():
            wrongly.append((item.kind, item.key, status, error))
        if item.source == "crm" and item is not crm_master:
            continue  # a full-dump source: only the newest extract's customers are the master
        counts["good_expected"] += len(item.good)
        kept = [g for g in item.good if g in staged[item.source]]
        counts["good_kept"] += len(kept)
        if len(kept) != len(item.good):
            lost.append((item.kind, item.key, sorted(set(item.good) - set(kept))[:3]))
    assert not lost, f"good records lost: {lost[:10]}"
    assert not unquarantined, f"bad objects not quarantined with a reason: {unquarantined[:10]}"
    assert not wrongly, f"clean objects quarantined: {wrongly[:10]}"
    return counts


# -- hypothesis through stg_ctr ----------------------------------------------------------------------------------
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from((None,) + hc.CTR_GARBAGE + ("bom_start",)), st.integers(0, 2**32)),
                min_size=1, max_size=8))
def test_stg_ctr_keeps_every_good_record_and_quarantines_every_bad_object(objects):
    base = Path(tempfile.mkdtemp(prefix="hostile-ctr-"))
    try:
        items = [hc.ctr_object(random.Random(seed), f"p{n}", kind) for n, (kind, seed) in enumerate(objects)]
        result, _, warehouse = _stage(base, items, [stg_ctr])
        assert result.success
        _check_items(base, warehouse, items)
        checks = result.get_asset_check_evaluations()
        assert [c.passed for c in checks] == [not any(i.bad for i in items)]
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- the corpus --------------------------------------------------------------------------------------------------
def test_hostile_corpus_of_10000_malformed_objects_across_sources(tmp_path):
    began = time.perf_counter()
    batches = hc.build_corpus(seed=20260105, batches=2)
    everything = [item for batch in batches for item in batch]
    malformed = sum(item.malformed for item in everything)  # bad objects, bad lines for JSONL
    bad_objects = sum(item.bad for item in everything)
    assert malformed >= 10_000
    assert not {item.kind for item in everything} & set(hc.KNOWN_BUGS)
    landing = LandingZone(uri=str(tmp_path / "landing"))
    for item in everything:
        landing.write(item.key, item.data)
    warehouse = Warehouse(database=str(tmp_path / "warehouse" / "cc.duckdb"))
    asset_names = {"ctr": "stg_ctr", "agent_report": "stg_agent_report", "channel_session": "stg_channel_session",
                   "crm": "stg_crm_customer"}
    for batch in batches:  # each batch is a run of the four assets over its objects (as the sensors request)
        keys = {name: [i.key for i in batch if i.source == source] for source, name in asset_names.items()}
        assert all(keys.values())  # an empty list would mean "every object"
        result = dg.materialize(staging_assets, resources={"landing": landing, "warehouse": warehouse},
                                raise_on_error=False, run_config={
                                    "ops": {name: {"config": {"object_keys": k}} for name, k in keys.items()},
                                    "loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        for check in result.get_asset_check_evaluations():
            assert check.metadata["quarantined_objects"].value > 0
    master = batches[-1][-1]
    assert master.source == "crm" and not master.bad
    counts = _check_items(tmp_path, warehouse, everything, crm_master=master)
    assert _staged_ids(warehouse)["crm"] == set(master.good)
    by_source = {s: sum(i.malformed for i in everything if i.source == s) for s in hc.PLAN}
    print(f"\nhostile corpus: {counts['inputs']:,} objects tried holding {malformed:,} malformed inputs "
          f"({by_source}; channel = bad lines), {bad_objects:,} malformed objects, "
          f"{counts['quarantined']:,} quarantined with a reason, 0 crashes, good records kept "
          f"{counts['good_kept']:,}/{counts['good_expected']:,}, in {time.perf_counter() - began:.1f} s")
    assert counts["quarantined"] == bad_objects and counts["good_kept"] == counts["good_expected"]


def test_one_50_mb_ctr_object_with_garbage_at_the_end(tmp_path, landing, warehouse):
    body, ids = hc.big_ctr_object(50 * 1024 * 1024, random.Random(50))
    assert len(body) >= 50 * 1024 * 1024
    landing.write("ctr/2026/01/05/09/big-object", body)
    result = dg.materialize([stg_ctr], resources={"landing": landing, "warehouse": warehouse})
    assert result.success
    assert query(warehouse, "SELECT count(*) FROM stg_ctr")[0][0] == len(ids)
    assert query(warehouse, "SELECT count(*) FROM stg_ctr WHERE NOT starts_with(contact_id, 'big-')") == [(0,)]
    status, error = _ledger(warehouse)["ctr/2026/01/05/09/big-object"]
    assert status == "partial" and error.startswith(f"invalid JSON after {len(ids)} record(s)")
    reason = (tmp_path / "landing" / "quarantine" / "ctr/2026/01/05/09/big-object.reason.txt").read_text()
    assert reason == error
    print(f"\n50 MB object: {len(body):,} bytes, {len(ids):,} good records staged, garbage quarantined")


# -- known bugs, one by one --------------------------------------------------------------------------------------
def _bug_item(kind: str) -> hc.Item:
    rng = random.Random(7)
    if kind.startswith("ctr_"):
        item = hc.ctr_object(rng, "bug", kind)
        extra = hc._dumps(hc.good_ctr("ctr-bug-first", rng)).encode()
        item.data, item.good = extra + item.data, ["ctr-bug-first", *item.good]  # a good record before garbage
        return item
    if kind.startswith("report_"):
        return hc.report_object(rng, "bug", kind)
    return hc.channel_object(rng, "bug", kind)


@pytest.mark.parametrize("kind", [
    pytest.param(kind, id=kind) for kind in hc.KNOWN_BUGS])
def test_known_bug_kinds_stage_good_records_and_quarantine(tmp_path, kind):
    item = _bug_item(kind)
    assert item.good
    result, _, warehouse = _stage(tmp_path, [item], [ASSET_OF[item.source]])
    assert result.success, "the staging run failed"
    _check_items(tmp_path, warehouse, [item])
