"""The README's own sequence, as a newcomer types it: the demo, then a day months earlier, then `cc-reporting run`
with no window. It ends in bounded time with every interval of both days reported, each run covering one day at
most, every run under a named job, and the demo's day not reported twice."""
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("queue_stats", "agent_queue_stats", "contacts", "agent_performance")
INSTALL = "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && "
# `cc-reporting` as the installed entry point runs it: this checkout's CLI.
SHELL_PRELUDE = 'set -e\ncc-reporting() { "$PYTHON" -m cc_reporting.cli "$@"; }\n'
PROGRESS_LINE = re.compile(r"^\[\d+/\d+\] .+: (\w+) run ([0-9a-f]{8}) ok in [\d.]+ s$", re.MULTILINE)


def readme_blocks() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text(), re.DOTALL)


def readme_sequence() -> list[str]:
    """The demo command after its install, then the commands of "Running it" (the UI command left to
    test_dagster_ui.py); 5 agents instead of 50 (`--agents`, which the README documents), to keep the test short."""
    demo = readme_blocks()[0]
    assert demo.startswith(INSTALL), demo
    running = next(c for c in readme_blocks() if c.startswith("cc-reporting simulate"))
    lines = [line for line in running.splitlines() if " dg dev" not in line]
    assert [line.split()[1] for line in lines] == ["simulate", "run"], lines
    assert demo.endswith("cc-reporting demo"), demo
    return [demo[len(INSTALL):] + " --agents 5"] + [line.replace("--agents 50", "--agents 5") for line in lines]


def test_the_readme_sequence_reports_every_interval_of_both_days_one_day_per_run(tmp_path):
    # A checkout's layout: data/dagster/dagster.yaml links to the project's instance configuration.
    (tmp_path / "data" / "dagster").mkdir(parents=True)
    (tmp_path / "data" / "dagster" / "dagster.yaml").symlink_to(ROOT / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CC_") and k != "DAGSTER_HOME"}
    env.update(PYTHON=sys.executable, PYTHONPATH=str(ROOT))
    outputs, started = [], time.monotonic()
    for command in readme_sequence():
        done = subprocess.run(["bash", "-c", SHELL_PRELUDE + 'export DAGSTER_HOME="$PWD/data/dagster"\n' + command],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
        outputs.append(done.stdout.replace("\r", "\n") + done.stderr.replace("\r", "\n"))
    elapsed = time.monotonic() - started
    assert elapsed < 600, elapsed

    demo_day = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y%m%d")
    outbox = tmp_path / "data" / "outbox" / "teleopti"
    for day in (demo_day, "20260105"):
        for kind in KINDS:
            assert len(list((outbox / kind).glob(f"{kind}_{day}_*.csv"))) == 96, (kind, day)

    with dg.DagsterInstance.from_config(str(tmp_path / "data" / "dagster")) as instance:
        runs = instance.get_runs()
    assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    assert {r.job_name for r in runs} <= {"ingest_all", "ingest_and_interval_reports", "interval_reports",
                                          "teleopti_agent_performance_job", "kpi_daily_job"}
    ranges = [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
              for r in runs if "dagster/asset_partition_range_start" in r.tags]
    assert ranges and all(first[:10] == last[:10] for first, last in ranges), ranges

    # `cc-reporting run` reported the new day (and the next, where its late callbacks fall), not the demo's day
    # again; each of its runs is announced by one progress line.
    last_invocation = runs[0].tags["cc_reporting/invocation"]
    run_command = [r for r in runs if r.tags.get("cc_reporting/invocation") == last_invocation]
    days = {r.tags["dagster/asset_partition_range_start"][:10] for r in run_command
            if "dagster/asset_partition_range_start" in r.tags}
    demo_key = f"{demo_day[:4]}-{demo_day[4:6]}-{demo_day[6:]}"
    assert "2026-01-05" in days and demo_key not in days and days <= staged_days(tmp_path), days
    announced = PROGRESS_LINE.findall(outputs[-1])
    assert sorted(run_id for _, run_id in announced) == sorted(r.run_id[:8] for r in run_command), outputs[-1]
    assert f"days        {len(days)} with data not reported before: 2026-01-05" in outputs[-1], outputs[-1]


def staged_days(checkout: Path) -> set[str]:
    import duckdb

    with duckdb.connect(str(checkout / "data" / "warehouse" / "cc_reporting.duckdb"), read_only=True) as con:
        return {r[0] for r in con.execute(
            """SELECT DISTINCT strftime(timezone('UTC', t), '%Y-%m-%d') FROM (
                   SELECT coalesce(enqueue_ts, initiation_ts) AS t FROM stg_ctr
                   UNION ALL SELECT interval_start FROM stg_agent_report)""").fetchall()}
