"""What the set-based staging paths share: a private folder for decompressed bodies, a scratch DuckDB to check them,
and the cheap byte-level checks that decide whether DuckDB's reading of a body can only agree with Python's.

A source stages an object through DuckDB only when every check passes; otherwise its Python parser, which owns
every quarantine rule and reason, reads the object as it always did. The checks are conservative: an object they
reject is still read correctly, only more slowly.
"""
from __future__ import annotations

import atexit
import csv
import os
import re
import shutil
import tempfile
import threading
import uuid
import weakref

import duckdb

BOM = b"\xef\xbb\xbf"
# What str.strip() strips (str.isspace()), for Arrow's utf8_trim; a test checks it against the Unicode database.
STRIP_CHARS = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
               + "\u2028\u2029\u202f\u205f\u3000")
STRIP_SQL = "'" + STRIP_CHARS.replace("'", "''") + "'"  # as a DuckDB literal, for trim(v, ...)
# A line whose quoted fields are all well formed (opening quote at the field start, doubled inside, closing quote at
# the field end): there csv.reader and DuckDB's strict reader give the same cells. `a, "b"` or `"b"x` are not.
_QUOTED_LINE = re.compile(rb'(?:[^",\r\n]*|"(?:[^"]|"")*")(?:,(?:[^",\r\n]*|"(?:[^"]|"")*"))*')

# What str.strip() strips besides a space, as UTF-8 (CR and LF only end lines here: lines_fit and
# csv_quoting_agrees reject a lone CR or a line break inside a cell). A one-byte class finds the bodies that may hold
# one in a single pass; only those are searched for each character.
_UNUSUAL_SPACE = tuple(c.encode() for c in STRIP_CHARS if c not in " \r\n")
_UNUSUAL_SPACE_BYTE = re.compile(b"[" + re.escape(bytes(sorted({c[0] for c in _UNUSUAL_SPACE}))) + b"]")

_folder: str | None = None
_folder_lock = threading.Lock()
_local = threading.local()


def scratch_con() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for this thread's checks; one thread: the scans are small and many."""
    if getattr(_local, "con", None) is None:
        _local.con = duckdb.connect(config={"threads": 1})
    return _local.con


def _private_folder() -> str:
    global _folder
    with _folder_lock:
        if _folder is None or not os.path.isdir(_folder):
            _folder = tempfile.mkdtemp(prefix="cc-staging-")  # mode 0700: bodies may hold customer data
            atexit.register(shutil.rmtree, _folder, ignore_errors=True)
        return _folder


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class StagedFile:
    """A decompressed body written for DuckDB to read. The file goes with the object (or with `discard`), so a
    parse whose merge never runs leaves nothing behind."""

    def __init__(self, body: bytes | bytearray | memoryview, suffix: str):
        self.path = os.path.join(_private_folder(), uuid.uuid4().hex + suffix)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        self._cleanup = weakref.finalize(self, _remove, self.path)

    def discard(self) -> None:
        self._cleanup()


def without_bom(body: bytes | bytearray) -> memoryview:
    view = memoryview(body)
    return view[3:] if body[:3] == BOM else view


def lines_fit(body: bytes | bytearray | memoryview, max_record: int) -> list[bytes] | None:
    """The body's lines split at \\n, or None where DuckDB and the Python reader might split or size records
    differently: a NUL, a lone CR, or a line over `max_record` bytes or over the csv module's field limit."""
    data = bytes(body)
    if b"\x00" in data or data.count(b"\r") != data.count(b"\r\n"):
        return None
    lines = data.split(b"\n")
    if max(map(len, lines)) > min(max_record, csv.field_size_limit()):
        return None
    return lines


def csv_quoting_agrees(lines: list[bytes]) -> bool:
    """Every line holding a quote is well-formed CSV on its own (so no quoted cell spans lines either)."""
    return all(_QUOTED_LINE.fullmatch(line.rstrip(b"\r")) for line in lines if b'"' in line)


def strip_sql(body: bytes | bytearray | memoryview) -> str:
    """SQL for str.strip() of a cell `{}` of this (valid UTF-8) body: a plain trim (spaces) unless the body holds
    another character str.strip() strips (then the full set, ten times slower)."""
    data = bytes(body)
    unusual = _UNUSUAL_SPACE_BYTE.search(data) is not None and any(c in data for c in _UNUSUAL_SPACE)
    return "trim({}, " + STRIP_SQL + ")" if unusual else "trim({})"


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
