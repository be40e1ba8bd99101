"""The CRM extract's cells read by DuckDB's `read_csv` instead of Python's csv.reader (most of the staging time).

Only where both readers give the same cells (staging/scratch.py: no NUL, no lone CR, every line within
max_record_bytes and the csv field limit, quotes well formed on each line, so no quoted line break either) and
DuckDB's strict read succeeds with one row per non-empty line. Otherwise None, and crm.py reads the extract with
csv.reader as before, which owns every refusal and its reason. The cells come back as the same Arrow string columns
csv.reader's blocks make, so dedupe, typing and hashing downstream are unchanged. The decompressed body holds clear
phone numbers: its private file is deleted as soon as it is read.
"""
from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cc_reporting.staging.scratch import STRIP_CHARS, StagedFile, csv_quoting_agrees, lines_fit, scratch_con, sql_text


def read_extract_cells(body: memoryview, header_width: int, columns: dict[str, int], header_size: int,
                       max_record: int) -> pa.Table | None:
    """The wanted columns (name → position) of every data row, stripped, '' for an empty cell; or None."""
    lines = lines_fit(body, max_record)
    if lines is None or len(lines[0].rstrip(b"\r")) != header_size or not csv_quoting_agrees(lines):
        return None
    expected = sum(1 for line in lines[1:] if line not in (b"", b"\r"))  # csv.reader yields no row for those
    del lines
    staged = StagedFile(body, ".csv")
    types = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(header_width)) + "}"
    cells = ", ".join(f"coalesce(c{position}, '') AS c{position}" for position in columns.values())
    try:
        table = scratch_con().sql(
            f"""SELECT {cells} FROM read_csv({sql_text(staged.path)}, header = false, skip = 1, delim = ',',
                                            quote = '"', escape = '"', columns = {types}, auto_detect = false,
                                            strict_mode = true)""").to_arrow_table()
    except duckdb.Error:
        return None
    finally:
        staged.discard()
    if table.num_rows != expected:
        return None
    return pa.table([pc.utf8_trim(table[f"c{position}"].cast(pa.string()), STRIP_CHARS)
                     for position in columns.values()], names=list(columns))
