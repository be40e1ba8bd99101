"""Column schemas of the Connect metric tables, from the metric catalog: each metric column is described by its
definition and unit, written once in `catalog.py` (the YAML column catalog covers the other warehouse tables)."""
from __future__ import annotations

import dagster as dg

from cc_reporting.models.connect_metrics.build import KEY_COLUMNS
from cc_reporting.models.connect_metrics.catalog import CATALOG, column_types

_UNITS = {"COUNT": "count", "SECONDS": "seconds", "PERCENT": "percent 0-100"}
_KEYS = {
    "interval_start": "Start of the 15-minute interval (naive TIMESTAMP holding UTC).",
    "dimension": "Grouping of the row: QUEUE, AGENT, ROUTING_PROFILE or AGENT_HIERARCHY_LEVEL_ONE..FIVE.",
    "group_id": "Id of the group in its dimension (queue id, agent id, routing profile id or hierarchy group name).",
    "group_name": "Name of the group: a queue's in Connect (dim_queue), else the one on its latest contact record.",
    "threshold_s": "Service-level threshold the row's SERVICE_LEVEL used (seconds; CC_SLA_SECONDS).",
}
_RECONCILIATION = [
    ("interval_start", "TIMESTAMP", "Start of the 15-minute interval (naive TIMESTAMP holding UTC)."),
    ("queue_id", "VARCHAR", "Connect queue id."),
    ("metric", "VARCHAR", "GetMetricDataV2 metric name."),
    ("ours", "DOUBLE", "Our value of the metric (connect_metrics_15min), in the metric's unit."),
    ("connect", "DOUBLE", "The value GetMetricDataV2 returned, in the metric's unit."),
    ("difference", "DOUBLE", "ours - connect, in the metric's unit."),
    ("difference_pct", "DOUBLE", "|difference| as percent of Connect's value (percent; null when Connect's is 0)."),
    ("status", "VARCHAR", "match (within tolerance), beyond_tolerance, only_ours, only_connect or unknown (hold "
                          "metrics without agent events)."),
    ("tolerance_pct", "DOUBLE", "CC_RECONCILE_TOLERANCE_PCT when the row was checked (percent)."),
    ("checked_at", "TIMESTAMP WITH TIME ZONE", "When the reconciliation ran."),
]


def metrics_schema() -> dg.TableSchema:
    described = {m.column: f"{m.definition} ({_UNITS[m.unit]}; {m.name})" for m in CATALOG}
    columns = [dg.TableColumn(name, kind, description=_KEYS[name]) for name, kind in KEY_COLUMNS.items()]
    columns += [dg.TableColumn(name, kind, description=described[name]) for name, kind in column_types().items()]
    return dg.TableSchema(columns=columns)


def reconciliation_schema() -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name, kind, description=text)
                                   for name, kind, text in _RECONCILIATION])
