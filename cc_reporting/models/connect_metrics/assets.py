"""The Connect-named metrics (`connect_metrics`, the 15-minute intervals of a day) and their reconciliation with
Connect's own `GetMetricDataV2` (`connect_reconciliation`, per day, off unless started: its schedule is stopped).

Both are daily: Connect counts a contact when it disconnects, and a contact record lands only after its
after-contact work, so an interval's numbers settle well after the interval; a day's build costs about five
15-minute builds."""

from datetime import datetime, timezone

import dagster as dg

from cc_reporting.ingest.automation import starts_by_itself
from cc_reporting.metadata import markdown_table, table_metadata
from cc_reporting.models.connect_metrics import build, columns, connect_api, reconciliation
from cc_reporting.partitions import daily_partitions
from cc_reporting.resources.warehouse import WAREHOUSE_POOL, Warehouse
from cc_reporting.settings import load_settings
from cc_reporting.staging.schema import ensure_staging_tables

_COMMON = dict(group_name="connect_metrics", pool=WAREHOUSE_POOL, kinds={"duckdb"},
               backfill_policy=dg.BackfillPolicy.single_run())
CHECK = "connect_numbers_within_tolerance"


def _build(con, settings, start, end) -> int:
    ensure_staging_tables(con, settings.pii_salt)
    con.execute("BEGIN TRANSACTION")
    rows = build.build_connect_metrics(con, start, end, settings.sla_seconds, settings.rta_dir)
    con.execute("COMMIT")
    return rows


@dg.asset(partitions_def=daily_partitions, deps=["stg_ctr", "agent_state_intervals"], **_COMMON,
          metadata={"dagster/column_schema": columns.metrics_schema()},
          description="Amazon Connect's historical metrics under Connect's names per 15-minute UTC interval and "
                      "queue, agent, routing profile and hierarchy level, for a day (docs/connect-metrics.md).")
def connect_metrics(context: dg.AssetExecutionContext, warehouse: Warehouse):
    window = context.partition_time_window
    settings = load_settings()
    with warehouse.connect() as con:
        rows = _build(con, settings, window.start, window.end)
        metadata = {"rows_in_window": rows, **table_metadata(
            con, build.VIEWS["QUEUE"], "SELECT interval_start, group_name, contacts_queued, contacts_handled, "
            "contacts_abandoned, service_level, avg_handle_time FROM connect_metrics_queue_15min "
            "ORDER BY interval_start DESC, group_name LIMIT 5")}
    return dg.MaterializeResult(metadata=metadata)


def _instance(settings) -> tuple[str, str]:
    arn = settings.connect_instance_arn
    if not arn:
        raise dg.Failure("CC_CONNECT_INSTANCE_ARN is not set: name the Connect instance to reconcile with")
    region = settings.connect_region or (arn.split(":")[3] if arn.count(":") >= 5 else "")
    if not region:
        raise dg.Failure(f"no region in {arn!r}: set CC_CONNECT_REGION")
    return arn, region


@dg.asset(partitions_def=daily_partitions, deps=["connect_metrics"], **_COMMON,
          metadata={"dagster/column_schema": columns.reconciliation_schema()},
          check_specs=[dg.AssetCheckSpec(CHECK, asset="connect_reconciliation",
                                         description="Every metric of every interval and queue is within "
                                                     "CC_RECONCILE_TOLERANCE_PCT of Connect's GetMetricDataV2")],
          description="Our Connect-named queue metrics against Connect's GetMetricDataV2 (FIFTEEN_MIN, by queue) "
                      "for the day's intervals: ours, Connect's and the difference per metric.")
