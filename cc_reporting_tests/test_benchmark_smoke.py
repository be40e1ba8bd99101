"""Smoke run of benchmarks/run.py: a tiny day end to end, every row of the RESULTS table present."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ROWS = ["**limit**", "**baseline**", "**ours**", "stage CTRs", "run: staging + JAR/CAR + 15-min intervals",
        "inside `jar`", "inside `car`", "Teleopti queue statistics + files", "daily KPIs, Parquet exports, dashboard",
        "ours / limit", "baseline / ours", "**increment compute**", "**whole process**", "Dagster per-run overhead",
        "whole day ≤ 5× limit", "peak RSS ≤ 1 GB", "one increment ≤ 1 s compute", "**machine**", "**command**"]


def test_benchmark_smoke(tmp_path):
    results = tmp_path / "RESULTS.md"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--agents", "5", "--days", "1",
                    "--hours", "2", "--repeats", "1", "--no-history", "--work-dir", str(tmp_path / "work"),
                    "--results", str(results)], cwd=ROOT, check=True, timeout=300, capture_output=True)
    text = results.read_text()
    for row in ROWS:
        assert row in text, row
    assert "identical aggregates" in text          # the Python baseline computes what DuckDB computes
