"""Deterministic identifiers: UUIDs drawn from seeded generators, in bulk (there are millions of them)."""
from __future__ import annotations

import hashlib

import numpy as np


def uuid_strings(rng: np.random.Generator, n: int) -> list[str]:
    """`n` random version-4 UUID strings from `rng` (vectorized: one hex dump, then slicing)."""
    if n <= 0:
        return []
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    h = raw.tobytes().hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-{h[i + 12:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
            for i in range(0, 32 * n, 32)]


def hex_ids(rng: np.random.Generator, n: int, width: int = 12) -> list[str]:
    raw = rng.integers(0, 256, size=(n, (width + 1) // 2), dtype=np.uint8).tobytes().hex()
    step = ((width + 1) // 2) * 2
    return [raw[i:i + width] for i in range(0, step * n, step)]


def stable_uuid(*parts: object) -> str:
    """A UUID-shaped id derived from its parts (for names created late, e.g. split Firehose objects)."""
    h = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()
    return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"


class UuidPool:
    """Hands out UUIDs one at a time from a seeded generator, drawing them in blocks."""

    def __init__(self, rng: np.random.Generator, block: int = 4096):
        self._rng, self._block, self._buf, self._i = rng, block, [], 0

    def next(self) -> str:
        if self._i >= len(self._buf):
            self._buf, self._i = uuid_strings(self._rng, self._block), 0
        self._i += 1
        return self._buf[self._i - 1]