def connect_reconciliation(context: dg.AssetExecutionContext, warehouse: Warehouse):
    settings = load_settings()
    arn, region = _instance(settings)
    window = connect_api.reconcilable_window(context.partition_time_window.start, context.partition_time_window.end,
                                             datetime.now(timezone.utc))
    if window is None:
        raise dg.Failure("the day is outside what GetMetricDataV2 serves (the last 3 months, up to now)")
    start, end = window
    # Our side is rebuilt first, so contacts that arrived late are in; the warehouse is not held during the calls.
    with warehouse.connect() as con:
        _build(con, settings, start, end)
        # Agents' own queues (direct transfers) are left out: the console reports standard queues.
        queues = [r[0] for r in con.execute(
            f"""SELECT DISTINCT group_id FROM {build.TABLE} WHERE dimension = 'QUEUE' AND interval_start >= ?
                AND interval_start < ? AND group_id NOT IN (SELECT queue_id FROM stg_ctr
                                                             WHERE is_agent_queue AND queue_id IS NOT NULL)
                ORDER BY 1""", [start.replace(tzinfo=None), end.replace(tzinfo=None)]).fetchall()]
    pages = (connect_api.request_pages(arn, region, settings.connect_endpoint_url, start, end, queues,
                                       settings.sla_seconds) if queues else [])
    values = connect_api.connect_values(pages)
    with warehouse.connect() as con:
        con.execute("BEGIN TRANSACTION")
        rows = reconciliation.write_reconciliation(con, start, end, queues, values, settings.reconcile_tolerance_pct)
        con.execute("COMMIT")
        off = reconciliation.out_of_line(con, start, end)
        unknown = con.execute(f"SELECT count(*) FROM {reconciliation.RECONCILIATION} WHERE status = 'unknown' "
                              "AND interval_start >= ? AND interval_start < ?",
                              [start.replace(tzinfo=None), end.replace(tzinfo=None)]).fetchone()[0]
    yield dg.MaterializeResult(metadata={
        "rows": rows, "queues": len(queues), "api_pages": len(pages), "connect_values": len(values),
        "beyond_tolerance": len(off), "unknown": unknown, "tolerance_pct": settings.reconcile_tolerance_pct})
    yield dg.AssetCheckResult(
        check_name=CHECK, passed=not off, severity=dg.AssetCheckSeverity.WARN,
        metadata={"out_of_line": len(off), "tolerance_pct": settings.reconcile_tolerance_pct,
                  "examples": dg.MetadataValue.md(markdown_table(
                      ["interval", "queue", "metric", "ours", "connect", "difference", "status"], off[:20]))})


connect_reconciliation_job = dg.define_asset_job(
    "connect_reconciliation_job", selection=dg.AssetSelection.assets(connect_reconciliation),
    partitions_def=daily_partitions,
    description="One local day of our Connect-named metrics against GetMetricDataV2 (needs CC_CONNECT_INSTANCE_ARN).")
# Off by default: it calls the Connect API of a real instance. Start it in the UI once CC_CONNECT_INSTANCE_ARN is set.
connect_reconciliation_schedule = dg.build_schedule_from_partitioned_job(
    connect_reconciliation_job, name="connect_reconciliation_schedule", hour_of_day=6, minute_of_hour=15,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Daily at 06:15 (CC_REPORT_TIMEZONE): reconcile the previous day with Connect. STOPPED by default: "
                "start it in Automation once CC_CONNECT_INSTANCE_ARN is set.")

connect_metrics_job = dg.define_asset_job(
    "connect_metrics_job", selection=dg.AssetSelection.assets(connect_metrics), partitions_def=daily_partitions,
    description="Connect's historical metrics of one local day (connect_metrics_15min and its views).")
# The day's contact records have landed (after their ACW) and the daily KPIs ran at 01:00.
connect_metrics_schedule = dg.build_schedule_from_partitioned_job(
    connect_metrics_job, name="connect_metrics_schedule", hour_of_day=1, minute_of_hour=15,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily at 01:15 (CC_REPORT_TIMEZONE): the previous day's metrics under Connect's names. "
                + starts_by_itself("schedule", "connect_metrics_schedule"))

