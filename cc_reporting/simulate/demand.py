"""When contacts arrive: a daily arrival curve (UTC) and a non-homogeneous Poisson process over it.

The curve is low at night and peaks late morning and mid-afternoon (a Nordic centre open around the
clock). Staffing (schedule.py) follows the same curve, so occupancy stays realistic all day.
"""
from __future__ import annotations

import numpy as np

# Relative arrival rate at the start of each UTC hour (interpolated linearly in between).
HOURLY = np.array([0.8, 0.5, 0.4, 0.4, 0.6, 1.2, 3.0, 6.0, 8.5, 10.0, 10.5, 9.5,
                   8.5, 9.5, 10.0, 9.0, 7.5, 6.0, 4.5, 3.5, 2.8, 2.2, 1.6, 1.1])

_MINUTE_WEIGHTS = np.interp(np.arange(1440) / 60.0, np.arange(25), np.append(HOURLY, HOURLY[0]))
_MINUTE_WEIGHTS = _MINUTE_WEIGHTS / _MINUTE_WEIGHTS.sum()


def minute_weights(t0: int, t1: int) -> tuple[np.ndarray, np.ndarray]:
    """Minute starts in [t0, t1) and each minute's share of a day's volume (clipped minutes pro rata)."""
    first = t0 - t0 % 60
    starts = np.arange(first, t1, 60, dtype=np.int64)
    weights = _MINUTE_WEIGHTS[(starts % 86400) // 60].copy()
    lo = np.maximum(starts, t0)
    hi = np.minimum(starts + 60, t1)
    return starts, weights * (hi - lo) / 60.0


def slot_weights() -> np.ndarray:
    """Each 30-minute slot's share of a day's volume (48 values summing to 1)."""
    return _MINUTE_WEIGHTS.reshape(48, 30).sum(axis=1)


def sample_times(rng: np.random.Generator, t0: int, t1: int, per_day: float) -> np.ndarray:
    """Sorted integer arrival times in [t0, t1) for a process with `per_day` expected arrivals a day."""
    starts, weights = minute_weights(t0, t1)
    counts = rng.poisson(weights * per_day)
    base = np.repeat(starts, counts)
    times = base + rng.integers(0, 60, size=base.size)
    times = times[(times >= t0) & (times < t1)]
    times.sort(kind="stable")
    return times
