"""`cc-reporting`: simulate, run and demo (README.md, "Running it")."""
from __future__ import annotations

import argparse
import shutil
import signal
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cc_reporting.settings import load_settings


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def cmd_simulate(args) -> int:
    from cc_reporting.resources.landing import LandingZone
    from cc_reporting.simulate import simulate

    if args.speed is not None and (not args.live or args.speed <= 0):
        print("cc-reporting simulate: --speed needs --live and a positive number", file=sys.stderr)
        return 2
    settings = load_settings()
    landing = LandingZone(uri=args.landing or settings.landing_uri, endpoint_url=settings.aws_endpoint_url,
                          kms_key_id=settings.kms_key_id)
    start = _utc(args.start) if args.start else datetime.now(timezone.utc).replace(second=0, microsecond=0)
    summary = simulate(start, args.hours, args.agents, args.seed, landing, settings.agent_events,
                       live=args.live, speed=args.speed, progress=True)
    print(f"simulated {summary.contacts} contacts ({summary.ctr_objects} CTR objects), "
          f"{summary.report_files} agent reports, {summary.agent_events} agent events into {landing.uri}")
    return 0


def _interrupted(error: BaseException) -> int:
    from cc_reporting.pipeline import Stopped

    signo = error.signo if isinstance(error, Stopped) else signal.SIGINT
    print(f"cc-reporting run: stopped by {signal.Signals(signo).name}; unfinished Dagster runs marked canceled, "
          "run it again to continue (finished steps are kept)", file=sys.stderr)
    return 128 + signo


def cmd_run(args) -> int:
    from dagster._core.errors import DagsterExecutionInterruptedError

    from cc_reporting.pipeline import Stopped, run_window, stop_on_signals

    start = _utc(args.start) if args.start else None
    end = _utc(args.end) if args.end else None
    stop_on_signals()
    try:
        result = run_window(start, end, progress=True)
    except (Stopped, KeyboardInterrupt, DagsterExecutionInterruptedError) as error:
        return _interrupted(error)
    print(result.summary_text())
    return 0 if result.success else 1


def cmd_demo(args) -> int:
    from cc_reporting.pipeline import run_window
    from cc_reporting.resources.landing import LandingZone
    from cc_reporting.simulate import simulate

    settings = load_settings()
    if settings.landing_uri.startswith("s3://"):
        print("cc-reporting demo runs on local folders; unset CC_LANDING_URI", file=sys.stderr)
        return 2
    # A fresh day: the demo owns the local data folders and starts from nothing.
    for folder in (settings.landing_uri, Path(settings.warehouse_path).parent, settings.export_dir,
                   settings.teleopti_outbox, settings.agent_events, settings.rta_dir):
        shutil.rmtree(folder, ignore_errors=True)
    day = (datetime.now(timezone.utc) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    print(f"simulating {args.agents} agents on {day:%Y-%m-%d} (UTC) ...")
    landing = LandingZone(uri=settings.landing_uri)
    summary = simulate(day, 24, args.agents, args.seed, landing, settings.agent_events, progress=True)
    print(f"  {summary.contacts} contacts in {summary.ctr_objects} Firehose objects, "
          f"{summary.report_files} agent reports, {summary.agent_events} agent events")
    result = run_window(day, day + timedelta(days=1), progress=True)
    print(result.summary_text())
    return 0 if result.success else 1


def cmd_restore(args) -> int:
    from cc_reporting.archive.assets import restore_command

    return restore_command(args.date)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cc-reporting", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser("simulate", help="write realistic Amazon Connect data into the landing zone")
    sim.add_argument("--start", help="UTC start, ISO-8601 (default: now)")
    sim.add_argument("--hours", type=float, default=24)
    sim.add_argument("--agents", type=int, default=50)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--landing", help="landing zone URI (default: CC_LANDING_URI)")
    sim.add_argument("--live", action="store_true", help="keep writing in real time")
    sim.add_argument("--speed", type=float, help="with --live: replay from --start N times faster than real time "
                                                  "(10 = ten times the normal arrival rate)")
    sim.set_defaults(func=cmd_simulate)
    run = sub.add_parser("run", help="materialize the asset graph for a UTC window through Dagster")
    run.add_argument("--start", help="UTC window start, ISO-8601 (default: everything landed)")
    run.add_argument("--end", help="UTC window end, ISO-8601")
    run.set_defaults(func=cmd_run)
    demo = sub.add_parser("demo", help="a fresh simulated local day, run end to end, and where the outputs are")
    demo.add_argument("--agents", type=int, default=50)
    demo.add_argument("--seed", type=int, default=42)
    demo.set_defaults(func=cmd_demo)
    restore = sub.add_parser("restore", help="put an archived day's landing objects back, byte for byte")
    restore.add_argument("--date", required=True, help="UTC day, YYYY-MM-DD")
    restore.set_defaults(func=cmd_restore)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
