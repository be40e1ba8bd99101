"""The agent event stream as one interface: a Kinesis data stream or the simulator's local spool folder.

`open_source(spec)` → a source with `read(positions, max_records) -> (records, new_positions)`:

- `positions` maps shard id → the sequence number of the last record consumed from it (`None`: first start);
  `records` is a list of `(shard_id, sequence_number, raw_bytes)` in shard order; `new_positions` is what to
  keep for the next call. A restart from kept positions neither loses nor repeats records.
- First start: the last 24 hours of every shard (the stream's retention; docs/connect-inputs.md §4).
- Kinesis (`kinesis://stream`, endpoint `CC_AWS_ENDPOINT_URL`): `AT_TIMESTAMP` now − 24 h on a shard without
  a position, else `AFTER_SEQUENCE_NUMBER`; shards read concurrently; resharding followed through ListShards
  (a child is read only once its parents are drained; a drained shard's position becomes `SHARD_END`);
  expired iterators renewed from the last position; throttling backed off (the shard resumes next call).
- Spool (`<folder>/<shard-id>/<YYYY-MM-DD-HH>.jsonl`): the sequence number of a line is
  `f"{file_stem}:{line_no:09d}"` (1-based, sortable); only newline-terminated lines are consumed.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

SHARD_END = "SHARD_END"
RETENTION = timedelta(hours=24)
PAGE_LIMIT = 10_000          # GetRecords maximum
MAX_PAGES_PER_SHARD = 5      # GetRecords calls per shard per read (5 reads/s/shard is the Kinesis limit)

Record = tuple[str, str, bytes]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def open_source(spec: str, endpoint_url: str | None = None, now: Callable[[], datetime] = _utcnow):
    """`kinesis://stream-name` → KinesisSource (endpoint from the argument or `CC_AWS_ENDPOINT_URL`), else a spool."""
    if spec.startswith("kinesis://"):
        return KinesisSource(spec[len("kinesis://"):].strip("/"),
                             endpoint_url or os.environ.get("CC_AWS_ENDPOINT_URL") or None, now=now)
    return SpoolSource(spec, now=now)


def _split_quota(budget: int, shards: list[str]) -> dict[str, int]:
    n = max(1, len(shards))
    base, extra = divmod(budget, n)
    return {s: base + (1 if i < extra else 0) for i, s in enumerate(shards)}


class KinesisSource:
    def __init__(self, stream: str, endpoint_url: str | None = None, client=None,
                 now: Callable[[], datetime] = _utcnow, max_workers: int = 8, backoff: float = 0.2):
        from cc_reporting.resources.aws import aws_client

        self.stream, self.now, self.backoff = stream, now, backoff
        # botocore retries a throttled call itself (CC_AWS_RETRY_MODE / CC_AWS_MAX_ATTEMPTS); what is still
        # throttled after that is backed off here, shard by shard, and counted in `throttled`.
        self.client = client or aws_client("kinesis", endpoint_url, max_pool_connections=max_workers * 2)
        self.max_workers = max_workers
        self._iterators: dict[str, tuple[str, str]] = {}   # shard → (position it starts after, iterator)
        self.throttled = 0
        self.renewed = 0

    def describe(self) -> str:
        return f"kinesis://{self.stream}"

    # -- shards ---------------------------------------------------------------------------------------------
    def list_shards(self) -> list[dict]:
        shards, kwargs = [], {"StreamName": self.stream}
        while True:
            page = self.client.list_shards(**kwargs)
            shards.extend(page.get("Shards", []))
            token = page.get("NextToken")
            if not token:
                return shards
            kwargs = {"NextToken": token}

    @staticmethod
    def _closed(shard: dict) -> bool:
        return "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})

    # -- reading --------------------------------------------------------------------------------------------
    def _new_iterator(self, shard_id: str, position: str | None) -> str:
        if position is None:
            kwargs = {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": self.now() - RETENTION}
        else:
            kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": position}
        return self.client.get_shard_iterator(StreamName=self.stream, ShardId=shard_id, **kwargs)["ShardIterator"]

    def _read_shard(self, shard: dict, position: str | None, quota: int) -> tuple[list[Record], str | None]:
        """Up to `quota` records after `position`; returns the records and the new position (SHARD_END if drained)."""
        from botocore.exceptions import ClientError

        shard_id, closed = shard["ShardId"], self._closed(shard)
        ending = shard.get("SequenceNumberRange", {}).get("EndingSequenceNumber")
        if closed and position is not None and ending is not None and int(position) >= int(ending) > 0:
            return [], SHARD_END
        cached = self._iterators.pop(shard_id, None)
        iterator = cached[1] if cached and cached[0] == position else None
        out: list[Record] = []
        renewed = 0
        pages = 0
        while len(out) < quota and pages < MAX_PAGES_PER_SHARD:
            if iterator is None:
                iterator = self._new_iterator(shard_id, position)
            try:
                page = self.client.get_records(ShardIterator=iterator, Limit=min(PAGE_LIMIT, quota - len(out)))
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code == "ExpiredIteratorException" and renewed < 2:
                    renewed += 1
                    self.renewed += 1
                    iterator = None          # a new one from the last position kept
                    continue
                if code in ("ProvisionedThroughputExceededException", "LimitExceededException"):
                    self.throttled += 1
                    time.sleep(self.backoff * (2 ** min(pages, 4)))
                    break                    # keep what was read; the shard resumes next call
                raise
            pages += 1
            recs = page.get("Records", [])
            for r in recs:
                out.append((shard_id, r["SequenceNumber"], r["Data"]))
                position = r["SequenceNumber"]
            iterator = page.get("NextShardIterator")
            if iterator is None:             # real Kinesis: end of a closed shard
                return out, SHARD_END
            behind = page.get("MillisBehindLatest", 0)
            if not recs and closed and behind == 0:
                return out, SHARD_END        # moto never returns a null iterator for a closed shard
            if behind == 0 and (not recs or not closed):
                break                        # caught up
        if iterator is not None:
            self._iterators[shard_id] = (position, iterator)
        return out, position

    def read(self, positions: dict[str, str] | None, max_records: int = 5000) -> tuple[list[Record], dict[str, str]]:
        new_positions = dict(positions or {})
        shards = self.list_shards()
        listed = {s["ShardId"] for s in shards}
        # forget shards trimmed from the stream (keeps the positions compact)
        new_positions = {k: v for k, v in new_positions.items() if k in listed}
        records: list[Record] = []
        budget = max_records
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            while budget > 0:
                eligible = [s for s in shards if new_positions.get(s["ShardId"]) != SHARD_END and all(
                    p is None or p not in listed or new_positions.get(p) == SHARD_END
                    for p in (s.get("ParentShardId"), s.get("AdjacentParentShardId")))]
                if not eligible:
                    break
                quota = _split_quota(budget, [s["ShardId"] for s in eligible])
                eligible = [s for s in eligible if quota[s["ShardId"]] > 0]
                futures = {s["ShardId"]: pool.submit(self._read_shard, s, new_positions.get(s["ShardId"]),
                                                     quota[s["ShardId"]]) for s in eligible}
                drained = False
                for shard_id, future in futures.items():
                    recs, pos = future.result()
                    records.extend(recs)
                    budget -= len(recs)
                    if pos is not None:
                        new_positions[shard_id] = pos
                    drained |= pos == SHARD_END
                if not drained:              # another round only when children became readable
                    break
        return records, new_positions


class SpoolSource:
    """The simulator's spool folder, read like the stream (positions = `file_stem:line_no`)."""

    def __init__(self, folder: str, now: Callable[[], datetime] = _utcnow):
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
        quota = _split_quota(max_records, shards)
        for shard_id in shards:
            recs, pos = self._read_shard(shard_id, new_positions.get(shard_id), quota[shard_id])
            records.extend(recs)
            if pos is not None:
                new_positions[shard_id] = pos
        return records, new_positions
