"""The real-time-adherence (RTA) sensor: agent event stream → current agent states, every 5 seconds.

Separate from the landing sensors and never touching DuckDB. A tick (`run_tick`):
1. reads at most `max_records` records after the cursor's per-shard positions (first start: the last 24 h);
2. normalises them (`agent_event_record.normalize_event`; malformed → counted, skipped), dedupes by EventId,
   drops redeliveries older than an agent's last applied event, and keeps the latest state per agent by
   (event_ts, shard sequence);
3. publishes: `<rta_dir>/agent_state.parquet` + `agent_state.json` + `wallboard.html` (atomic replace), the
   tick's events as new files under `<rta_dir>/state_log/<YYYY-MM-DD-HH>/`, an `AssetObservation` of
   `rta_agent_state` and one of the raw stream `raw_agent_events` (records read, newest event, lag), and (when
   `CC_RTA_PUSH_URL` is set) a JSON POST of the delta (a full snapshot on first
   start or after a failed push);
4. returns the new cursor: positions + last published state per agent (zlib-compressed JSON).
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from cc_reporting.ingest.automation import starts_by_itself
from cc_reporting.ingest.raw_sources import raw_agent_events, stream_observation
from cc_reporting.realtime.agent_events import open_source
from cc_reporting.realtime.rta_publish import write_state_json, write_state_log, write_state_table, write_wallboard
from cc_reporting.realtime.rta_push import PushFailed, push_states
from cc_reporting.realtime.rta_state import BUCKETS, RtaCursor, TickStats, apply_events, current_rows, normalize_records
from cc_reporting.settings import load_settings

log = logging.getLogger(__name__)

RTA_ASSET = "rta_agent_state"

rta_agent_state_spec = dg.AssetSpec(
    RTA_ASSET, group_name="rta", deps=[raw_agent_events],
    description="Current state of every agent from the Amazon Connect agent event stream (RTA): "
                "<rta_dir>/agent_state.parquet, replaced every tick by rta_sensor; state log under "
                "<rta_dir>/state_log/; observed (not materialised) by rta_sensor.")


@dataclass
class TickOutcome:
    cursor: str
    stats: TickStats
    metadata: dict = field(default_factory=dict)
    delta: list[dict] = field(default_factory=list)
    log_files: list[Path] = field(default_factory=list)
    pushed: bool | None = None       # None: push not configured
    newest_event_ms: int | None = None  # the newest event time read this tick (None: nothing readable)


def _log_name(positions: dict | None, source_name: str) -> str:
    text = json.dumps([source_name, positions], sort_keys=True)
    return "tick-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def run_tick(cursor_text: str | None, source, rta_dir: str | Path, now_ms: int | None = None,
             max_records: int | None = None, push_url: str | None = None,
             push_key: str | None = None, push_backoff: float = 0.5) -> TickOutcome:
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    rta_dir = Path(rta_dir)
    cursor = RtaCursor.parse(cursor_text)
    stats = TickStats()
    records, positions = source.read(cursor.positions, max_records or load_settings().rta_max_records)
    events = normalize_records(records, stats)
    kept = apply_events(cursor.agents, events, stats)
    log_files = write_state_log(rta_dir, kept, _log_name(cursor.positions, source.describe())) if kept else []
    snapshot = bool(push_url) and cursor.push_pending
    rows, delta = current_rows(cursor.agents, now_ms, snapshot)
    write_state_table(rta_dir, rows, now_ms)
    write_state_json(rta_dir, rows, now_ms)
    write_wallboard(rta_dir, rows, now_ms)
    pushed = None
    if push_url:
        pushed = True
        if delta:
            try:
                push_states(push_url, delta, snapshot, key=push_key, backoff=push_backoff)
            except PushFailed as exc:
                log.warning("%s; the next tick pushes a full snapshot", exc)
                pushed = False
        cursor.push_pending = not pushed
    cursor.positions = positions
    counts = Counter(r["state_bucket"] for r in rows)
    metadata = {
        **{f"agents_{b}": counts.get(b, 0) for b in BUCKETS},
        "agents": len(rows), "agents_logged_on": sum(r["logged_on"] for r in rows),
        "agents_stale": sum(r["stale"] for r in rows), "records_read": stats.read,
        "malformed": stats.malformed, "duplicates": stats.duplicates, "replayed": stats.replayed,
        "events_logged": len(kept), "delta_size": len(delta),
    }
    if pushed is not None:
        metadata["pushed"] = pushed
    newest = max((e["_ms"] for e in events), default=None)
    return TickOutcome(cursor.serialize(), stats, metadata, delta, log_files, pushed, newest)


_SOURCES: dict[tuple, object] = {}


def _source(spec: str, endpoint: str | None):
    """One source per process and configuration (keeps Kinesis iterators and spool offsets between ticks)."""
    key = (spec, endpoint)
    if key not in _SOURCES:
        _SOURCES[key] = open_source(spec, endpoint)
    return _SOURCES[key]


@dg.sensor(name="rta_sensor", minimum_interval_seconds=5, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Agent event stream (raw_agent_events) → current agent states (RTA), every 5 s: Parquet + "
                       "wallboard under rta_dir, state log, observations of rta_agent_state and of "
                       "raw_agent_events (records read, newest event, lag), optional push to CC_RTA_PUSH_URL. "
                       "Never opens the warehouse. " + starts_by_itself("sensor", "rta_sensor"))
def rta_sensor(context: dg.SensorEvaluationContext):
    settings = load_settings()
    source = _source(settings.agent_events, settings.aws_endpoint_url)
    now_ms = int(time.time() * 1000)
    outcome = run_tick(context.cursor, source, settings.rta_dir, now_ms=now_ms, push_url=settings.rta_push_url,
                       push_key=dg.EnvVar("CC_RTA_PUSH_KEY").get_value())
    if not outcome.stats.read and not outcome.delta:
        # An idle stream is not observed every 5 s: its last observation's time and lag say how long it has been.
        return dg.SensorResult(cursor=outcome.cursor, skip_reason="no new agent events, no state change")
    stream = stream_observation(source.describe(), outcome.stats.read, outcome.newest_event_ms, now_ms)
    return dg.SensorResult(
        cursor=outcome.cursor,
        asset_events=[dg.AssetObservation(asset_key=RTA_ASSET, metadata=outcome.metadata), stream],
    )


rta_sensors = [rta_sensor]
