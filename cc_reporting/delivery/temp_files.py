"""Leftover temp files of interrupted local writes (a crash, a kill, a full disk) and their removal.

A write puts its data in a temp file beside the target, then renames it; a crash in between leaves the temp
file. The next write removes such leftovers: only names of its own temp pattern, and only those untouched for
STALE_SECONDS, because a fresh one may belong to a write in progress in another process.
"""
from __future__ import annotations

import time
from pathlib import Path

STALE_SECONDS = 300  # a temp file lives for the milliseconds of one write


def sweep_stale(folder: Path, pattern: str, now: float | None = None) -> list[Path]:
    """Remove the files in `folder` matching the glob `pattern` and untouched for STALE_SECONDS; the removed ones."""
    if not folder.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - STALE_SECONDS
    removed = []
    for entry in folder.glob(pattern):
        try:
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                entry.unlink()
                removed.append(entry)
        except FileNotFoundError:
            continue  # removed meanwhile by whoever owned it
    return removed
