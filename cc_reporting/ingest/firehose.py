"""Decoding of Kinesis Data Firehose objects: concatenated JSON values, optionally gzip'd (connect-formats.md §2)."""
from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

_WHITESPACE = " \t\r\n"
# ISO 8601 extended as DuckDB casts it to TIMESTAMPTZ (Python's fromisoformat also takes forms DuckDB rejects,
# e.g. 20260105T0900Z: such a record would be dropped by the merge instead of quarantined).
_TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$")


@dataclass
class DecodedObject:
    """The records of one object as raw JSON texts (sliced from the body, never re-serialised) plus what failed."""

    records: list[str] = field(default_factory=list)
    error: str | None = None  # why (part of) the object could not be read; None = clean
    rejected: int = 0  # JSON values that decoded but are not records of this kind


def _text_of(data: bytes) -> str:
    # Firehose names say nothing reliable about compression: detect gzip by its magic bytes.
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8")


def iter_json_spans(text: str):
    """Yield (value, start, end) of each JSON value in a concatenation; never split on `}{` (it occurs in strings)."""
    decoder, i, n = json.JSONDecoder(), (1 if text.startswith("\ufeff") else 0), len(text)
    while True:
        while i < n and text[i] in _WHITESPACE:
            i += 1
        if i >= n:
            return
        value, end = decoder.raw_decode(text, i)
        yield value, i, end
        i = end


def _is_timestamp(value) -> bool:
    if not isinstance(value, str) or not _TIMESTAMP_RE.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_ctr(value) -> bool:
    """A contact record has a non-empty string `ContactId` and a valid `LastUpdateTimestamp` (the dedupe key)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("ContactId"), str)
        and bool(value["ContactId"])
        and _is_timestamp(value.get("LastUpdateTimestamp"))
    )


def decode_ctr_object(data: bytes) -> DecodedObject:
    """Every CTR of a Firehose object. Records before a decoding error are kept: bad input never loses good data."""
    out = DecodedObject()
    try:
        text = _text_of(data)
        body_error = None
    except UnicodeDecodeError as exc:
        # keep what precedes the first invalid byte: the records there are whole and valid
        raw = exc.object
        text = raw[: exc.start].decode("utf-8")
        body_error = f"cannot decode object body: invalid UTF-8 at byte {exc.start} ({exc.reason})"
    except (OSError, EOFError) as exc:
        out.error = f"cannot decode object body: {type(exc).__name__}: {exc}"
        return out
    try:
        for value, start, end in iter_json_spans(text):
            if is_ctr(value):
                out.records.append(text[start:end])
            else:
                out.rejected += 1
    except json.JSONDecodeError as exc:
        out.error = f"invalid JSON after {len(out.records)} record(s): {exc.msg} at char {exc.pos}"
    except RecursionError:
        out.error = f"invalid JSON after {len(out.records)} record(s): nested too deeply"
    if body_error:  # the JSON error (if any) is only the cut at the invalid byte
        out.error = f"{body_error} (after {len(out.records)} record(s))"
    if out.rejected and out.error is None:
        out.error = f"{out.rejected} JSON value(s) are not contact records (no ContactId or valid LastUpdateTimestamp)"
    if not out.records and out.error is None:
        out.error = "object holds no contact record"
    return out
