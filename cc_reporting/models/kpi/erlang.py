"""Erlang C staffing (docs/kpis.md §6): agents on the phones needed to meet a service-level goal.

Pure Python: one pass of the Erlang B recursion per call, so a `kpi_interval` window of thousands of rows costs a few
milliseconds. `register_udf` exposes it to DuckDB so the mart stays one set-based INSERT.
"""
from __future__ import annotations

import math

from cc_reporting.settings import load_settings

UDF_NAME = "kpi_erlang_c_agents"


def erlang_settings(settings=None) -> tuple[float, float | None]:
    """(`CC_SL_TARGET`, `CC_MAX_OCCUPANCY`) from the settings, validated."""
    settings = settings if settings is not None and hasattr(settings, "sl_target") else load_settings()
    target, cap = settings.sl_target, settings.max_occupancy
    if not 0 < target <= 1:
        raise ValueError(f"CC_SL_TARGET must be in (0, 1], got {target}")
    if cap is not None and not 0 < cap <= 1:
        raise ValueError(f"CC_MAX_OCCUPANCY must be in (0, 1], got {cap}")
    return float(target), (None if cap is None else float(cap))


def _erlang_b(n: int, traffic: float) -> float:
    b = 1.0
    for k in range(1, n + 1):
        b = traffic * b / (k + traffic * b)
    return b


def _wait_probability(n: int, traffic: float, b_n: float) -> float:
    return n * b_n / (n - traffic * (1 - b_n))


def erlang_c(n: int, traffic: float) -> float:
    """C(N): probability that a contact waits; 1 when N <= A (the queue never drains)."""
    if n <= traffic:
        return 1.0
    return _wait_probability(n, traffic, _erlang_b(n, traffic))


def service_level(n: int, traffic: float, aht_s: float, target_s: float) -> float:
    """SL(N) = 1 − C(N)·exp(−(N − A)·T / AHT); 0 when N <= A."""
    if n <= traffic:
        return 0.0
    return 1.0 - erlang_c(n, traffic) * math.exp(-(n - traffic) * target_s / aht_s)


def erlang_c_required_agents(contacts, aht_s, interval_s=900, answer_target_s=20, sl_goal=0.80,
                             max_occupancy=None) -> int | None:
    """Smallest integer N > A with SL(N) >= goal and A / N <= cap; 0 without load; None when AHT is unknown."""
    if not contacts:
        return 0
    if aht_s is None:
        return None  # queued contacts but nothing answered: no handle time to staff for
    if aht_s <= 0:
        return 0
    aht_s = float(aht_s)  # DECIMAL inputs arrive as Decimal
    traffic = float(contacts) * aht_s / interval_s
    cap = 1.0 if max_occupancy is None else max_occupancy
    b = 1.0
    # SL(N) rises to 1 as N grows; the bound only guards against a goal floating point cannot reach.
    for n in range(1, int(traffic) + 100_000):
        b = traffic * b / (n + traffic * b)  # B_n from B_{n-1}, so each N costs O(1)
        if n <= traffic or traffic / n > cap:
            continue
        sl = 1.0 - _wait_probability(n, traffic, b) * math.exp(-(n - traffic) * answer_target_s / aht_s)
        if sl >= sl_goal:
            return n
    return None


def register_udf(con) -> str:
    """`kpi_erlang_c_agents(queued, aht_s, interval_s, target_s, goal, cap)` on this connection; returns its name.

    Special null handling: a null AHT with zero contacts must still give 0, and a null cap means "no cap".
    """
    exists = con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = ?", [UDF_NAME]).fetchall()[0][0]
    if not exists:
        con.create_function(
            UDF_NAME, erlang_c_required_agents,
            ["BIGINT", "DOUBLE", "BIGINT", "BIGINT", "DOUBLE", "DOUBLE"], "BIGINT",
            null_handling="special", side_effects=False)
    return UDF_NAME
