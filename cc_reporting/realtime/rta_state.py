"""RTA state: the sensor cursor (positions + last published state per agent) and one tick's state arithmetic.

Pure Python, no I/O: `RtaCursor.parse/serialize`, `apply_events` (dedupe, latest state wins by (event_ts,
shard sequence)), `current_rows` (the agent-state table at `now`, with the delta against the last published
state). Buckets follow the rule table of docs/connect-inputs.md §4 (first matching line wins); a LOGIN without
snapshot and the stale limit follow the shared rules of `agent_event_record` (the same as the interval model).
"""
from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone

from cc_reporting.realtime.agent_event_record import MalformedEvent, is_stale, normalize_event, parse_event_time
from cc_reporting.realtime.agent_event_record import bucket_of as shared_bucket_of
from cc_reporting.settings import load_settings

LOGGED_OUT_AFTER_MS = 24 * 3600 * 1000    # unseen for 24 h → logged out (the stream's retention)
FORGET_AFTER_MS = 7 * 24 * 3600 * 1000    # dropped from the cursor after a week unseen

BUCKETS = ("offline", "non_productive", "on_contact", "acw", "connecting", "idle")
BUCKET_NAMES = {"offline": "Offline", "non_productive": "Non-productive", "on_contact": "On contact",
                "acw": "After contact work", "connecting": "Connecting", "idle": "Available (idle)"}
LOGGED_OUT = "LOGGED_OUT"

# agent entry in the cursor: a list, by index
(USERNAME, NAME, STATUS, STYPE, CONTACTS, SINCE, LAST, LAST_ID, LAST_SEQ, LOGOUT, PUB_CODE, PUB_ON) = range(12)


def bucket_of(status_type: str | None, contact_states, logged_out: bool) -> str:
    """The shared bucket table; an agent whose events carry no status shows as offline on the wallboard."""
    bucket = shared_bucket_of(status_type, contact_states, logged_out)
    return "offline" if bucket == "unknown" else bucket


def state_of(entry: list, now_ms: int) -> tuple[str, str, str, bool]:
    """(bucket, state_code, state_name, logged_on) of an agent entry at `now_ms`."""
    if entry[LOGOUT] or now_ms - entry[LAST] > LOGGED_OUT_AFTER_MS:
        return "offline", LOGGED_OUT, "Logged out", False
    bucket = bucket_of(entry[STYPE], entry[CONTACTS], False)
    status = entry[STATUS] or "Unknown"
    if entry[STYPE] == "ROUTABLE" and bucket != "idle":
        return bucket, f"{status}:{bucket.upper()}", f"{status} – {BUCKET_NAMES[bucket]}", True
    return bucket, status, status, True


def _ms(iso: str) -> int:
    return int(parse_event_time(iso).timestamp() * 1000)


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds")


def seq_key(seq: str) -> tuple[int, str]:
    """Kinesis sequence numbers are decimal strings (numeric order = (length, text)); spool ones fixed-width."""
    return (len(seq), seq)


@dataclass
class RtaCursor:
    positions: dict[str, str] | None = None        # None: first start (read the last 24 h)
    agents: dict[str, list] = field(default_factory=dict)
    push_pending: bool = True                      # next push is a full snapshot (first start, or a failed push)

    @classmethod
    def parse(cls, text: str | None) -> "RtaCursor":
        if not text:
            return cls()
        if text.startswith("z:"):
            text = zlib.decompress(base64.b64decode(text[2:])).decode()
        data = json.loads(text)
        return cls(positions=data.get("pos"), agents=data.get("agents", {}), push_pending=bool(data.get("pp")))

    def serialize(self) -> str:
        raw = json.dumps({"v": 1, "pos": self.positions, "agents": self.agents, "pp": self.push_pending},
                         separators=(",", ":"), ensure_ascii=False).encode()
        return "z:" + base64.b64encode(zlib.compress(raw, 1)).decode()


@dataclass
class TickStats:
    read: int = 0
    malformed: int = 0
    duplicates: int = 0
    replayed: int = 0       # older than (or the same as) the agent's last applied event: a redelivery
    applied: int = 0


def normalize_records(records, stats: TickStats) -> list[dict]:
    """Decode and normalise `(shard, seq, raw)` records; malformed ones are counted and skipped."""
    out, seen = [], set()
    for shard_id, seq, raw in records:
        stats.read += 1
        try:
            obj = json.loads(raw) if isinstance(raw, (bytes, bytearray, str)) else raw
            event = normalize_event(obj, shard_id, seq)
            event["_ms"] = _ms(event["event_ts"])
        except (MalformedEvent, ValueError, TypeError, AttributeError):
            stats.malformed += 1
            continue
        if event["event_id"] in seen:
            stats.duplicates += 1
            continue
        seen.add(event["event_id"])
        out.append(event)
    return out


