"""Staging of external channel sessions (car-jar.md §1): per-line validation and quarantine, dedupe."""
import json
from datetime import datetime, timezone

import duckdb
import pytest

from cc_reporting.ingest.batch import ingest_objects
from cc_reporting.staging.channel_sessions import (
    CHANNELS_PREFIX,
    changed_channel_session_ids,
    ensure_channel_session_table,
    is_channel_session_key,
    merge_channel_sessions,
    parse_channel_sessions,
)

from .jar_journeys import bot_session, channel_object, jsonl


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    ensure_channel_session_table(c)
    yield c
    c.close()


def staged(con):
    cur = con.execute("SELECT * FROM stg_channel_session ORDER BY session_id")
    names = [d[0] for d in cur.description]
    return {r[0]: dict(zip(names, r)) for r in cur.fetchall()}


def load(con, key, modified_hour, *lines, batch="b"):
    obj = channel_object(key, datetime(2026, 1, 5, modified_hour, tzinfo=timezone.utc))
    parsed = parse_channel_sessions(obj, jsonl(*lines))
    return parsed, merge_channel_sessions(con, parsed.items, batch, datetime.now(timezone.utc))


def test_bad_lines_are_quarantined_with_reasons_while_good_lines_load(con, landing):
    """Lines 2-6 and 9 are bad (not JSON, a JSON array, no channel, ended before started, a time without offset,
    a Connect channel name); line 7 is blank (skipped, not bad). Lines 1 and 8 load; line 8's unknown field is
    ignored and its channel upper-cased. The file is copied to quarantine/ with every reason."""
    lines = [
        bot_session("s1"),
        "not json{",
        "[1, 2]",
        {k: v for k, v in bot_session("s4").items() if k != "channel"},
        bot_session("s5", "09:00:00", "08:59:59"),
        bot_session("s6", started_at="2026-01-05T09:00:00"),
        "",
        {**bot_session("s8", channel="nlu_bot"), "surprise": {"nested": 1}},
        bot_session("s9", channel="VOICE"),
    ]
    key = "channels/webchat/2026/01/05/part-1.jsonl"
    landing.write(key, jsonl(*lines))
    objects = [o for o in landing.list(CHANNELS_PREFIX) if is_channel_session_key(o.key)]
    report = ingest_objects(con, landing, "channels", objects, parse_channel_sessions, merge_channel_sessions, "run1")
    assert (report.objects_partial, report.records) == (1, 2)
    rows = staged(con)
    assert sorted(rows) == ["s1", "s8"]
    assert (rows["s8"]["channel"], rows["s8"]["source"], rows["s8"]["line_no"]) == ("NLU_BOT", "webchat", 8)
    reason = landing.read(f"quarantine/{key}.reason.txt").decode()
    for expected in ("6 bad line(s)", "line 2: not JSON", "line 3: not a JSON object", "line 4: missing required "
                     "field 'channel'", "line 5: ended_at is before started_at", "line 6: 'started_at' is not",
                     "line 9: channel 'VOICE' is reserved"):
        assert expected in reason
    assert landing.read(f"quarantine/{key}") == jsonl(*lines)


def test_fields_are_typed_trimmed_and_source_is_the_folder(con):
    """Times with offsets become UTC; ' ' means absent; resolved accepts true/false only; optional bad time ->
    absent. Source = the folder after channels/ (nlu), whatever the date folders say."""
    line = {"session_id": " n1 ", "channel": "NLU_BOT", "started_at": "2026-01-05T10:00:00+01:00",
            "ended_at": "2026-01-05T09:30:00.250Z", "bot_started_at": "soon", "customer_id": " ",
            "resolved": "TRUE", "handed_off_to": None, "device": "desktop", "universal_session_id": 42}
    parsed, _ = load(con, "channels/nlu/1999/12/31/x.jsonl", 10, line)
    assert parsed.error is None
    row = staged(con)["n1"]
    assert (row["source"], row["started_at"], row["ended_at"]) == \
        ("nlu", datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc),
         datetime(2026, 1, 5, 9, 30, 0, 250000, tzinfo=timezone.utc))
    assert (row["bot_started_at"], row["customer_id"], row["resolved"], row["handed_off_to"], row["device"],
            row["universal_session_id"]) == (None, None, True, None, "DESKTOP", "42")


def test_repeated_session_latest_ended_at_wins_then_later_file_then_later_line(con):
    """File A (modified 10:00): s1 ends 09:10 (line 1) and 09:05 (line 2) -> 09:10 wins although earlier;
    s2 twice with the same end -> line 4 (intent B) wins.
    File B (modified 11:00): s1 ends 09:08 -> older, loses; s2 same end, intent C -> later file wins.
    File Z (modified 09:00, an older file read last): s2 same end, intent Z -> loses to B (files by time).
    File C: s1 ends 09:20 -> wins. An identical re-send changes nothing (not even ingested_at)."""
    _, stats = load(con, "channels/webchat/a.jsonl", 10,
                    bot_session("s1", "09:00:00", "09:10:00", intent="A1"),
                    bot_session("s1", "09:00:00", "09:05:00", intent="A2"),
                    bot_session("s2", intent="A"), bot_session("s2", intent="B"))
    assert stats["new_sessions"] == 2 and stats["unchanged_or_older_session_copies"] == 2
    assert (staged(con)["s1"]["intent"], staged(con)["s2"]["intent"]) == ("A1", "B")
    load(con, "channels/webchat/b.jsonl", 11, bot_session("s1", "09:00:00", "09:08:00", intent="B1"),
         bot_session("s2", intent="C"))
    load(con, "channels/webchat/z.jsonl", 9, bot_session("s2", intent="Z"))
    assert (staged(con)["s1"]["intent"], staged(con)["s2"]["intent"]) == ("A1", "C")
    before = staged(con)["s2"]["ingested_at"]
    _, stats = load(con, "channels/webchat/c.jsonl", 12, bot_session("s1", "09:00:00", "09:20:00", intent="C1"))
    assert stats["updated_sessions"] == 1 and staged(con)["s1"]["intent"] == "C1"
    _, stats = load(con, "channels/webchat/b.jsonl", 11, bot_session("s2", intent="C"))
    assert stats == {"session_lines_read": 1, "new_sessions": 0, "updated_sessions": 0,
                     "unchanged_or_older_session_copies": 1}
    assert staged(con)["s2"]["ingested_at"] == before
    assert con.execute("SELECT count(*) FROM stg_channel_session").fetchone()[0] == 2


def test_changed_session_ids_since_a_time(con):
    """Only sessions whose content was staged after `since` are reported (the JAR refreshes just those)."""
    load(con, "channels/webchat/a.jsonl", 10, bot_session("s1"), bot_session("s2"))
    cut = datetime.now(timezone.utc)
    load(con, "channels/webchat/b.jsonl", 11, bot_session("s2", intent="NEW"), bot_session("s3"))
    assert sorted(changed_channel_session_ids(con, cut)) == ["s2", "s3"]
    assert sorted(changed_channel_session_ids(con, None)) == ["s1", "s2", "s3"]


def test_channel_key_shape():
    assert is_channel_session_key("channels/webchat/2026/01/05/a.jsonl")
    assert not is_channel_session_key("channels/a.jsonl") and not is_channel_session_key("ctr/x.jsonl")
    assert json.loads(jsonl({"a": 1})) == {"a": 1}
