"""Live load: the simulator at N× normal arrival while the project's sensors and schedules run, for a bounded time.

    python benchmarks/live_load.py --agents 200 --speed 10 --minutes 10 [--start ISO] [--work-dir DIR]
                                   [--results benchmarks/LOAD.md]

Prints one line per sample (simulated time, objects landed, in the ledger, backlog, runs) and writes a Markdown
report with the backlog over time, the runs by job and whether the backlog stayed bounded. The logic lives in
`cc_reporting.simulate.live_load` (tested by `cc_reporting_tests/test_live_load.py`); this is its command line.
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--speed", type=float, default=10, help="simulated seconds per wall second (10 = 10× arrival)")
    ap.add_argument("--minutes", type=float, default=10, help="wall minutes of contacts (simulated: minutes × speed)")
    ap.add_argument("--tail-minutes", type=float, default=30,
                    help="simulated minutes of late deliveries after the contacts (Firehose buffers, last report)")
    ap.add_argument("--start", help="simulated UTC start (default: the latest weekday 09:00 that fits in the past)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample-seconds", type=float, default=5)
    ap.add_argument("--interval-scale", type=float, default=1, help="× every sensor interval (for quick trials)")
    ap.add_argument("--max-drain-seconds", type=float, default=600)
    ap.add_argument("--work-dir", type=Path, default=Path("/tmp/cc-live-load"))
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "LOAD.md")
    args = ap.parse_args()

    # Settings are read when cc_reporting is imported: point them at the work dir first, and deliver nowhere.
    sys.path.insert(0, str(ROOT))
    from cc_reporting.simulate.live_load import WORK_SUBDIRS, work_dir_env

    for sub in WORK_SUBDIRS:  # a fresh run; only the folders this script owns are removed
        shutil.rmtree(args.work_dir / sub, ignore_errors=True)
    os.environ.update(work_dir_env(args.work_dir))
    os.environ.pop("CC_TELEOPTI_SFTP_HOST", None)

    from cc_reporting.simulate.live_load import LoadConfig, default_start, run_load
    from cc_reporting.simulate.live_load_report import render, verdict

    sim_hours = args.minutes * args.speed / 60
    span = sim_hours + args.tail_minutes / 60
    start = _utc(args.start) if args.start else default_start(datetime.now(timezone.utc), span)
    config = LoadConfig(work_dir=args.work_dir, start=start, agents=args.agents, speed=args.speed,
                        minutes=args.minutes, seed=args.seed, sample_seconds=args.sample_seconds,
                        interval_scale=args.interval_scale, max_drain_seconds=args.max_drain_seconds,
                        tail_minutes=args.tail_minutes)
    print(f"{args.agents} agents, {start:%Y-%m-%d %H:%M} UTC + {sim_hours * 60:.0f} min of contacts at "
          f"{args.speed:g}× → {span * 60 / args.speed:g} wall minutes of arrival; work dir {args.work_dir}", flush=True)

    def progress(s) -> None:
        print(f"{s.wall:6.0f} s  sim {s.sim:%H:%M:%S}  landed {s.landed_total:5d} "
              f"({' '.join(f'{p}{n}' for p, n in s.landed.items())})  ledger {s.ledger:5d}  "
              f"backlog {s.backlog:4d}  runs {s.runs:3d} ({s.run_seconds:.0f} s)"
              + ("" if s.arriving else "  [drain]"), flush=True)

    result = run_load(config, progress)
    command = "python benchmarks/live_load.py " + shlex.join(sys.argv[1:])
    args.results.write_text(render(result, command))
    bounded, why = verdict(result)
    print(f"{'bounded' if bounded else 'NOT bounded'}: {why}\nreport: {args.results}")
    return 0 if bounded else 1


if __name__ == "__main__":
    sys.exit(main())
