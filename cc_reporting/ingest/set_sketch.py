"""A fixed-size sketch of a set that tells which elements two sets do not share (an invertible Bloom lookup table).

The landing cursor keeps one sketch of the objects it requested in its look-back window. Next tick it subtracts a
sketch of the objects it now lists in that window; what is left holds only the difference (objects that became
visible late, or changed) and can be read back element by element as long as it is small, whatever the size of the
sets themselves. A difference too large to read back says so (`None`), never a wrong answer (a per-cell checksum).
"""
from __future__ import annotations

import base64
import hashlib
import struct

SUBTABLES = 4          # every element goes into one cell of each subtable
CELLS_PER_SUBTABLE = 24
# Measured (a 2,000-element set, a difference of d elements, 3,000 trials for d <= 23, 600 above): d = 8 is read
# back every time, 23 in 99.97 %, 43 in 99.7 %, 63 in 96 %. When it cannot be, `difference` says so (None) and the
# caller falls back to something coarser.
_CELL = struct.Struct(">HQI")  # element count (mod 2**16: peeling needs only +-1), XOR of ids, XOR of checksums
_COUNT_MOD = 1 << 16


def element_id(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _cells_and_checksum(element: int) -> tuple[list[int], int]:
    spread = hashlib.sha256(element.to_bytes(8, "big")).digest()
    cells = [t * CELLS_PER_SUBTABLE + int.from_bytes(spread[2 * t:2 * t + 2], "big") % CELLS_PER_SUBTABLE
             for t in range(SUBTABLES)]
    return cells, int.from_bytes(spread[8:12], "big")


class SetSketch:
    def __init__(self, cells: list[list[int]] | None = None):
        self.cells = cells or [[0, 0, 0] for _ in range(SUBTABLES * CELLS_PER_SUBTABLE)]

    @classmethod
    def of(cls, elements) -> "SetSketch":
        sketch = cls()
        for element in elements:
            sketch.toggle(element, 1)
        return sketch

    def toggle(self, element: int, sign: int) -> None:
        positions, checksum = _cells_and_checksum(element)
        for position in positions:
            cell = self.cells[position]
            cell[0] += sign
            cell[1] ^= element
            cell[2] ^= checksum

    def difference(self, other: "SetSketch") -> tuple[set[int], set[int]] | None:
        """(elements only in self, elements only in other), or None when the difference is too large to read."""
        # A difference is small: its counts are read back from 16 bits as -2**15 .. 2**15-1.
        rest = SetSketch([[(a[0] - b[0] + _COUNT_MOD // 2) % _COUNT_MOD - _COUNT_MOD // 2, a[1] ^ b[1], a[2] ^ b[2]]
                          for a, b in zip(self.cells, other.cells)])
        mine, theirs = set(), set()
        progress = True
        while progress:
            progress = False
            for cell in rest.cells:  # read live: peeling an element changes the other cells it was in
                count, element, checksum = cell
                if count in (1, -1) and _cells_and_checksum(element)[1] == checksum:
                    (mine if count == 1 else theirs).add(element)
                    rest.toggle(element, -count)
                    progress = True
        return (mine, theirs) if all(cell == [0, 0, 0] for cell in rest.cells) else None

    def serialize(self) -> str:
        packed = b"".join(_CELL.pack(count % _COUNT_MOD, ids, checksums) for count, ids, checksums in self.cells)
        return base64.b64encode(packed).decode()

    @classmethod
    def parse(cls, text: str) -> "SetSketch":
        packed = base64.b64decode(text)
        return cls([list(_CELL.unpack_from(packed, offset)) for offset in range(0, len(packed), _CELL.size)])
