"""Benchmark: one RTA sensor tick for 10,000 agents at 100 events/s (500 events per 5-second tick).

Measures `run_tick` end to end (cursor parse, normalise, dedupe, state fold, delta, Parquet + JSON + wallboard
+ state-log writes, cursor serialise) on a warm 10,000-agent state, against a baseline: the same 500-event
tick on an empty state. Source = in memory (stream I/O excluded). Prints a Markdown line with the medians.

    python benchmarks/rta_tick.py [--agents 10000] [--rate 100] [--interval 5] [--repeat 15]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cc_reporting.realtime.rta_sensor import run_tick  # noqa: E402

INSTANCE = "arn:aws:connect:eu-west-1:123456789012:instance/bench"
STATUSES = [("Available", "ROUTABLE", ()), ("Available", "ROUTABLE", ("CONNECTED",)),
            ("Available", "ROUTABLE", ("ENDED",)), ("Break", "CUSTOM", ()), ("Lunch", "CUSTOM", ())]


def raw_event(n: int, ts: datetime, k: int) -> bytes:
    name, stype, contacts = STATUSES[k % len(STATUSES)]
    return json.dumps({
        "AgentARN": f"{INSTANCE}/agent/a-{n:05d}", "EventId": str(uuid.uuid4()), "EventType": "STATE_CHANGE",
        "EventTimestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
        "CurrentAgentSnapshot": {
            "AgentStatus": {"Name": name, "Type": stype, "StartTimestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
            "Configuration": {"Username": f"agent.{n:05d}", "FirstName": "First", "LastName": f"Agent {n}",
                              "RoutingProfile": {"ARN": f"{INSTANCE}/routing-profile/rp",
                                                 "InboundQueues": [{"ARN": f"{INSTANCE}/queue/q1"}]}},
            "Contacts": [{"ContactId": f"c{n}", "State": s} for s in contacts]}}).encode()


class BatchSource:
    def __init__(self, batch):
        self.batch = batch

    def describe(self):
        return "bench"

    def read(self, positions, max_records):
        start = int((positions or {}).get("s", 0))
        return [("s", str(start + i + 1), r) for i, r in enumerate(self.batch)], {"s": str(start + len(self.batch))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=10_000)
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--interval", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    per_tick = args.rate * args.interval
    now = datetime.now(timezone.utc)
    now_ms = int(now.timestamp() * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        rta = Path(tmp) / "rta"
        warm = BatchSource([raw_event(n, now - timedelta(seconds=60), n) for n in range(args.agents)])
        warm_cursor = run_tick(None, warm, rta, now_ms, max_records=args.agents).cursor

        def tick_batch(r):
            return [raw_event((r * 7919 + i * 13) % args.agents, now + timedelta(milliseconds=i), r + i)
                    for i in range(per_tick)]

        warm_times, base_times = [], []
        for r in range(args.repeat):
            batch = tick_batch(r)
            t = time.perf_counter()
            run_tick(warm_cursor, BatchSource(batch), rta, now_ms + 5000)
            warm_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            run_tick(None, BatchSource(batch), Path(tmp) / "base", now_ms + 5000)
            base_times.append(time.perf_counter() - t)
        cursor_kb = len(warm_cursor) / 1024
        parquet_kb = (rta / "agent_state.parquet").stat().st_size / 1024
        html_kb = (rta / "wallboard.html").stat().st_size / 1024
    warm_ms, base_ms = statistics.median(warm_times) * 1000, statistics.median(base_times) * 1000
    print(f"| rta tick | {args.agents} agents warm, {per_tick} events ({args.rate}/s × {args.interval} s) | "
          f"median {warm_ms:.1f} ms (min {min(warm_times) * 1000:.1f}, max {max(warm_times) * 1000:.1f}, "
          f"n={args.repeat}) | baseline empty state, same {per_tick} events: median {base_ms:.1f} ms | "
          f"cursor {cursor_kb:.0f} KiB, parquet {parquet_kb:.0f} KiB, wallboard {html_kb:.0f} KiB |")


if __name__ == "__main__":
    main()
