"""Decoding of Kinesis Data Firehose objects: concatenated JSON values, optionally gzip'd (docs/connect-inputs.md §2).

Two decoders give the same result. The exact one, in `decode_ctr_object`, walks the values one by one with
`json.JSONDecoder.raw_decode` and is the definition. `_decode_fast` does the same work several times faster for
well-formed objects and gives up (None: the exact decoder then reads the object from scratch) the moment it cannot
be sure it agrees.
"""
from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime

import msgspec
import numpy as np

from cc_reporting.ingest.bounded import BodyTooLarge, Bounds, bounded_body, current_bounds, records_too_large

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
    oversized: int = 0  # JSON values longer than max_record_bytes: not kept, whatever they are


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


def _is_ctr_key(contact_id, last_update) -> bool:
    return isinstance(contact_id, str) and contact_id != "" and _is_timestamp(last_update)


def is_ctr(value) -> bool:
    """A contact record has a non-empty string `ContactId` and a valid `LastUpdateTimestamp` (the dedupe key)."""
    return isinstance(value, dict) and _is_ctr_key(value.get("ContactId"), value.get("LastUpdateTimestamp"))


def decode_ctr_object(data: bytes, bounds: Bounds | None = None, *, as_bytes: bool = False) -> DecodedObject:
    """Every CTR of a Firehose object. Records before a decoding error are kept: bad input never loses good data.
    A gzip'd body is expanded up to `bounds.max_decompressed_bytes` (beyond: nothing is kept); a value longer than
    `bounds.max_record_bytes` is not kept and the object is flagged (bounds: from the settings by default).

    `as_bytes`: the records as their UTF-8 bytes (the same texts): what staging hands to DuckDB, which then needs
    no Python string and no re-encoding of one."""
    bounds = bounds or current_bounds()
    try:
        body = bounded_body(data, bounds.max_decompressed_bytes)
    except BodyTooLarge as exc:
        return DecodedObject(error=str(exc))
    except (OSError, EOFError, zlib.error) as exc:
        return DecodedObject(error=f"cannot decode object body: {type(exc).__name__}: {exc}")
    max_record = bounds.max_record_bytes
    fast = _decode_fast_bytes(body, max_record) if as_bytes else _decode_fast(body, max_record)
    if fast is not None:
        return fast
    # The exact decoder stays inline: json raises RecursionError at a depth that depends on the caller's stack,
    # and one more frame here would move it.
    out = DecodedObject()
    try:
        text = body.decode("utf-8")
        body_error = None
    except UnicodeDecodeError as exc:
        # keep what precedes the first invalid byte: the records there are whole and valid
        text = body[: exc.start].decode("utf-8")
        body_error = f"cannot decode object body: invalid UTF-8 at byte {exc.start} ({exc.reason})"
    try:
        for value, start, end in iter_json_spans(text):
            raw = text[start:end]
            if _utf8_size_over(raw, max_record):
                out.oversized += 1
            elif is_ctr(value):
                out.records.append(raw)
            else:
                out.rejected += 1
    except json.JSONDecodeError as exc:
        out.error = f"invalid JSON after {len(out.records)} record(s): {exc.msg} at char {exc.pos}"
    except RecursionError:
        out.error = f"invalid JSON after {len(out.records)} record(s): nested too deeply"
    if body_error:  # the JSON error (if any) is only the cut at the invalid byte
        out.error = f"{body_error} (after {len(out.records)} record(s))"
    if as_bytes:
        out.records = [raw.encode() for raw in out.records]
    return _with_summary(out, max_record)


def _utf8_size_over(text: str, bound: int) -> bool:
    # A character is 1-4 bytes: encode (a copy) only when the count of characters cannot decide.
    return len(text) > bound or (len(text) * 4 > bound and len(text.encode()) > bound)


def _with_summary(out: DecodedObject, max_record: int) -> DecodedObject:
    if out.rejected and out.error is None:
        out.error = f"{out.rejected} JSON value(s) are not contact records (no ContactId or valid LastUpdateTimestamp)"
    if out.oversized:
        oversized = records_too_large(out.oversized, max_record)
        out.error = f"{oversized}; {out.error}" if out.error else oversized
    if not out.records and out.error is None:
        out.error = "object holds no contact record"
    return out


# -- the fast path -------------------------------------------------------------------------------------------------
# Why it agrees with the exact decoder. The body is cut at every `}` + JSON whitespace + `{`: every boundary between
# two objects is such a cut, but so is a `}{` inside a string. Walking from the first value's start, the value there
# ends at the first cut (or the body's end) where the text from the start is one complete JSON value: a cut before
# the true end leaves an open string, object or array, which no JSON parser accepts, and one after it leaves extra
# text after a complete value, which none accepts either. So the decoder below tries the piece up to the next cut,
# and on failure the same start up to the cut after it, and so on; the next value starts at the next piece. msgspec
# accepts only strict JSON objects, which json reads as the same dict (the last of duplicate keys wins in both).
# Whatever msgspec refuses, whether json accepts it (NaN, a lone surrogate escape, a value that is not an object)
# or not (damage), ends in the fast path giving up and the exact decoder deciding.
#
# msgspec reads only the two members `is_ctr` looks at and checks the rest is well-formed JSON without building
# it, which is where the time goes: msgspec skips what it does not keep, json.loads builds every dict and string.
# msgspec does not check UTF-8 inside the strings it skips: one check of the body does (the accepted pieces and the
# ASCII whitespace between them cover it, so it is valid exactly when they all are). json's nesting limit is the
# stack's depth, msgspec's is not quite the same: values with more than _FAST_MAX_OPENERS brackets are left to json.

