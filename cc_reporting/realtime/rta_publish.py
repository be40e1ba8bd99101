"""RTA outputs under `rta_dir`, every file written to a temp name and renamed (readers never see half a file).

- `agent_state.parquet` and `agent_state.json`: the current agent-state table (replaced atomically);
- `wallboard.html`: re-rendered each tick with the table inlined and `<meta http-equiv="refresh" content="5">`
  (browsers block fetch() of file:// JSON, so the page carries its data);
- `state_log/<YYYY-MM-DD-HH of event_ts>/<name>.jsonl`: the tick's normalised events, one per line, always in
  NEW files. The name is derived from the tick's starting positions, so a tick re-run after a crash (before
  Dagster stored the cursor) rewrites the same files instead of duplicating events.
"""
from __future__ import annotations

import html
import json
import os
import tempfile
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cc_reporting.realtime.agent_event_record import FIELDS
from cc_reporting.realtime.rta_state import BUCKET_NAMES, BUCKETS

SCHEMA = pa.schema([
    ("agent_id", pa.string()), ("username", pa.string()), ("agent_name", pa.string()),
    ("status_name", pa.string()), ("status_type", pa.string()), ("state_bucket", pa.string()),
    ("state_code", pa.string()), ("state_name", pa.string()), ("contact_states", pa.list_(pa.string())),
    ("seconds_in_state", pa.int64()), ("since", pa.timestamp("ms", tz="UTC")),
    ("last_event_ts", pa.timestamp("ms", tz="UTC")), ("stale", pa.bool_()), ("logged_on", pa.bool_()),
    ("as_of", pa.timestamp("ms", tz="UTC")),
])
_TEMPLATE = Path(__file__).with_name("wallboard.html")


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_state_table(rta_dir: Path, rows: list[dict], now_ms: int) -> None:
    cols = {name: [] for name in SCHEMA.names}
    for r in rows:
        for name in ("agent_id", "username", "agent_name", "status_name", "status_type", "state_bucket",
                     "state_code", "state_name", "contact_states", "seconds_in_state", "stale", "logged_on"):
            cols[name].append(r[name])
        cols["since"].append(r["since_ms"])
        cols["last_event_ts"].append(r["last_event_ms"])
        cols["as_of"].append(now_ms)
    table = pa.table([pa.array(cols[f.name], type=f.type) for f in SCHEMA], schema=SCHEMA)
    _atomic_write(rta_dir / "agent_state.parquet", lambda h: pq.write_table(table, h, compression="zstd"))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="seconds")


def write_state_json(rta_dir: Path, rows: list[dict], now_ms: int) -> None:
    doc = {"as_of": _iso(now_ms), "agents": [
        {**{k: v for k, v in r.items() if k not in ("since_ms", "last_event_ms")},
         "since": _iso(r["since_ms"]), "last_event_ts": _iso(r["last_event_ms"])} for r in rows]}
    data = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    _atomic_write(rta_dir / "agent_state.json", lambda h: h.write(data))


def _fmt_seconds(s: int) -> str:
    h, rem = divmod(int(s), 3600)
    return f"{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{rem // 60}:{rem % 60:02d}"


def write_wallboard(rta_dir: Path, rows: list[dict], now_ms: int) -> None:
    counts = Counter(r["state_bucket"] for r in rows if r["logged_on"])
    tiles = "".join(f'<div class="tile {b}"><b>{counts.get(b, 0)}</b>{html.escape(BUCKET_NAMES[b])}</div>'
                    for b in BUCKETS if b != "offline")
    shown = sorted((r for r in rows if r["logged_on"]), key=lambda r: (BUCKETS.index(r["state_bucket"]),
                                                                       -r["seconds_in_state"]))
    esc = lambda v: html.escape(str(v)) if v is not None else ""  # noqa: E731
    body = "".join(
        f'<tr class="{r["state_bucket"]}{" stale" if r["stale"] else ""}"><td>{esc(r["agent_name"])}</td>'
        f'<td>{esc(r["username"])}</td><td>{esc(r["state_name"])}</td><td>{esc(", ".join(r["contact_states"]))}</td>'
        f'<td class="n">{_fmt_seconds(r["seconds_in_state"])}</td><td>{"stale" if r["stale"] else ""}</td></tr>'
        for r in shown)
    template = _TEMPLATE.read_text(encoding="utf-8") if _TEMPLATE.exists() else "{tiles}{rows}"
    page = (template.replace("{as_of}", _iso(now_ms)).replace("{tiles}", tiles).replace("{rows}", body)
            .replace("{logged_on}", str(len(shown))).replace("{agents}", str(len(rows))))
    _atomic_write(rta_dir / "wallboard.html", lambda h: h.write(page.encode("utf-8")))


def write_state_log(rta_dir: Path, events: list[dict], name: str) -> list[Path]:
    """The events as new files `state_log/<hour of event_ts>/<name>.jsonl` (FIELDS only, in (agent, ts) order)."""
    by_hour: dict[str, list[str]] = defaultdict(list)
    for e in events:
        hour = e["event_ts"][:13].replace("T", "-")
        by_hour[hour].append(json.dumps({k: e[k] for k in FIELDS}, separators=(",", ":"), ensure_ascii=False))
    written = []
    for hour, lines in sorted(by_hour.items()):
        path = rta_dir / "state_log" / hour / f"{name}.jsonl"
        data = ("\n".join(lines) + "\n").encode("utf-8")
        _atomic_write(path, lambda h, d=data: h.write(d))
        written.append(path)
    return written
