"""Bounded reading of landing objects, shared by every decoder: a gzip'd body is expanded in pieces and never past
`max_decompressed_bytes`, and a record is never kept past `max_record_bytes` (settings.py).

A few MB of gzip can expand to GBs (a gzip bomb): expanding it whole would take the run down. Over a bound, the
object (or the record) goes to quarantine with a one-line reason naming the bound and its setting.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

from cc_reporting.settings import load_settings

GZIP_MAGIC = b"\x1f\x8b"
_PIECE = 1024 * 1024  # bytes expanded per step: the most the bomb can add past the bound before it is caught


@dataclass(frozen=True)
class Bounds:
    max_decompressed_bytes: int
    max_record_bytes: int


def current_bounds() -> Bounds:
    settings = load_settings()
    return Bounds(settings.max_decompressed_bytes, settings.max_record_bytes)


class BodyTooLarge(ValueError):
    """The gzip'd body expands past max_decompressed_bytes."""

    def __init__(self, bound: int):
        super().__init__(f"decompressed body over max_decompressed_bytes ({bound} bytes, CC_MAX_DECOMPRESSED_BYTES)")


def record_too_large(size: int, bound: int) -> str:
    return f"record of {size} bytes over max_record_bytes ({bound} bytes, CC_MAX_RECORD_BYTES)"


def records_too_large(count: int, bound: int) -> str:
    return f"{count} record(s) over max_record_bytes ({bound} bytes, CC_MAX_RECORD_BYTES)"


def bounded_body(data: bytes, max_bytes: int) -> bytes | bytearray:
    """The body to decode: gunzipped if it starts with the gzip magic (names say nothing reliable about it), at
    most `max_bytes` expanded. A plain body is returned as landed: its size is what was stored, nothing expands.

    Raises BodyTooLarge, or OSError / EOFError / zlib.error for a damaged gzip stream (as gzip.decompress does)."""
    if data[:2] != GZIP_MAGIC:
        return data
    out = bytearray()  # grown in place: joining pieces at the end would hold the body twice
    pending = memoryview(data)
    inflater = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer (CRC, length) checked by zlib
    while True:
        room = min(_PIECE, max_bytes + 1 - len(out))  # one byte past the bound tells "over" from "exactly at"
        piece = inflater.decompress(pending, room)
        out += piece
        if len(out) > max_bytes:
            raise BodyTooLarge(max_bytes)
        pending = inflater.unconsumed_tail
        if inflater.eof:
            # Members may follow (concatenated gzip), as may zero padding, as gzip.decompress allows.
            rest = inflater.unused_data.lstrip(b"\x00")
            if not rest:
                return out
            if rest[:2] != GZIP_MAGIC:
                raise OSError(f"Not a gzipped file ({bytes(rest[:2])!r}) after member ending at byte "
                              f"{len(data) - len(rest)}")
            pending, inflater = memoryview(rest), zlib.decompressobj(wbits=31)
        elif not pending and len(piece) < room:  # all input read, zlib holds no more output: the stream is cut
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")


class LineSizes:
    """Lines for csv.reader that remember the bytes (UTF-8) of the record read last, without its final line break,
    so a CSV record is held to max_record_bytes whatever line breaks its quoted cells hold."""

    def __init__(self, lines):
        self._lines = iter(lines)
        self._size = 0
        self._last = ""

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._size += len(line) if line.isascii() else len(line.encode())
        self._last = line
        return line

    def take(self) -> int:
        """Bytes of the lines read since the last take, less the line break that ends them."""
        size, self._size = self._size, 0
        return size - (len(self._last) - len(self._last.rstrip("\r\n"))) if size else 0