_FAST_MAX_OPENERS = 128  # far above a CTR's nesting (about 17 brackets in all), far below the recursion limit
# Each `}{` inside a string costs one more read of its record so far: allow one more read of the body (plus a
# little for small ones) and no more, so a broken record at the front of a big object is not re-read quadratically.
_JOIN_ALLOWANCE = 64 * 1024
_BOM = "\ufeff".encode()
_WS = _WHITESPACE.encode()
_IS_WS = np.zeros(256, dtype=bool)
_IS_WS[list(_WS)] = True
_OPEN, _CLOSE = ord("{"), ord("}")


class _CtrKey(msgspec.Struct):
    ContactId: object = None
    LastUpdateTimestamp: object = None


_decode_key = msgspec.json.Decoder(_CtrKey).decode


def _cuts(body: bytes, start: int, end: int) -> tuple[list[int], list[int], np.ndarray]:
    """The pieces [starts[k], ends[k]) of body[start:end] between the cuts, and the positions of every `{` and `[`."""
    a = np.frombuffer(body, np.uint8)
    openers = np.flatnonzero((a | 0x20) == _OPEN)  # `[` is `{` with bit 0x20 cleared
    braces = openers[a[openers] == _OPEN]
    braces = braces[(braces > start) & (braces < end)]
    before = a[braces - 1]
    after_close = braces[before == _CLOSE]
    closes = after_close - 1
    spaced = braces[_IS_WS[before]]
    if spaced.size:  # `}` + whitespace + `{`: rare outside newline-delimited objects, walk back in Python
        found = []
        for p in spaced.tolist():
            q = p - 1
            while body[q] in _WS:
                q -= 1
            if body[q] == _CLOSE:
                found.append((q, p))
        if found:
            q, p = np.array(found, dtype=np.int64).T
            after_close, closes = np.concatenate([after_close, p]), np.concatenate([closes, q])
            order = np.argsort(after_close, kind="stable")
            after_close, closes = after_close[order], closes[order]
    starts = [start] + after_close.tolist()
    ends = (closes + 1).tolist() + [end]
    return starts, ends, openers


def _decode_fast(body: bytes, max_record: int) -> DecodedObject | None:
    """The exact decoder's result for `body` (gunzipped), or None where only the exact decoder can tell."""
    return _decode_fast_as(body, max_record, lambda piece: str(piece, "utf-8"))


def _decode_fast_bytes(body: bytes, max_record: int) -> DecodedObject | None:
    """`_decode_fast` with the records as their UTF-8 bytes."""
    return _decode_fast_as(body, max_record, bytes)


def _is_utf8(body: bytes, start: int, end: int) -> bool:
    if body.isascii():  # the common case, checked without building a string
        return True
    try:
        str(memoryview(body)[start:end], "utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode_fast_as(body: bytes, max_record: int, keep) -> DecodedObject | None:
    """The fast path, each record kept as `keep(its bytes)`."""
    start = len(_BOM) if body.startswith(_BOM) else 0
    end = len(body)
    while start < end and body[start] in _WS:
        start += 1
    while end > start and body[end - 1] in _WS:
        end -= 1
    if start == end:
        return None
    # One check of the body, not one per value: a value's own check would build a string per record.
    if not _is_utf8(body, start, end):
        return None
    view = memoryview(body)
    starts, ends, openers = _cuts(body, start, end)
    openers_before_start = np.searchsorted(openers, starts).tolist()
    openers_before_end = np.searchsorted(openers, ends).tolist()
    out = DecodedObject()
    budget = len(body) + _JOIN_ALLOWANCE
    i, n = 0, len(starts)
    while i < n:
        s, j = starts[i], i
        while True:
            try:
                key = _decode_key(view[s:ends[j]])
                break
            except msgspec.DecodeError:  # a cut inside a string, or a value only the exact decoder can judge
                j += 1
                if j == n:
                    return None
                budget -= ends[j] - s
                if budget < 0:
                    return None
            except RecursionError:
                return None
        if openers_before_end[j] - openers_before_start[i] > _FAST_MAX_OPENERS:
            return None
        if ends[j] - s > max_record:  # the piece is the value's UTF-8, as the exact decoder measures it
            out.oversized += 1
        elif _is_ctr_key(key.ContactId, key.LastUpdateTimestamp):
            out.records.append(keep(view[s:ends[j]]))
        else:
            out.rejected += 1
        i = j + 1
    return _with_summary(out, max_record)
