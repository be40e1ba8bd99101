"""Arrow columns built straight from buffers, for bulk input to DuckDB.

`pa.array(a_python_list)` (and `pa.table` of lists) imports pandas the first time it runs (0.75-1.2 s in every run
process: pyarrow checks each input for pandas types), and converts every non-ASCII `str` to UTF-8 once more. The
records we stage are already UTF-8 bytes: their column is one join and an offsets array.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa


def int64_column(values) -> pa.Array:
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def utf8_column(values: list) -> pa.Array:
    """A large_string column of `str` or UTF-8 `bytes` values (None: null). Checked for valid UTF-8: DuckDB trusts
    an Arrow string to be."""
    encoded = [value.encode() if isinstance(value, str) else value for value in values]
    present = np.fromiter((value is not None for value in encoded), dtype=bool, count=len(encoded))
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter((len(value) if value is not None else 0 for value in encoded), dtype=np.int64,
                          count=len(encoded)), out=offsets[1:])
    data = b"".join(value for value in encoded if value is not None)
    validity = None if present.all() else pa.py_buffer(np.packbits(present, bitorder="little"))
    column = pa.LargeStringArray.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(data), validity)
    column.validate(full=True)
    return column
