"""`stg_channel_session`: sessions of channels outside Connect (web chatbot, NLU bot), docs/connect-inputs.md §5.

Landed as `channels/<source>/YYYY/MM/DD/*.jsonl`, one JSON object per line. Lines are validated one by one:
a bad line is reported (the ingestion loop quarantines the file with the reasons) while the good lines of the
same file still load. The folder date is not trusted: only the fields are.

Per `session_id` the copy with the latest `ended_at` wins, then the later file (LastModified, key), then the
later line. `ingested_at` changes only when a row's content changes, so the JAR refresh can pick up exactly
the sessions that changed since its last run.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from datetime import datetime, timezone

import pyarrow as pa

from cc_reporting.ingest.batch import Parsed
from cc_reporting.ingest.bounded import BodyTooLarge, bounded_body, current_bounds, record_too_large
from cc_reporting.resources.landing import LandingObject

CHANNELS_PREFIX = "channels/"

STG_CHANNEL_SESSION_DDL = """
CREATE TABLE IF NOT EXISTS stg_channel_session (
    session_id VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,            -- the folder after channels/
    universal_session_id VARCHAR, customer_id VARCHAR,
    channel VARCHAR NOT NULL, device VARCHAR,
    started_at TIMESTAMPTZ NOT NULL, ended_at TIMESTAMPTZ NOT NULL, bot_started_at TIMESTAMPTZ,
    intent_category VARCHAR, intent VARCHAR, resolved BOOLEAN, handed_off_to VARCHAR, exit_reason VARCHAR,
    record_hash VARCHAR NOT NULL,       -- md5 of the typed content: an identical re-send changes nothing
    source_key VARCHAR NOT NULL, source_last_modified TIMESTAMPTZ NOT NULL, line_no INTEGER NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL    -- when this content was staged: the JAR's change marker
)
"""

REQUIRED = ("session_id", "channel", "started_at", "ended_at")
# Channel names Amazon Connect rows use: an external session claiming one would corrupt IVR and channel KPIs.
RESERVED_CHANNELS = {"IVR", "VOICE", "CHAT", "TASK", "EMAIL", "EXTERNAL"}
TEXT_FIELDS = ("universal_session_id", "customer_id", "device", "intent_category", "intent", "handed_off_to",
               "exit_reason")
UPPER_FIELDS = ("channel", "device", "handed_off_to")  # tokens: upper-case so joins with Connect values match
CONTENT = ("session_id", "source", "universal_session_id", "customer_id", "channel", "device", "started_at",
           "ended_at", "bot_started_at", "intent_category", "intent", "resolved", "handed_off_to", "exit_reason")

_TS = pa.timestamp("us", tz="UTC")
_SCHEMA = pa.schema(
    [("session_id", pa.string()), ("source", pa.string()), ("universal_session_id", pa.string()),
     ("customer_id", pa.string()), ("channel", pa.string()), ("device", pa.string()),
     ("started_at", _TS), ("ended_at", _TS), ("bot_started_at", _TS),
     ("intent_category", pa.string()), ("intent", pa.string()), ("resolved", pa.bool_()),
     ("handed_off_to", pa.string()), ("exit_reason", pa.string()), ("record_hash", pa.string()),
     ("source_key", pa.string()), ("source_last_modified", _TS), ("line_no", pa.int32())]
)


def ensure_channel_session_table(con) -> None:
    con.execute(STG_CHANNEL_SESSION_DDL)


def is_channel_session_key(key: str) -> bool:
    parts = key.split("/")
    return key.startswith(CHANNELS_PREFIX) and len(parts) >= 3 and parts[1] != "" and key.endswith(".jsonl")


def source_of(key: str) -> str:
    return key[len(CHANNELS_PREFIX):].split("/", 1)[0]


class BadLine(ValueError):
    pass


def _text(value) -> str | None:
    """Trimmed text; empty means absent. Numbers are accepted as their text (ids are sometimes numeric)."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def _timestamp(record: dict, name: str, required: bool) -> datetime | None:
    value = _text(record.get(name))
    if value is None:
        if required:
            raise BadLine(f"missing required field '{name}'")
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:  # without an offset the instant is unknown
        if required:
            raise BadLine(f"'{name}' is not an ISO-8601 time with Z or an offset: {value[:40]!r}")
        return None  # an optional time we cannot place is treated as absent
    return parsed.astimezone(timezone.utc)


def _boolean(value) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _text(value)
    return {"true": True, "false": False}.get(text.lower()) if text else None


