"""The agent event stream as one interface: a Kinesis data stream or the simulator's local spool folder.

`open_source(spec)` → a source with `read(positions, max_records) -> (records, new_positions)`:

- `positions` maps shard id → the sequence number of the last record consumed from it (`None`: first start);
  `records` is a list of `(shard_id, sequence_number, raw_bytes)` in shard order; `new_positions` is what to
  keep for the next call. A restart from kept positions neither loses nor repeats records.
- First start: the last 24 hours of every shard (the stream's retention; docs/connect-inputs.md §4).
- `kinesis://stream` reads Kinesis (`kinesis_source.py`), anything else the simulator's spool (`spool_source.py`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from cc_reporting.realtime.kinesis_source import KinesisSource
from cc_reporting.realtime.spool_source import SpoolSource
from cc_reporting.realtime.stream_positions import utcnow
from cc_reporting.settings import load_settings

__all__ = ["KinesisSource", "SpoolSource", "open_source"]


def open_source(spec: str, endpoint_url: str | None = None, now: Callable[[], datetime] = utcnow):
    """`kinesis://stream-name` → KinesisSource (endpoint from the argument or `CC_AWS_ENDPOINT_URL`), else a spool."""
    if spec.startswith("kinesis://"):
        return KinesisSource(spec[len("kinesis://"):].strip("/"),
                             endpoint_url or load_settings().aws_endpoint_url, now=now)
    return SpoolSource(spec, now=now)
