"""The scheduled historical agent report `TeleoptiAgentPerformance` (docs/connect-inputs.md §3).

Runs every 30 minutes for the previous 2 hours (so consecutive files overlap), lands ~15 minutes after
its schedule as `reports/TeleoptiAgentPerformance-<UTC creation time>.csv`, one row per agent and
30-minute UTC interval with online time. Values come from the same state timeline as the agent events,
bucketed by the rules of "Deriving agent time from snapshots".
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from .clock import iso_ms, iso_s
from .timeline import CONNECTING_B, IDLE_B, NONPROD_B, ON_CONTACT_B, buckets
from .world import World

HEADER = ["Agent", "StartInterval", "EndInterval", "Agent Name", "Agent on contact time", "Agent idle time",
          "Non-Productive Time", "Online time", "Occupancy"]
INTERVAL_MS = 1_800_000
REPORT = "TeleoptiAgentPerformance"


@dataclass
class AgentIntervals:
    starts: np.ndarray  # interval starts (ms), ascending
    on_contact: np.ndarray  # agents × intervals, seconds
    idle: np.ndarray
    nonprod: np.ndarray
    online: np.ndarray
    online_ms: np.ndarray
    nonprod_ms: np.ndarray


def agent_intervals(tl: dict, n_agents: int) -> AgentIntervals:
    agent, ms = tl["agent"], tl["ms"]
    if ms.size == 0:
        z = np.zeros((n_agents, 0), dtype=np.int64)
        return AgentIntervals(np.zeros(0, np.int64), z, z, z, z, z, z)
    b = buckets(tl["status"], tl["cstate"], tl["etype"])
    same_next = np.zeros(ms.size, dtype=bool)
    same_next[:-1] = agent[1:] == agent[:-1]
    dur = np.where(same_next, np.append(ms[1:], 0) - ms, 0)
    lo = int(ms.min()) // INTERVAL_MS * INTERVAL_MS
    hi = -(-int(ms.max()) // INTERVAL_MS) * INTERVAL_MS
    bounds = np.arange(lo, hi + 1, INTERVAL_MS, dtype=np.int64)
    keys = agent * (1 << 42) + (ms - lo)
    first_row = np.searchsorted(agent, np.arange(n_agents))
    q = (np.arange(n_agents)[:, None] * (1 << 42) + (bounds - lo)[None, :])
    j = np.searchsorted(keys, q.ravel(), side="right").reshape(q.shape) - 1
    valid = (j >= 0) & (agent[np.maximum(j, 0)] == np.arange(n_agents)[:, None])
    jj = np.maximum(j, 0)

    def cumulative(bucket: int) -> np.ndarray:  # ms spent in `bucket` up to each boundary
        d = np.where(b == bucket, dur, 0)
        c = np.concatenate([[0], np.cumsum(d)])
        inside = np.where((b[jj] == bucket) & same_next[jj], bounds[None, :] - ms[jj], 0)
        base = c[np.minimum(first_row, ms.size)][:, None]
        return np.where(valid, c[jj] - base + inside, 0)

    f = {k: cumulative(k) for k in (ON_CONTACT_B, IDLE_B, NONPROD_B, CONNECTING_B)}
    f_online = f[ON_CONTACT_B] + f[IDLE_B] + f[NONPROD_B] + f[CONNECTING_B]
    sec = lambda x: np.diff(np.rint(x / 1000.0).astype(np.int64), axis=1)  # noqa: E731
    return AgentIntervals(bounds[:-1], sec(f[ON_CONTACT_B]), sec(f[IDLE_B]), sec(f[NONPROD_B]), sec(f_online),
                          np.diff(f_online, axis=1), np.diff(f[NONPROD_B], axis=1))


def report_files(rng: np.random.Generator, world: World, ai: AgentIntervals, t0: int, t1: int):
    """(delivery time, key, body, rows) for every run from the first schedule after `t0` until the window
    ends and every interval with online time has been reported at least once."""
    names = sorted(range(len(world.agents)), key=lambda a: world.agents[a].username)
    first = (t0 * 1000 // INTERVAL_MS + 1) * INTERVAL_MS
    last = -(-t1 * 1000 // INTERVAL_MS) * INTERVAL_MS
    if ai.starts.size:
        last = max(last, int(ai.starts[-1]) + INTERVAL_MS)
    files = []
    for sched in range(first, last + 1, INTERVAL_MS):
        created = sched // 1000 + 900 + int(rng.integers(0, 60))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        cols = np.flatnonzero((ai.starts >= sched - 4 * INTERVAL_MS) & (ai.starts < sched))
        rows = 0
        for a in names:
            agent = world.agents[a]
            for k in cols:
                if ai.online_ms[a, k] <= 0:
                    continue
                onc, idle = int(ai.on_contact[a, k]), int(ai.idle[a, k])
                occ = f"{100.0 * onc / (onc + idle):.2f}%" if onc + idle > 0 else "-"
                npt = int(ai.nonprod[a, k]) if ai.nonprod_ms[a, k] > 0 else "-"
                start = int(ai.starts[k])
                writer.writerow([agent.username, iso_ms(start), iso_ms(start + INTERVAL_MS),
                                 f"{agent.first} {agent.last}", onc, idle, npt, int(ai.online[a, k]), occ])
                rows += 1
        stamp = iso_s(created).replace(":", "-")
        files.append((created, f"reports/{REPORT}-{stamp}.csv", out.getvalue().encode("utf-8"), rows))
    return files
