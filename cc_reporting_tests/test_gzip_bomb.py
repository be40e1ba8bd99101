"""A gzip bomb among good objects: ~1 MB of gzip expanding to 1 GiB is quarantined, the good objects staged, and
the staging process never holds the expansion (its peak RSS stays under 1 GB with the default bounds)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib

from cc_reporting.resources.landing import LandingZone

from .conftest import concat, fixture_json

GiB = 1024**3
BOMB_KEY = "ctr/2026/01/05/09/bomb"

# Stages every landing object with stg_ctr through dg.materialize, in a process of its own, and prints the outcome.
_STAGE = """
import json, sys
import dagster as dg
from cc_reporting.resources.landing import LandingZone
from cc_reporting.resources.warehouse import Warehouse
from cc_reporting.staging.assets import stg_ctr
landing, warehouse = LandingZone(uri=sys.argv[1]), Warehouse(database=sys.argv[2])
result = dg.materialize([stg_ctr], resources={"landing": landing, "warehouse": warehouse})
with warehouse.connect() as con:
    ids = [r[0] for r in con.execute("SELECT contact_id FROM stg_ctr").fetchall()]
    ledger = {k: [s, e] for k, s, e in con.execute("SELECT object_key, status, error FROM ingest_ledger").fetchall()}
# VmHWM: the peak RSS of this process image alone (ru_maxrss would also count the test process it was forked from)
peak_kib = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"success": result.success, "ids": sorted(ids), "ledger": ledger, "peak_bytes": peak_kib * 1024}))
"""


def gzip_of_zeros(size: int) -> bytes:
    """A gzip stream of `size` zero bytes, compressed a MiB at a time (never `size` bytes in memory)."""
    packer, piece, parts = zlib.compressobj(9, zlib.DEFLATED, 31), bytes(1024 * 1024), []
    for _ in range(size // len(piece)):
        parts.append(packer.compress(piece))
    parts.append(packer.flush())
    return b"".join(parts)


def test_gzip_bomb_is_quarantined_in_bounded_memory_and_the_good_objects_staged(tmp_path):
    landing = LandingZone(uri=str(tmp_path / "landing"))
    bomb = gzip_of_zeros(GiB)
    assert len(bomb) < 1.1 * 1024 * 1024
    landing.write(BOMB_KEY, bomb)
    good = {}
    for n in range(6):  # before and after the bomb in key order, plain and gzip'd
        cid = f"good-{n}"
        body = concat(dict(fixture_json("sample_ctr.json"), ContactId=cid))
        key = f"ctr/2026/01/05/0{8 + n % 2 * 2}/good-{n}"
        landing.write(key, zlib.compress(body, 6, 31) if n % 2 else body)
        good[key] = cid
    env = {k: v for k, v in os.environ.items() if k not in ("CC_MAX_DECOMPRESSED_BYTES", "CC_MAX_RECORD_BYTES")}
    staged = subprocess.run(
        [sys.executable, "-c", _STAGE, str(tmp_path / "landing"), str(tmp_path / "warehouse.duckdb")],
        capture_output=True, env=env, timeout=300)
    assert staged.returncode == 0, staged.stderr.decode()[-2000:]
    out = staged.stdout
    outcome = json.loads(out.decode().strip().splitlines()[-1])
    peak = outcome["peak_bytes"]
    print(f"\ngzip bomb: {len(bomb):,} bytes of gzip for {GiB:,} bytes; staging peak RSS {peak / 2**20:.0f} MiB")
    assert peak < 10**9
    assert outcome["success"]
    assert outcome["ids"] == sorted(good.values())
    assert outcome["ledger"][BOMB_KEY] == [
        "quarantined", "decompressed body over max_decompressed_bytes (268435456 bytes, CC_MAX_DECOMPRESSED_BYTES)"]
    assert all(outcome["ledger"][key] == ["ingested", None] for key in good)
    reason = (tmp_path / "landing" / "quarantine" / f"{BOMB_KEY}.reason.txt").read_text()
    assert "max_decompressed_bytes" in reason
