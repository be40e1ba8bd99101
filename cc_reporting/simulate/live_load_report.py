"""The live-load report: is the backlog bounded, and the Markdown written to `benchmarks/LOAD.md`."""
from __future__ import annotations

import os
import platform
import resource
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from .live_load import LANDING_PREFIXES, LoadResult, Sample

CRITERION = (
    "**Bounded** means both: (1) the largest backlog in the last third of the contact window (steady arrival; the "
    "tail of late deliveries left out) is at most the largest backlog in its first third plus one sensor batch (the "
    "largest batch any landing sensor requested in this run) — the pipeline does not fall further behind as arrival "
    "goes on; and (2) after arrival stops, the backlog drains to 0 (every landed object is in the ingestion ledger) "
    "within the drain limit. Backlog = landing objects (key + ETag, under ctr/, reports/, channels/, crm/) that the "
    "ingestion ledger does not hold yet."
)


def window_samples(result: LoadResult) -> list[Sample]:
    """Samples while the simulated contact window was landing (wall time since landing began < minutes)."""
    lo = result.landing_began or 0.0
    return [s for s in result.samples if s.arriving and lo <= s.wall <= lo + result.config.minutes * 60]


def verdict(result: LoadResult) -> tuple[bool, str]:
    """(bounded, why) by the CRITERION above."""
    samples = window_samples(result)
    if len(samples) < 3 or result.arrival_ended is None:
        return False, "too few samples during the contact window to judge"
    lo, hi = samples[0].wall, samples[-1].wall
    third = (hi - lo) / 3
    first = max(s.backlog for s in samples if s.wall <= lo + third)
    last = max(s.backlog for s in samples if s.wall >= hi - third)
    batch = max([r.objects for r in result.runs] + [1])
    growing = last > first + batch
    why = (f"max backlog {first} in the first third, {last} in the last third (slack: one batch = {batch}); "
           + (f"drained to 0 in {result.drain_seconds:.0f} s after arrival stopped" if result.drain_seconds is not None
              else "did NOT drain within the limit"))
    return (not growing and result.drain_seconds is not None), why


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import dagster
    import duckdb

    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, Dagster {dagster.__version__}")


def _by_prefix(sample: Sample | None) -> str:
    parts = [f"{p} {n}" for p, n in sample.waiting.items() if n] if sample else []
    return f" ({', '.join(parts)})" if parts else ""


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header, rows) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def backlog_table(result: LoadResult, max_rows: int = 40) -> list[str]:
    samples = result.samples
    step = max(1, -(-len(samples) // max_rows))
    shown = samples[::step] + ([samples[-1]] if samples and (len(samples) - 1) % step else [])
    header = ["wall s", "simulated (UTC)", *LANDING_PREFIXES, "landed", "in ledger", "backlog", "runs", "run s", ""]
    rows = [[f"{s.wall:.0f}", f"{s.sim:%H:%M:%S}", *(s.landed[p] for p in LANDING_PREFIXES), s.landed_total,
             s.ledger, f"**{s.backlog}**", s.runs, f"{s.run_seconds:.0f}", "arriving" if s.arriving else "drain"]
            for s in shown]
    return _table(header, rows)


def runs_table(result: LoadResult) -> list[str]:
    by_job = defaultdict(list)
    for r in result.runs:
        by_job[(r.job, r.origin)].append(r)
    rows = []
    for (job, origin), runs in sorted(by_job.items(), key=lambda kv: -len(kv[1])):
        secs = [r.seconds for r in runs]
        rows.append([f"`{job}`", f"`{origin}`", len(runs), sum(not r.success for r in runs), f"{sum(secs):.1f}",
                     f"{sum(secs) / len(secs):.2f}", f"{max(secs):.2f}", sum(r.objects for r in runs) or "–"])
    return _table(["job", "requested by", "runs", "failed", "total s", "mean s", "max s", "objects staged"], rows)


def render(result: LoadResult, command: str) -> str:
    c, s = result.config, result.summary
    bounded, why = verdict(result)
    during = [x for x in result.samples if x.arriving]
    peak = max(result.samples, key=lambda x: x.backlog) if result.samples else None
    at_end = during[-1] if during else None
    last_left = next((x for x in reversed(result.samples) if x.backlog), None)
    run_s = sum(r.seconds for r in result.runs)
    arrival_s = (result.arrival_ended or 0) - (result.landing_began or 0)
    scheduled = [f"{name} {at:%H:%M}" for name, at in result.schedule_ticks]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        f"# Live load: {c.agents} agents at {c.speed:g}× normal arrival",
        "",
        f"- **machine** {machine()}; load average at the end {os.getloadavg()[0]:.2f} (1 min) — anything else "
        "running on the machine shows here",
        f"- **date** {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- **command** `{command}`",
        f"- **simulated** {c.start:%Y-%m-%d %H:%M} UTC + {c.sim_hours * 60:.0f} min of contacts ({c.minutes:g} wall "
        f"minutes, seed {c.seed}) + {c.tail_minutes:g} min of late deliveries; arrival stopped at simulated "
        f"{result.sim_end or c.start:%H:%M}; sensor intervals × {c.interval_scale:g}",
        "",
        f"## Verdict: {'bounded' if bounded else 'NOT bounded'}",
        "",
        why + ".",
        "",
        CRITERION,
        "",
        "| measure | value |",
        "|---|---|",
        f"| max backlog | **{peak.backlog if peak else 0}** objects (at {peak.wall if peak else 0:.0f} s, "
        f"simulated {peak.sim if peak else c.start:%H:%M}){_by_prefix(peak)} |",
        f"| backlog when arrival stopped | **{at_end.backlog if at_end else '–'}**{_by_prefix(at_end)} |",
        f"| drain after arrival stopped | **{result.drain_seconds:.0f} s**; the last to drain{_by_prefix(last_left)} |"
        if result.drain_seconds is not None
        else f"| drain after arrival stopped | not drained within {c.max_drain_seconds:.0f} s |",
        f"| arrival (wall) | {arrival_s:.0f} s (simulator compute before it: {result.landing_began or 0:.0f} s) |",
        f"| landed | {', '.join(f'{p} {result.samples[-1].landed[p]}' for p in LANDING_PREFIXES)} objects"
        + (f"; {s.contacts:,} contacts, {s.agent_events:,} agent events" if s else "") + " |",
        f"| runs | {len(result.runs)} ({sum(not r.success for r in result.runs)} failed), "
        f"{run_s:.0f} s running = {run_s / result.wall_seconds:.0%} of {result.wall_seconds:.0f} s wall |",
        f"| sensor ticks | {', '.join(f'{k} {v}' for k, v in sorted(result.sensor_ticks.items()))} "
        f"({result.tick_seconds:.1f} s evaluating sensors and schedules) |",
        f"| schedule ticks (simulated time) | {', '.join(scheduled) or 'none'} |",
        f"| RTA ticks (agent events) | {result.rta_ticks} ({result.rta_seconds:.1f} s) |",
        f"| simulator lateness | deliveries landed at most {result.simulator_max_late:.1f} s after they were due |",
        f"| peak RSS | {rss:.0f} MiB (simulator + Dagster + DuckDB, one process) |",
        "",
        "## Backlog over time",
        "",
        f"Sampled every {c.sample_seconds:g} s between runs (a run holds the foreground; the sample right after it "
        "shows what landed meanwhile), and after each run once arrival stopped.",
        "",
        *backlog_table(result),
        "",
        "## Runs by job",
        "",
        *runs_table(result),
        "",
    ]
    return "\n".join(lines)
