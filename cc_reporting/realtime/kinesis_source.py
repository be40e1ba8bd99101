"""Agent events from a Kinesis data stream (`kinesis://stream`, endpoint `CC_AWS_ENDPOINT_URL`).

`AT_TIMESTAMP` now − 24 h on a shard without a position, else `AFTER_SEQUENCE_NUMBER`; shards read concurrently;
resharding followed through ListShards (a child is read only once its parents are drained; a drained shard's
position becomes `SHARD_END`); expired iterators renewed from the last position; throttling backed off (the
shard resumes next call).
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Callable

from cc_reporting.realtime.stream_positions import RETENTION, SHARD_END, Record, split_quota, utcnow

PAGE_LIMIT = 10_000          # GetRecords maximum
MAX_PAGES_PER_SHARD = 5      # GetRecords calls per shard per read (5 reads/s/shard is the Kinesis limit)
THROTTLED = ("ProvisionedThroughputExceededException", "LimitExceededException")


class KinesisSource:
    def __init__(self, stream: str, endpoint_url: str | None = None, client=None,
                 now: Callable[[], datetime] = utcnow, max_workers: int = 8, backoff: float = 0.2):
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
        shard_id, closed = shard["ShardId"], self._closed(shard)
        if closed and _read_past_end(shard, position):
            return [], SHARD_END
        cached = self._iterators.pop(shard_id, None)
        iterator = cached[1] if cached and cached[0] == position else None
        out: list[Record] = []
        for pages in range(MAX_PAGES_PER_SHARD):
            if len(out) >= quota:
                break
            page = self._get_records(shard_id, position, iterator, quota - len(out), pages)
            if page is None:                 # throttled: keep what was read; the shard resumes next call
                break
            for record in page.get("Records", []):
                out.append((shard_id, record["SequenceNumber"], record["Data"]))
                position = record["SequenceNumber"]
            iterator = page.get("NextShardIterator")
            state = _after_page(page, closed)
            if state == SHARD_END:
                return out, SHARD_END
            if state == CAUGHT_UP:
                break
        if iterator is not None:
            self._iterators[shard_id] = (position, iterator)
        return out, position

    def _get_records(self, shard_id: str, position: str | None, iterator: str | None, limit: int,
                     pages: int) -> dict | None:
        """One GetRecords page; an expired iterator is renewed (twice at most), a throttled call backed off → None."""
        from botocore.exceptions import ClientError

        renewals = 0
        while True:
            try:
                return self.client.get_records(ShardIterator=iterator or self._new_iterator(shard_id, position),
                                               Limit=min(PAGE_LIMIT, limit))
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code == "ExpiredIteratorException" and renewals < 2:
                    renewals += 1
                    self.renewed += 1
                    iterator = None          # a new one from the last position kept
                    continue
                if code in THROTTLED:
                    self.throttled += 1
                    time.sleep(self.backoff * (2 ** min(pages, 4)))
                    return None
                raise

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
                quota = split_quota(budget, [s["ShardId"] for s in eligible])
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


CAUGHT_UP, MORE = "caught up", "more"


def _read_past_end(shard: dict, position: str | None) -> bool:
    """A closed shard whose kept position is its ending sequence number: nothing is left to read."""
    ending = shard.get("SequenceNumberRange", {}).get("EndingSequenceNumber")
    return position is not None and ending is not None and int(position) >= int(ending) > 0


def _after_page(page: dict, closed: bool) -> str:
    """Where a shard stands after one GetRecords page: drained (SHARD_END), caught up, or more to read now."""
    if page.get("NextShardIterator") is None:      # real Kinesis: end of a closed shard
        return SHARD_END
    behind = page.get("MillisBehindLatest", 0)
    if not page.get("Records") and closed and behind == 0:
        return SHARD_END                           # moto never returns a null iterator for a closed shard
    if behind == 0 and (not page.get("Records") or not closed):
        return CAUGHT_UP
    return MORE
