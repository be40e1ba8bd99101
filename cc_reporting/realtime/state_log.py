"""The RTA state log: normalised agent events (`cc_reporting.realtime.agent_event_record`) as JSON Lines.

Layout (written by the RTA sensor, new files only): `<rta_dir>/state_log/<YYYY-MM-DD-HH>/<name>.jsonl`, the folder
being the UTC hour of each event's `event_ts`, one normalised event per line with the fields of `FIELDS`.

- `write_state_log(events, rta_dir, name)` writes normalised events in that layout (tests, rebuilding the log).
- `spool_events(spool_folder)` normalises the simulator's raw spool (`<spool>/<shard-id>/<YYYY-MM-DD-HH>.jsonl`);
  an event's sequence number is `"<file stem>:<line number, 9 digits, from 1>"`, as the spool defines it.
- `load_state_log(con, rta_dir, start, end, lookback)` reads the hours overlapping `[start - lookback, end)` into the
  temp table `agent_state_events`, deduplicated by `event_id`.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cc_reporting.realtime.agent_event_record import FIELDS, MalformedEvent, normalize_event

EVENTS_TABLE = "agent_state_events"
HOUR_FORMAT = "%Y-%m-%d-%H"

# The columns read from the log (explicit, so files missing a key or holding only nulls still load).
LOG_COLUMNS = {
    "event_id": "VARCHAR", "event_type": "VARCHAR", "event_ts": "VARCHAR", "agent_arn": "VARCHAR",
    "agent_id": "VARCHAR", "username": "VARCHAR", "first_name": "VARCHAR", "last_name": "VARCHAR",
    "status_name": "VARCHAR", "status_type": "VARCHAR", "status_start_ts": "VARCHAR",
    "contact_states": "VARCHAR[]", "contact_ids": "VARCHAR[]", "routing_profile_id": "VARCHAR",
    "inbound_queue_ids": "VARCHAR[]", "shard_id": "VARCHAR", "sequence_number": "VARCHAR",
}


def utc_naive(t: datetime) -> datetime:
    """A naive UTC datetime (the project's TIMESTAMP convention); naive input is taken as UTC already."""
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def _hour_of(event_ts: str) -> str:
    parsed = datetime.fromisoformat(event_ts.replace("Z", "+00:00"))
    if parsed.tzinfo:
        parsed = parsed.astimezone(timezone.utc)
    return parsed.strftime(HOUR_FORMAT)


def write_state_log(events: Iterable[dict], rta_dir: str | Path, name: str = "rebuild") -> list[Path]:
    """Write normalised events to `<rta_dir>/state_log/<hour of event_ts>/<name>.jsonl`; returns the files written.

    Lines keep the input order inside each hour. New files only, as the sensor does: an existing file of that name
    raises FileExistsError (choose another `name`).
    """
    groups: dict[str, list[str]] = {}
    for event in events:
        line = json.dumps({k: event.get(k) for k in FIELDS}, ensure_ascii=False, separators=(",", ":"))
        groups.setdefault(_hour_of(event["event_ts"]), []).append(line)
    root = Path(rta_dir) / "state_log"
    written = []
    for hour, lines in sorted(groups.items()):
        path = root / hour / f"{name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        written.append(path)
    return written


def spool_events(spool_folder: str | Path, malformed: list | None = None) -> Iterator[dict]:
    """Normalised events of the simulator's spool, shard by shard, file by file, line by line.

    Malformed lines are skipped (appended to `malformed` as (file, line number, reason) when a list is given).
    """
    for shard_dir in sorted(p for p in Path(spool_folder).iterdir() if p.is_dir()):
        for path in sorted(shard_dir.glob("*.jsonl")):
            with open(path, encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        yield normalize_event(json.loads(line), shard_dir.name, f"{path.stem}:{number:09d}")
                    except (MalformedEvent, ValueError) as exc:
                        if malformed is not None:
                            malformed.append((str(path), number, str(exc)))


def log_files(rta_dir: str | Path, start: datetime, end: datetime) -> list[Path]:
    """The log files of the UTC hours overlapping [start, end)."""
    start, end = utc_naive(start), utc_naive(end)
    hour = start.replace(minute=0, second=0, microsecond=0)
    root = Path(rta_dir) / "state_log"
    files: list[Path] = []
    while hour < end:
        folder = root / hour.strftime(HOUR_FORMAT)
        if folder.is_dir():
            files.extend(sorted(folder.glob("*.jsonl")))
        hour += timedelta(hours=1)
    return files


def load_state_log(con, rta_dir: str | Path, start: datetime, end: datetime,
                   lookback: timedelta = timedelta(minutes=15), lookahead: timedelta = timedelta(0)) -> int:
    """Load the events with `event_ts` in [start - lookback, end + lookahead) into the temp table
    `agent_state_events` (events after `end` only name agents whose LOGIN carried no snapshot).

    Reads only the hour folders overlapping that range. Columns: those of the log, with `event_ts` a TIMESTAMP
    (naive UTC, millisecond precision; the log's offset is honoured), one row per `event_id` (Kinesis retries
    duplicate: the first by (event_ts, shard_id, sequence_number) is kept). Consumers order an agent's events by
    (event_ts, sequence_number). The table is replaced on every call; returns its row count.
    """
    lo, hi = utc_naive(start) - lookback, utc_naive(end) + lookahead
    files = [str(p) for p in log_files(rta_dir, lo, hi) if p.stat().st_size > 0]
    cols = ", ".join(f"{k} {v}" for k, v in LOG_COLUMNS.items() if k != "event_ts")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {EVENTS_TABLE} (event_ts TIMESTAMP, {cols})")
    if not files:
        return 0
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in LOG_COLUMNS.items()) + "}"
    names = ", ".join(k for k in LOG_COLUMNS if k != "event_ts")
    con.execute(f"""
        INSERT INTO {EVENTS_TABLE}
        SELECT event_ts, {names} FROM (
            SELECT * REPLACE (make_timestamp(epoch_us(CAST(event_ts AS TIMESTAMPTZ))) AS event_ts)
            FROM read_json(?, format = 'newline_delimited', columns = {columns})
            WHERE event_id IS NOT NULL AND agent_id IS NOT NULL AND event_ts IS NOT NULL)
        WHERE event_ts >= ? AND event_ts < ?
        QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY event_ts, shard_id, sequence_number) = 1
        ORDER BY agent_id, event_ts, sequence_number""", [files, lo, hi])
    return con.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()[0]
