"""`connect_reconciliation`: per interval, queue and metric, our value, Connect's and the difference.

`status` says how they compare at the tolerance of the run (`CC_RECONCILE_TOLERANCE_PCT`, percent of Connect's
value): `match`, `beyond_tolerance`, `only_ours` / `only_connect` (an average one side has and the other has not;
a count missing on one side is 0 there), or `unknown` (the hold-disconnect metrics without agent events on our side).
"""
from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa

from cc_reporting.models.connect_metrics.build import HOLD_COLUMNS, TABLE
from cc_reporting.models.connect_metrics.connect_api import QUEUE_METRICS
from cc_reporting.resources.warehouse import arrow_view

RECONCILIATION = "connect_reconciliation"
DDL = f"""CREATE TABLE IF NOT EXISTS {RECONCILIATION} (
    interval_start TIMESTAMP NOT NULL, queue_id VARCHAR NOT NULL, metric VARCHAR NOT NULL, ours DOUBLE,
    connect DOUBLE, difference DOUBLE, difference_pct DOUBLE, status VARCHAR NOT NULL, tolerance_pct DOUBLE,
    checked_at TIMESTAMPTZ)"""
OUT_OF_LINE = ("beyond_tolerance", "only_ours", "only_connect")


def _ours_sql() -> str:
    return " UNION ALL ".join(
        f"SELECT interval_start, group_id AS queue_id, '{m.name}' AS metric, CAST({m.column} AS DOUBLE) AS ours "
        f"FROM {TABLE} WHERE dimension = 'QUEUE' AND interval_start >= $start AND interval_start < $end "
        f"AND list_contains($queues, group_id)"
        for m in QUEUE_METRICS)


def write_reconciliation(con, start: datetime, end: datetime, queues: list[str], connect_rows: list,
                         tolerance_pct: float) -> int:
    """Replace [start, end) of `connect_reconciliation` inside the caller's transaction with the comparison of the
    `queues` Connect was asked about; returns its rows."""
    con.execute(DDL)
    naive = {"start": start.astimezone(timezone.utc).replace(tzinfo=None),
             "end": end.astimezone(timezone.utc).replace(tzinfo=None)}
    arrow = pa.table({"interval_start": pa.array([r[0] for r in connect_rows], pa.timestamp("us")),
                      "queue_id": pa.array([r[1] for r in connect_rows], pa.string()),
                      "metric": pa.array([r[2] for r in connect_rows], pa.string()),
                      "connect": pa.array([r[3] for r in connect_rows], pa.float64())})
    counts = ", ".join(f"'{m.name}'" for m in QUEUE_METRICS if m.unit == "COUNT")
    wanted = ", ".join(f"'{m.name}'" for m in QUEUE_METRICS)
    hold = ", ".join(f"'{m.name}'" for m in QUEUE_METRICS if m.column in HOLD_COLUMNS)
    con.execute(f"DELETE FROM {RECONCILIATION} WHERE interval_start >= $start AND interval_start < $end", naive)
    with arrow_view(con, "_connect_values", arrow):
        con.execute(f"""
            INSERT INTO {RECONCILIATION}
            WITH joined AS (
                SELECT coalesce(o.interval_start, c.interval_start) AS interval_start,
                       coalesce(o.queue_id, c.queue_id) AS queue_id, coalesce(o.metric, c.metric) AS metric,
                       o.metric IS NOT NULL AS ours_row, o.ours, c.connect
                FROM ({_ours_sql()}) o
                FULL JOIN (SELECT * FROM _connect_values WHERE metric IN ({wanted}) AND list_contains($queues, queue_id)
                           AND interval_start >= $start AND interval_start < $end) c
                  USING (interval_start, queue_id, metric)),
            valued AS (
                SELECT interval_start, queue_id, metric,
                       CASE WHEN metric IN ({counts}) AND NOT ours_row THEN 0 ELSE ours END AS ours,
                       CASE WHEN metric IN ({counts}) THEN coalesce(connect, 0) ELSE connect END AS connect,
                       metric IN ({hold}) AND ours_row AND ours IS NULL AS unknown
                FROM joined)
            SELECT interval_start, queue_id, metric, ours, connect, ours - connect AS difference,
                   100.0 * abs(ours - connect) / nullif(abs(connect), 0) AS difference_pct,
                   CASE WHEN unknown THEN 'unknown'
                        WHEN ours IS NULL AND connect IS NULL THEN 'match'
                        WHEN connect IS NULL THEN 'only_ours'
                        WHEN ours IS NULL THEN 'only_connect'
                        WHEN abs(ours - connect) <= $tolerance / 100.0 * abs(connect) THEN 'match'
                        ELSE 'beyond_tolerance' END AS status,
                   $tolerance AS tolerance_pct, now() AS checked_at
            FROM valued""", {**naive, "tolerance": float(tolerance_pct), "queues": list(queues)})
    return con.execute(f"SELECT count(*) FROM {RECONCILIATION} WHERE interval_start >= $start "
                       "AND interval_start < $end", naive).fetchone()[0]


def out_of_line(con, start: datetime, end: datetime) -> list[tuple]:
    """The rows of [start, end) whose status is not a match (nor unknown), largest differences first."""
    naive = [start.astimezone(timezone.utc).replace(tzinfo=None), end.astimezone(timezone.utc).replace(tzinfo=None)]
    listed = ", ".join(f"'{s}'" for s in OUT_OF_LINE)
    return con.execute(
        f"""SELECT strftime(interval_start, '%Y-%m-%d %H:%M'), queue_id, metric, ours, connect, difference, status
            FROM {RECONCILIATION} WHERE interval_start >= ? AND interval_start < ? AND status IN ({listed})
            ORDER BY abs(coalesce(difference, 1e18)) DESC, 1, 2, 3""", naive).fetchall()
