"""Decoding of Kinesis Data Firehose objects: concatenated JSON values, optionally gzip'd (connect-formats.md §2)."""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from datetime import datetime

_WHITESPACE = " \t\r\n"


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
    if not isinstance(value, str):
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
    except (OSError, EOFError, UnicodeDecodeError) as exc:
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
    if out.rejected and out.error is None:
        out.error = f"{out.rejected} JSON value(s) are not contact records (no ContactId or valid LastUpdateTimestamp)"
    if not out.records and out.error is None:
        out.error = "object holds no contact record"
    return out
