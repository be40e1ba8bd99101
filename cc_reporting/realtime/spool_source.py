"""Agent events from the simulator's spool folder, read like the stream.

`<folder>/<shard-id>/<YYYY-MM-DD-HH>.jsonl`: the sequence number of a line is `f"{file_stem}:{line_no:09d}"`
(1-based, sortable); only newline-terminated lines are consumed (a line still being appended waits).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

from cc_reporting.realtime.stream_positions import RETENTION, Record, split_quota, utcnow


class SpoolSource:
    """The simulator's spool folder, read like the stream (positions = `file_stem:line_no`)."""

    def __init__(self, folder: str, now: Callable[[], datetime] = utcnow):
        self.root, self.now = Path(folder), now
        self._offsets: dict[str, tuple[str, int]] = {}   # shard → (position, byte offset after that line)

    def describe(self) -> str:
        return str(self.root)

    def _shards(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and p.name.startswith("shardId-"))

    def _read_shard(self, shard_id: str, position: str | None, quota: int) -> tuple[list[Record], str | None]:
        folder = self.root / shard_id
        files = sorted(p for p in folder.glob("*.jsonl"))
        if position is None:
            cutoff = (self.now() - RETENTION).strftime("%Y-%m-%d-%H")
            files = [p for p in files if p.stem >= cutoff]   # hour files that may hold events of the last 24 h
            start_stem, start_line = None, 0
        else:
            start_stem, _, line = position.partition(":")
            start_line = int(line)
            files = [p for p in files if p.stem >= start_stem]
        out: list[Record] = []
        for path in files:
            if len(out) >= quota:
                break
            line_no, offset = 0, 0
            if path.stem == start_stem:
                line_no = start_line
                cached = self._offsets.get(shard_id)
                if cached and cached[0] == position:
                    offset = cached[1]
            with open(path, "rb") as handle:
                if offset:
                    handle.seek(offset)
                else:
                    for _ in range(line_no):          # skip consumed lines (first call after a restart)
                        if not handle.readline().endswith(b"\n"):
                            break
                while len(out) < quota:
                    line = handle.readline()
                    if not line.endswith(b"\n"):      # nothing more, or a chunk still being appended
                        break
                    line_no += 1
                    position = f"{path.stem}:{line_no:09d}"
                    self._offsets[shard_id] = (position, handle.tell())
                    if line.strip():
                        out.append((shard_id, position, line.rstrip(b"\r\n")))
        return out, position

    def read(self, positions: dict[str, str] | None, max_records: int = 5000) -> tuple[list[Record], dict[str, str]]:
        new_positions = dict(positions or {})
        shards = self._shards()
        records: list[Record] = []
        quota = split_quota(max_records, shards)
        for shard_id in shards:
            recs, pos = self._read_shard(shard_id, new_positions.get(shard_id), quota[shard_id])
            records.extend(recs)
            if pos is not None:
                new_positions[shard_id] = pos
        return records, new_positions
