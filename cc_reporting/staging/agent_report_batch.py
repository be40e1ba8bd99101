"""The agent report read by DuckDB: one typed `read_csv` per batch instead of a Python dict per row.

Per object, parse writes the bounded-decompressed body (without BOM) to a private file and scans it once in a scratch
DuckDB for every row the Python rules might read differently (a blank Agent, a time, duration or percentage outside
the plain spellings both read alike). Any such row, a read error, a row count other than the lines', or a body the
byte checks of staging/scratch.py reject, and the object is parsed by Python instead (agent_report_table.py), which
keeps its reasons, its good rows and its line numbers. So this path only ever stages objects without a bad row.

The typed values are Python's, rule for rule: strip = str.strip(); `-`/empty = null; durations rounded half up as
int(float(v) + 0.5) (both read the decimal as the nearest double); occupancy = float(Decimal(v) / 100), read
as `v e-2`, the nearest double to the exact quotient.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from cc_reporting.staging.scratch import (
    StagedFile,
    csv_quoting_agrees,
    lines_fit,
    scratch_con,
    sql_text,
    strip_sql,
)

_NAME_COLUMNS = ("Agent Name", "Agent First Name", "Agent Last Name")
_USED = ("Agent", "StartInterval", "EndInterval", "Online time", "Non-Productive Time", "Agent idle time",
         "Agent on contact time", "Occupancy") + _NAME_COLUMNS
_DURATIONS = {"online_s": "Online time", "non_productive_s": "Non-Productive Time", "idle_s": "Agent idle time",
              "on_contact_s": "Agent on contact time"}
# Spellings both readers take alike (RE2, matched whole after strip); anything else goes to Python.
_TIME = (r"(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
         r"(?:\.[0-9]{3}|\.[0-9]{6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])")
_DURATION = r"[0-9]{1,9}(?:\.[0-9]{1,6})?"
_PERCENT = r"[0-9]{1,6}(?:\.[0-9]{1,9})?%?"


@dataclass(eq=False)  # hashed by identity: merge finds the files among its items
class ReportFile:
    staged: StagedFile
    layout: tuple  # (width, positions of _USED or None where absent, strip SQL)
    rows: int
    key: str
    last_modified: datetime


def _layout(header: list[str], strip: str) -> tuple | None:
    """Column positions by (stripped) name, or None if a used name repeats (DictReader keeps the last: Python's)."""
    used = [name for name in header if name in _USED]
    if len(used) != len(set(used)):
        return None
    return (len(header), tuple(header.index(name) if name in header else None for name in _USED), strip)


def _value(layout: tuple, name: str) -> str:
    position = layout[1][_USED.index(name)]
    return "CAST(NULL AS VARCHAR)" if position is None else layout[2].format(f"c{position}")


def _blank(expr: str) -> str:
    return f"coalesce({expr} IN ('', '-'), true)"


def _typed_columns(layout: tuple) -> dict[str, str]:
    v = {name: _value(layout, name) for name in _USED}
    name, first, last = (v[c] for c in _NAME_COLUMNS)
    columns = {
        "agent_username": v["Agent"],
        "interval_start": f"CAST({v['StartInterval']} AS TIMESTAMPTZ)",
        "interval_end": f"CAST({v['EndInterval']} AS TIMESTAMPTZ)",
        "agent_name": f"""CASE WHEN NOT {_blank(name)} THEN {name} ELSE nullif(concat_ws(' ',
                              CASE WHEN NOT {_blank(first)} THEN {first} END,
                              CASE WHEN NOT {_blank(last)} THEN {last} END), '') END""",
    }
    for column, source in _DURATIONS.items():
        columns[column] = (f"CASE WHEN NOT {_blank(v[source])} "
                           f"THEN CAST(floor(CAST({v[source]} AS DOUBLE) + 0.5::DOUBLE) AS INTEGER) END")
    occupancy = v["Occupancy"]
    columns["occupancy"] = (f"CASE WHEN NOT {_blank(occupancy)} "
                            f"THEN CAST(rtrim({occupancy}, '%') || 'e-2' AS DOUBLE) END")
    return columns


def _doubtful(layout: tuple) -> str:
    """True for a row the Python rules might read differently (or reject): such an object goes to Python. One regex
    over the row's cells joined by `|` (a `|` inside a cell breaks the match: doubtful too), a third of the cost of
    one regex per cell (and no capturing group: RE2 is several times faster without)."""
    v = {name: _value(layout, name) for name in _USED}
    times = [v["StartInterval"], v["EndInterval"]]
    numbers = [v[c] for c in _DURATIONS.values()] + [v["Occupancy"]]
    row = " || '|' || ".join(times + [f"coalesce({n}, '')" for n in numbers])
    cells = [_TIME] * 2 + [f"(?:-|{_DURATION})?"] * len(_DURATIONS) + [f"(?:-|{_PERCENT})?"]
    pattern = r"\|".join(f"(?:{cell})" for cell in cells)
    return (f"{_blank(v['Agent'])} OR NOT coalesce(regexp_full_match({row}, '{pattern}')"
            f" AND TRY_CAST({times[0]} AS TIMESTAMPTZ) IS NOT NULL"
            f" AND TRY_CAST({times[1]} AS TIMESTAMPTZ) IS NOT NULL, "
            "false)")


def _read_csv(paths: list[str], width: int) -> str:
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    return (f"read_csv([{', '.join(sql_text(p) for p in paths)}], header = false, skip = 1, delim = ',', "
            f"quote = '\"', escape = '\"', columns = {columns}, auto_detect = false, strict_mode = true, "
            "filename = true)")


def stage_report_body(body: memoryview, header: list[str], header_size: int, max_record: int, key: str,
                      last_modified: datetime) -> ReportFile | None:
    """The object as a file DuckDB reads exactly as Python would, or None: parse it in Python."""
    layout = _layout(header, strip_sql(body))
    lines = lines_fit(body, max_record)
    if layout is None or lines is None or len(lines[0].rstrip(b"\r")) != header_size or not csv_quoting_agrees(lines):
        return None
    expected = sum(1 for line in lines[1:] if line not in (b"", b"\r"))  # csv skips empty lines
    staged = StagedFile(body, ".csv")
    try:
        # fetchall, not fetchone: an unfinished result would block the connection's next reader (crm_batch's)
        (rows, doubtful), = scratch_con().execute(
            f"SELECT count(*), count(*) FILTER (WHERE {_doubtful(layout)}) FROM {_read_csv([staged.path], layout[0])}"
        ).fetchall()
    except duckdb.Error:
        rows, doubtful = -1, 0
    if rows != expected or doubtful:
        staged.discard()
        return None
    return ReportFile(staged, layout, rows, key, last_modified)


def report_files_sql(con, files: list[ReportFile]) -> list[str]:
    """SELECTs of the typed rows of `files`, one read per header layout (usually one), for merge to union."""
    con.register("_report_file_names", pa.table({
        "path": [f.staged.path for f in files], "source_key": [f.key for f in files],
        "source_last_modified": pa.array([f.last_modified for f in files], pa.timestamp("us", tz="UTC"))}))
    selects = []
    for layout in dict.fromkeys(f.layout for f in files):
        paths = [f.staged.path for f in files if f.layout == layout]
        typed = ", ".join(f"{expr} AS {name}" for name, expr in _typed_columns(layout).items())
        selects.append(f"""SELECT {typed}, n.source_key, n.source_last_modified::TIMESTAMPTZ AS source_last_modified
                           FROM {_read_csv(paths, layout[0])} r JOIN _report_file_names n ON r.filename = n.path""")
    return selects