def parse_session_line(record, source: str) -> dict:
    """One typed session, or BadLine with the reason."""
    if not isinstance(record, dict):
        raise BadLine(f"not a JSON object ({type(record).__name__})")
    for name in ("session_id", "channel"):
        if _text(record.get(name)) is None:
            raise BadLine(f"missing required field '{name}'")
    item = {name: _text(record.get(name)) for name in TEXT_FIELDS}
    item["session_id"] = _text(record["session_id"])
    item["channel"] = _text(record["channel"])
    for name in UPPER_FIELDS:
        item[name] = item[name].upper() if item[name] else None
    if item["channel"] in RESERVED_CHANNELS:
        raise BadLine(f"channel {item['channel']!r} is reserved for Amazon Connect rows")
    item["started_at"] = _timestamp(record, "started_at", True)
    item["ended_at"] = _timestamp(record, "ended_at", True)
    if item["ended_at"] < item["started_at"]:
        raise BadLine("ended_at is before started_at")
    item["bot_started_at"] = _timestamp(record, "bot_started_at", False)
    item["resolved"] = _boolean(record.get("resolved"))
    item["source"] = source
    canonical = json.dumps([item[c].isoformat() if isinstance(item[c], datetime) else item[c] for c in CONTENT])
    item["record_hash"] = hashlib.md5(canonical.encode()).hexdigest()
    return item


def parse_channel_sessions(obj: LandingObject, data: bytes) -> Parsed:
    """Every good line of a `.jsonl` object; bad lines are listed in `error` (the file then goes to quarantine)."""
    source = source_of(obj.key)
    bounds = current_bounds()
    try:
        body = bounded_body(data, bounds.max_decompressed_bytes)
    except BodyTooLarge as exc:
        return Parsed([], str(exc))
    except (OSError, EOFError, zlib.error) as exc:
        return Parsed([], f"cannot decode gzip body: {type(exc).__name__}: {exc}")
    items, bad = [], []
    for line_no, raw in enumerate(body.split(b"\n"), start=1):
        if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue  # blank lines (a trailing newline) are not sessions
        size = len(raw) - raw.endswith(b"\r")  # the line without its line break, as for CSV records
        if size > bounds.max_record_bytes:  # checked before json.loads: its objects take many times the bytes
            bad.append(f"line {line_no}: {record_too_large(size, bounds.max_record_bytes)}")
            continue
        try:
            item = parse_session_line(json.loads(raw.decode("utf-8")), source)
        except UnicodeDecodeError:
            bad.append(f"line {line_no}: not UTF-8")
            continue
        except json.JSONDecodeError as exc:
            bad.append(f"line {line_no}: not JSON ({exc.msg})")
            continue
        except BadLine as exc:
            bad.append(f"line {line_no}: {exc}")
            continue
        except RecursionError:
            bad.append(f"line {line_no}: not JSON (nested too deeply)")
            continue
        except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 has no UTC instant
            bad.append(f"line {line_no}: time out of range ({exc})")
            continue
        item.update(source_key=obj.key, source_last_modified=obj.last_modified, line_no=line_no)
        items.append(item)
    error = f"{len(bad)} bad line(s): " + "; ".join(bad[:10]) + (" ..." if len(bad) > 10 else "") if bad else None
    return Parsed(items, error)


def merge_channel_sessions(con, items: list[dict], batch_id: str, ingested_at) -> dict:
    """Upsert parsed sessions into stg_channel_session inside the caller's transaction."""
    ensure_channel_session_table(con)
    batch = pa.Table.from_pylist([{c: it[c] for c in _SCHEMA.names} for it in items], schema=_SCHEMA)
    con.register("_channel_batch_arrow", batch)
    # Within the batch: latest ended_at, then later file, then later line.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _channel_batch AS
           SELECT *, ?::TIMESTAMPTZ AS ingested_at FROM _channel_batch_arrow
           QUALIFY row_number() OVER (PARTITION BY session_id ORDER BY ended_at DESC, source_last_modified DESC,
                                                   source_key DESC, line_no DESC) = 1""",
        [ingested_at],
    )
    con.unregister("_channel_batch_arrow")
    # Against what is staged: the same order decides; an identical copy changes nothing (ingested_at stays).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _channel_winners AS
           SELECT b.* FROM _channel_batch b LEFT JOIN stg_channel_session s USING (session_id)
           WHERE s.session_id IS NULL
              OR ((b.ended_at, b.source_last_modified, b.source_key, b.line_no)
                  > (s.ended_at, s.source_last_modified, s.source_key, s.line_no)
                  AND b.record_hash <> s.record_hash)"""
    )
    replaced = con.execute(
        "SELECT count(*) FROM stg_channel_session WHERE session_id IN (SELECT session_id FROM _channel_winners)"
    ).fetchone()[0]
    con.execute("DELETE FROM stg_channel_session WHERE session_id IN (SELECT session_id FROM _channel_winners)")
    con.execute("INSERT INTO stg_channel_session BY NAME SELECT * FROM _channel_winners")
    kept = con.execute("SELECT count(*) FROM _channel_winners").fetchone()[0]
    return {
        "session_lines_read": len(items),
        "new_sessions": kept - replaced,
        "updated_sessions": replaced,
        "unchanged_or_older_session_copies": len(items) - kept,
    }


def changed_channel_session_ids(con, since) -> list[str]:
    """Sessions whose staged content changed after `since` (None: all), for an incremental JAR refresh."""
    ensure_channel_session_table(con)
    if since is None:
        return [r[0] for r in con.execute("SELECT session_id FROM stg_channel_session").fetchall()]
    return [r[0] for r in con.execute(
        "SELECT session_id FROM stg_channel_session WHERE ingested_at > ?", [since]).fetchall()]