def apply_events(agents: dict[str, list], events: list[dict], stats: TickStats) -> list[dict]:
    """Fold the tick's events into `agents` (in place); returns the events kept (for the state log)."""
    events.sort(key=lambda e: (e["agent_id"], e["_ms"], seq_key(e["sequence_number"])))
    kept = []
    for e in events:
        entry = agents.get(e["agent_id"])
        ms = e["_ms"]
        if entry is not None and (ms < entry[LAST] or e["event_id"] == entry[LAST_ID]):
            stats.replayed += 1
            continue
        kept.append(e)
        if entry is not None and not e["username"]:     # no snapshot (LOGIN, LOGOUT): log the name known so far
            e["username"] = entry[USERNAME]
        logout = e["event_type"] == "LOGOUT"
        name = " ".join(x for x in (e["first_name"], e["last_name"]) if x) or None
        if entry is None:
            entry = agents[e["agent_id"]] = [e["username"], name, None, None, [], ms, ms, None, None,
                                             1 if logout else 0, None, None]
            since = ms
            if e["status_start_ts"] and e["status_type"] != "ROUTABLE":
                try:
                    since = min(ms, _ms(e["status_start_ts"]))
                except MalformedEvent:
                    pass
            old_code = None
        else:
            old_code, since = state_of(entry, ms)[1], None
        if e["event_type"] == "HEART_BEAT" and not e["status_type"] and not logout:
            entry[LAST], entry[LAST_ID], entry[LAST_SEQ] = ms, e["event_id"], e["sequence_number"]
            continue                                    # a bare heartbeat only proves liveness
        entry[USERNAME] = e["username"] or entry[USERNAME]
        entry[NAME] = name or entry[NAME]
        entry[STATUS], entry[STYPE] = e["status_name"], e["status_type"]
        entry[CONTACTS] = e["contact_states"]
        if logout:                                      # logged out until the next LOGIN (or an online status)
            entry[LOGOUT] = 1
        elif e["event_type"] == "LOGIN" or e["status_type"] in ("ROUTABLE", "CUSTOM"):
            entry[LOGOUT] = 0
        entry[LAST], entry[LAST_ID], entry[LAST_SEQ] = ms, e["event_id"], e["sequence_number"]
        if since is not None:
            entry[SINCE] = since
        elif state_of(entry, ms)[1] != old_code:
            entry[SINCE] = ms
        stats.applied += 1
    return kept


def current_rows(agents: dict[str, list], now_ms: int, snapshot: bool,
                 max_gap_s: int | None = None) -> tuple[list[dict], list[dict]]:
    """(table rows for every agent, push items for agents whose published state changed — all if `snapshot`).

    Marks the new published state in `agents` and forgets agents unseen for a week. `stale`: the agent-state gap
    rule (`agent_event_record.is_stale`, limit `agent_state_max_gap_seconds` unless given), as the intervals use it.
    """
    max_gap_s = load_settings().agent_state_max_gap_seconds if max_gap_s is None else max_gap_s
    rows, delta = [], []
    for agent_id in list(agents):
        entry = agents[agent_id]
        if now_ms - entry[LAST] > FORGET_AFTER_MS:
            del agents[agent_id]
            continue
        bucket, code, state_name, logged_on = state_of(entry, now_ms)
        since = entry[SINCE]
        if not logged_on and not entry[LOGOUT]:         # unseen for 24 h: logged out since then
            since = entry[LAST] + LOGGED_OUT_AFTER_MS
        seconds = max(0, (now_ms - since) // 1000)
        rows.append({
            "agent_id": agent_id, "username": entry[USERNAME], "agent_name": entry[NAME],
            "status_name": entry[STATUS], "status_type": entry[STYPE], "state_bucket": bucket,
            "state_code": code, "state_name": state_name, "contact_states": list(entry[CONTACTS] or []),
            "seconds_in_state": int(seconds), "since_ms": since, "last_event_ms": entry[LAST],
            "stale": is_stale(bucket, (now_ms - entry[LAST]) / 1000, max_gap_s), "logged_on": logged_on,
        })
        if snapshot or (code, logged_on) != (entry[PUB_CODE], entry[PUB_ON]):
            delta.append({"user_code": entry[USERNAME], "state_code": code, "state_name": state_name,
                          "logged_on": logged_on, "seconds_in_state": int(seconds),
                          "timestamp": iso_ms(since), "snapshot": snapshot})
            entry[PUB_CODE], entry[PUB_ON] = code, logged_on
    return rows, delta
