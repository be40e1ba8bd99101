"""Connect's historical metrics under Connect's names, their reconciliation with GetMetricDataV2 (off by default),
and the instance's names (dimensions) synced from its List* APIs."""
import dagster as dg

from cc_reporting.models.connect_metrics import connect_metric_assets, connect_metric_jobs, connect_metric_schedules

defs = dg.Definitions(assets=connect_metric_assets, jobs=connect_metric_jobs, schedules=connect_metric_schedules)
