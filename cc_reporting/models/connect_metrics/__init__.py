"""Amazon Connect's historical metrics under Connect's names, and their reconciliation with GetMetricDataV2."""
from cc_reporting.models.connect_metrics.assets import (
    connect_metrics,
    connect_metrics_job,
    connect_metrics_schedule,
    connect_reconciliation,
    connect_reconciliation_job,
    connect_reconciliation_schedule,
)
from cc_reporting.models.connect_metrics.dimension_assets import (
    connect_dimensions,
    connect_dimensions_job,
    connect_dimensions_schedule,
)

connect_metric_assets = [connect_metrics, connect_reconciliation, connect_dimensions]
# The check is declared on `connect_reconciliation` itself (check_specs): nothing separate to register.
connect_metric_checks: list = []
connect_metric_jobs = [connect_metrics_job, connect_reconciliation_job, connect_dimensions_job]
connect_metric_schedules = [connect_metrics_schedule, connect_reconciliation_schedule,
                            connect_dimensions_schedule]
