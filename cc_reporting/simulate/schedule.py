"""Agent shifts, breaks, lunch and training: when each agent logs in, goes Available, pauses and leaves.

Shift starts are spread over the day in proportion to the arrival curve (greedy fill of the 30-minute
staffing deficit, with a floor at night and three round-the-clock agents), so the centre is always open
and occupancy is similar at every hour. With a window shorter than a day only its part is kept: agents
on shift at the window start log in then, agents still on shift at its end log out then.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .demand import slot_weights
from .world import BREAK, LUNCH, MEETING, TRAINING

SLOT = 1800


@dataclass
class Shift:
    agent: int
    login: int  # LOGIN event (status Offline)
    start: int  # goes Available
    end: int  # scheduled end: Offline as soon as the current contact is done
    breaks: list = field(default_factory=list)  # (due time, status, duration seconds), in time order


def assign_slots(rng: np.random.Generator, n_agents: int, lengths: np.ndarray) -> np.ndarray:
    """Start slot (0..47) of each agent's daily shift, following the demand curve."""
    w = slot_weights()
    w = np.maximum(w, 0.15 * w.mean())
    target = w / w.sum() * lengths.sum()
    cover = np.zeros(48)
    slots = np.zeros(n_agents, dtype=int)
    for i, fixed in zip(range(min(3, n_agents)), (0, 16, 32)):
        slots[i] = fixed
        cover[(fixed + np.arange(lengths[i])) % 48] += 1
    for i in range(3, n_agents):
        length = int(lengths[i])
        deficit = np.concatenate([target - cover, (target - cover)[:length]])
        cs = np.concatenate([[0.0], np.cumsum(deficit)])
        score = cs[length:length + 48] - cs[:48]
        best = int(np.argmax(score + rng.random(48) * 1e-6))
        slots[i] = best
        cover[(best + np.arange(length)) % 48] += 1
    return slots


def build_shifts(rng: np.random.Generator, n_agents: int, t0: int, t1: int) -> list[Shift]:
    lengths = np.where(rng.random(n_agents) < 0.1, 12, 16)  # slots: 6 h part-timers, else 8 h
    slots = assign_slots(rng, n_agents, lengths)
    shifts: list[Shift] = []
    for day in range(t0 // 86400 - 1, (t1 - 1) // 86400 + 1):
        for a in range(n_agents):
            start = day * 86400 + int(slots[a]) * SLOT
            end = start + int(lengths[a]) * SLOT
            jitter = rng.integers(0, 1000, size=12)
            if end <= t0 or start >= t1:
                continue
            shift = _shift(a, start, end, int(lengths[a]), jitter, t0, t1)
            if shift is not None:
                shifts.append(shift)
    shifts.sort(key=lambda s: (s.login, s.agent))
    return shifts


def _shift(a: int, start: int, end: int, length: int, j: np.ndarray, t0: int, t1: int) -> Shift | None:
    if start < t0:
        login, avail = t0, t0 + 5 + int(j[0]) % 55
    else:
        login = max(t0, start - 30 - int(j[0]) % 240)
        avail = max(login + 3, start - 60 + int(j[1]) % 240)
    leave = min(end - 60 + int(j[2]) % 300, t1)
    if leave <= avail + 60:
        return None
    plan = [(2 * 3600 - 900 + int(j[3]) % 1800, BREAK, 840 + int(j[4]) % 240),
            (4 * 3600 - 1200 + int(j[5]) % 2400, LUNCH, 1800 if j[6] % 3 else 2700)]
    if length >= 16:
        plan.append((6 * 3600 - 900 + int(j[7]) % 1800, BREAK, 840 + int(j[8]) % 240))
    if j[9] % 10 == 0:
        plan.append((5 * 3600 + 900, TRAINING, 3600))
    elif j[9] % 20 == 1:
        plan.append((3600, MEETING, 1800))
    breaks = sorted((start + off, status, dur) for off, status, dur in plan)
    breaks = [b for b in breaks if avail < b[0] < leave - 900]
    return Shift(a, login, avail, leave, breaks)
