"""Golden outputs of one fixed simulated day (seed 1, 200 agents, 2026-01-05 UTC).

A refactor or speed-up must change no number: the sha256 of every Teleopti file and Parquet export and of a sorted
dump of every table are recorded in `golden/seed1_200_agents.json` and compared by `test_golden_day.py`.
Columns that record *when* or *by which run* something happened (not what the data says) are left out of the
table dumps. Regenerate only for a change that is meant to change a number, and name it in the commit:

    python -m cc_reporting_tests.golden_day --write
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

DAY = datetime(2026, 1, 5, tzinfo=timezone.utc)
END = datetime(2026, 1, 6, tzinfo=timezone.utc)
AGENTS, SEED = 200, 1
GOLDEN = Path(__file__).with_name("golden") / "seed1_200_agents.json"

# Bookkeeping columns: wall-clock times and run ids differ on every run by design.
VOLATILE_COLUMNS = {"ingested_at", "run_id", "batch_id", "staged_at", "delivered_at", "updated_at", "refreshed_at",
                    "computed_at", "built_at", "created_at", "archived_at", "first_seen_at", "attempted_at",
                    # local landing ETags and the versions built from them carry file mtimes
                    "etag", "crm_version", "staged_through", "source_last_modified"}
# Tables that only record how a run went (timings, attempts), not results.
VOLATILE_TABLES = {"teleopti_delivery_attempts"}


def day_env(base: Path) -> dict[str, str]:
    return {"CC_PII_SALT": "golden-salt", "CC_DATA_DIR": str(base / "data"), "CC_LANDING_URI": str(base / "landing"),
            "CC_WAREHOUSE_PATH": str(base / "warehouse" / "cc.duckdb"), "CC_EXPORT_DIR": str(base / "exports"),
            "CC_TELEOPTI_OUTBOX": str(base / "outbox"), "CC_AGENT_EVENTS": str(base / "landing" / "agent-events"),
            "CC_RTA_DIR": str(base / "rta"), "CC_PARTITIONS_START": "2026-01-01", "CC_REPORT_TIMEZONE": "UTC"}


def run_day(base: Path) -> None:
    """Simulate the fixed day into `base` and run it end to end (the caller sets `day_env(base)`)."""
    from cc_reporting.delivery.sftp import TeleoptiSftp
    from cc_reporting.pipeline import run_window
    from cc_reporting.resources.landing import LandingZone
    from cc_reporting.resources.warehouse import Warehouse
    from cc_reporting.simulate import simulate

    landing = LandingZone(uri=str(base / "landing"))
    simulate(DAY, 24, AGENTS, SEED, landing, str(base / "landing" / "agent-events"))
    resources = {"landing": landing, "warehouse": Warehouse(database=str(base / "warehouse" / "cc.duckdb")),
                 "teleopti_sftp": TeleoptiSftp()}
    result = run_window(DAY, END, resources=resources)
    if not result.success:
        raise RuntimeError(f"golden day run failed: {result.failures}")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files(root: Path, pattern: str) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): _sha(p.read_bytes()) for p in sorted(root.rglob(pattern)) if p.is_file()}


def table_digests(database: Path) -> dict[str, dict]:
    """Row count and sha256 of the sorted rows of every base table, bookkeeping columns left out."""
    import duckdb

    con = duckdb.connect(str(database), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    out = {}
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE' "
        "ORDER BY 1").fetchall()]
    for table in tables:
        if table in VOLATILE_TABLES:
            continue
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ? "
            "ORDER BY ordinal_position",
            [table]).fetchall() if r[0] not in VOLATILE_COLUMNS]
        select = ", ".join(f'"{c}"::VARCHAR' for c in columns)
        rows = con.execute(f'SELECT {select} FROM "{table}" ORDER BY ALL').fetchall()
        digest = hashlib.sha256()
        for row in rows:
            digest.update(json.dumps(row, default=str).encode() + b"\n")
        out[table] = {"rows": len(rows), "columns": columns, "sha256": digest.hexdigest()}
    con.close()
    return out


def parquet_digests(exports: Path) -> dict[str, str]:
    """sha256 of the sorted rows of every Parquet export (the bytes carry the writer's version, the rows do not)."""
    import duckdb

    con = duckdb.connect()
    out = {}
    for path in sorted(exports.rglob("*.parquet")):
        rows = con.execute(f"SELECT * FROM read_parquet('{path.as_posix()}') ORDER BY ALL").fetchall()
        out[path.relative_to(exports).as_posix()] = _sha(json.dumps(rows, default=str).encode())
    con.close()
    return out


def digests(base: Path) -> dict:
    return {"teleopti_files": _files(base / "outbox", "*.csv"),
            "parquet_exports": parquet_digests(base / "exports"),
            "tables": table_digests(base / "warehouse" / "cc.duckdb")}


def compare(expected: dict, actual: dict) -> list[str]:
    """Every difference, one line each (empty when the outputs are the same)."""
    problems = []
    for section in ("teleopti_files", "parquet_exports", "tables"):
        want, got = expected.get(section, {}), actual.get(section, {})
        for name in sorted(set(want) | set(got)):
            if name not in got:
                problems.append(f"{section}: {name} missing")
            elif name not in want:
                problems.append(f"{section}: {name} is new")
            elif want[name] != got[name]:
                problems.append(f"{section}: {name} differs: {want[name]} != {got[name]}"[:400])
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="record the golden outputs anew")
    parser.add_argument("--base", default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args(argv)
    import tempfile

    base = Path(args.base or tempfile.mkdtemp(prefix="golden-"))
    os.environ.update(day_env(base))
    run_day(base)
    actual = digests(base)
    if args.write:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
        print(f"wrote {GOLDEN}")
        return 0
    problems = compare(json.loads(GOLDEN.read_text()), actual)
    print("\n".join(problems) or "golden outputs unchanged")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
