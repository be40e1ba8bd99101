"""KPI marts (`kpi_interval` per queue × 15 minutes, `kpi_daily` per local day), their BI exports and dashboard."""
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg

from cc_reporting.delivery.column_catalog import definition_metadata, described_table_metadata
from cc_reporting.delivery.parquet_exports import export_partition
from cc_reporting.metadata import add_partition_metadata, markdown_table, rows_per_partition
from cc_reporting.models.analytics.jar import ensure_jar_inputs
from cc_reporting.models.bi.views import ensure_bi_views
from cc_reporting.models.kpi import marts
from cc_reporting.models.kpi.dashboard import render_dashboard
from cc_reporting.models.teleopti import interval_stats
from cc_reporting.partitions import daily_partitions, fifteen_minute_partitions
from cc_reporting.resources.warehouse import WAREHOUSE_POOL, Warehouse
from cc_reporting.settings import load_settings
from cc_reporting.staging.schema import ensure_staging_tables

_COMMON = dict(group_name="kpi", pool=WAREHOUSE_POOL, backfill_policy=dg.BackfillPolicy.single_run())


# What the marts read and write; once they exist, creating them again is skipped (catalog commits per run).
_READS_AND_WRITES = ["stg_ctr", "jar", "teleopti_queue_stats", "kpi_interval", "kpi_daily"]


def _prepare(con, settings) -> None:
    if interval_stats.tables_exist(con, _READS_AND_WRITES):
        return
    ensure_staging_tables(con, settings.pii_salt)
    ensure_jar_inputs(con)
    interval_stats.ensure_tables(con)
    marts.ensure_tables(con)


@dg.asset(
    partitions_def=fifteen_minute_partitions, deps=["jar", "teleopti_queue_stats", "agent_state_intervals"],
    kinds={"duckdb"}, **_COMMON,
    check_specs=[dg.AssetCheckSpec("reconciles_with_teleopti_queue_stats", asset="kpi_interval",
                                   description="Counts and sums equal the Teleopti queue statistics")],
    description="KPIs per queue and 15-minute UTC interval (docs/kpis.md §2), attributed by enqueue time.",
    metadata=definition_metadata("kpi_interval"),
)
def kpi_interval(context: dg.AssetExecutionContext, warehouse: Warehouse):
    settings = load_settings()
    window = context.partition_time_window
    with warehouse.connect() as con:
        _prepare(con, settings)
        con.execute("BEGIN TRANSACTION")
        rows = marts.build_kpi_interval(con, settings, window.start, window.end)
        con.execute("COMMIT")
        mismatches = marts.kpi_vs_teleopti_mismatches(con, window.start, window.end)
        # Copied onto each partition's materialization: the run's counts only.
        metadata = {"rows_in_window": rows,
                    "queued_legs_without_queue_time": marts.null_queue_time_legs(con, window.start, window.end)}
        start, end = marts.naive_utc(window.start), marts.naive_utc(window.end)
        per_key = {key: {"dagster/row_count": dg.MetadataValue.int(n)}
                   for key, n in rows_per_partition(con, "kpi_interval", start, end, 15, naive_utc=True).items()}
        once = {k: v for k, v in described_table_metadata(
            con, "kpi_interval", "SELECT interval_key, queue_name, queued, answered, abandoned, service_level, "
            "asa_s, aht_s FROM kpi_interval WHERE interval_start >= ? ORDER BY 1, 2 LIMIT 5", params=[start]).items()
            if k != "dagster/row_count"}
        add_partition_metadata(context, per_key, once)
    yield dg.MaterializeResult(metadata=metadata)
    yield dg.AssetCheckResult(
        check_name="reconciles_with_teleopti_queue_stats", passed=not mismatches,
        metadata={"mismatches": len(mismatches), "examples": dg.MetadataValue.md(markdown_table(
            list(mismatches[0]) if mismatches else ["-"], [list(m.values()) for m in mismatches[:10]]))})


def _days(context) -> list[date]:
    return [datetime.strptime(k, "%Y-%m-%d").date() for k in context.partition_keys]


@dg.asset(
    partitions_def=daily_partitions, deps=["jar", "kpi_interval"], kinds={"duckdb", "parquet", "html"}, **_COMMON,
    description="KPIs per queue × day and channel × day (CC_REPORT_TIMEZONE), their Parquet exports and the "
                "day's HTML dashboard.",
    metadata=definition_metadata("kpi_daily"),
)
def kpi_daily(context: dg.AssetExecutionContext, warehouse: Warehouse):
    settings = load_settings()
    days = _days(context)
    tz = settings.report_timezone.replace("'", "''")
    exported, dashboards = {}, []
    with warehouse.connect() as con:
        _prepare(con, settings)
        con.execute("BEGIN TRANSACTION")
        rows = marts.build_kpi_daily(con, settings, days)
        con.execute("COMMIT")
        ensure_bi_views(con, settings.car_export_sensitive)
        for day in days:
            exported[f"kpi_daily {day}"] = export_partition(
                con, settings.export_dir, "kpi_daily", day,
                "SELECT * FROM kpi_daily WHERE day = ? ORDER BY grain, queue_id, channel", [day])
            # A local day lies within a day of its UTC date: the range on the stored column lets DuckDB skip the
            # row groups of other days (the cost follows the day, not the history).
            near = [day - timedelta(days=1), day + timedelta(days=2)]
            exported[f"kpi_interval {day}"] = export_partition(
                con, settings.export_dir, "kpi_interval", day,
                "SELECT * FROM kpi_interval WHERE interval_start >= ? AND interval_start < ? "
                "AND CAST(interval_start_local AS DATE) = ? ORDER BY interval_start, queue_id", [*near, day])
            exported[f"jar {day}"] = export_partition(
                con, settings.export_dir, "jar", day,
                f"""SELECT * FROM jar WHERE "SessionStartTime" >= ? AND "SessionStartTime" < ?
                    AND CAST(timezone('{tz}', "SessionStartTime"::TIMESTAMPTZ) AS DATE) = ?
                    ORDER BY "SessionStartTime", "SessionId" """,
                [*near, day])
            dashboards.append(render_dashboard(con, settings, day, Path(settings.export_dir) / "dashboard"))
        metadata = {"rows_for_days": rows, "days": len(days),
                    "exported_rows": dg.MetadataValue.json(exported),
                    "dashboard": dg.MetadataValue.path(str(dashboards[-1].resolve())),
                    "dashboard_url": dg.MetadataValue.url(dashboards[-1].resolve().as_uri()),
                    **described_table_metadata(con, "kpi_daily",
                                     "SELECT day, grain, coalesce(queue_name, channel) AS name, queued, answered, "
                                     "service_level, aht_s, fcr_rate FROM kpi_daily ORDER BY day DESC, 2, 3 LIMIT 8")}
    return dg.MaterializeResult(metadata=metadata)


kpi_assets = [kpi_interval, kpi_daily]
