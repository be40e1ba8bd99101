"""Journey and Customer Analytics Records: `jar` (one row per leg or external session) and `car` (per customer).

Both refresh in the same run that stages new contacts, sessions or a CRM extract (the ingest jobs select them
downstream of staging) and once a day even without new data, so the FCR window slides and provisional rows finalize.
"""
from datetime import datetime, timezone

import dagster as dg

from cc_reporting.delivery.column_catalog import definition_metadata, described_table_metadata
from cc_reporting.delivery.parquet_exports import export_partition
from cc_reporting.models.analytics.car import car_export_columns, ensure_car_table, refresh_car
from cc_reporting.models.analytics.jar import refresh_jar, refresh_jar_pending
from cc_reporting.models.bi.views import ensure_bi_views
from cc_reporting.resources.warehouse import WAREHOUSE_POOL, Warehouse
from cc_reporting.settings import load_settings
from cc_reporting.staging.schema import ensure_staging_tables


class AsOfConfig(dg.Config):
    """`as_of` of the refresh (ISO-8601 UTC); empty = now. `cc-reporting run --end E` refreshes as of E."""

    as_of: str = ""


class JarConfig(AsOfConfig):
    """`full_rebuild`: recompute every row instead of the rows changes reach (the weekly run does; it also links
    relatives further apart than CC_JAR_LOOKBACK_DAYS)."""

    full_rebuild: bool = False


def resolve_as_of(config: AsOfConfig) -> datetime:
    if not config.as_of:
        return datetime.now(timezone.utc).replace(microsecond=0)
    value = datetime.fromisoformat(config.as_of.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _scalar_metadata(stats: dict) -> dict:
    return {k: v if isinstance(v, (int, float, str)) else dg.MetadataValue.json(v) for k, v in stats.items()
            if v is not None}


@dg.asset(
    group_name="analytics", pool=WAREHOUSE_POOL, kinds={"duckdb"},
    deps=["stg_ctr", "stg_channel_session", "stg_crm_customer"],
    description="Journey Analytics Record: one row per contact leg and per external session (docs/analytics.md).",
    metadata=definition_metadata("jar"),
)
def jar(context: dg.AssetExecutionContext, config: JarConfig, warehouse: Warehouse):
    settings = load_settings()
    as_of = resolve_as_of(config)
    with warehouse.connect() as con:
        ensure_staging_tables(con, settings.pii_salt)
        stats = refresh_jar(con, settings, as_of) if config.full_rebuild else refresh_jar_pending(con, settings, as_of)
        ensure_bi_views(con, settings.car_export_sensitive)
        metadata = {**_scalar_metadata(stats), "as_of": as_of.isoformat(), **described_table_metadata(
            con, "jar", 'SELECT "ChannelType", "SessionId", "CUST_ID", "SessionStartTime", "JourneyStep", '
                        '"IsResolved", "IsResolvedFinal", journey_path FROM jar '
                        'ORDER BY "SessionStartTime" DESC LIMIT 5')}
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    group_name="analytics", pool=WAREHOUSE_POOL, kinds={"duckdb", "parquet"},
    deps=["jar", "stg_crm_customer"],
    description="Customer Analytics Record: one row per customer, CRM as master, behaviour over the trailing window.",
    metadata=definition_metadata("car"),
)
def car(context: dg.AssetExecutionContext, config: AsOfConfig, warehouse: Warehouse):
    settings = load_settings()
    as_of = resolve_as_of(config)
    with warehouse.connect() as con:
        ensure_staging_tables(con, settings.pii_salt)
        ensure_car_table(con)
        con.execute("BEGIN TRANSACTION")
        stats = refresh_car(con, settings, as_of)
        con.execute("COMMIT")
        ensure_bi_views(con, settings.car_export_sensitive)
        columns = ", ".join(f'"{c}"' for c in car_export_columns(settings.car_export_sensitive))
        exported = export_partition(con, settings.export_dir, "car", as_of.date(),
                                    f'SELECT {columns} FROM car ORDER BY "Cust_ID"')
        metadata = {**_scalar_metadata(stats), "exported_rows": exported,
                    "export_includes_sensitive": settings.car_export_sensitive,
                    **described_table_metadata(con, "car", 'SELECT "Cust_ID", in_crm, "CommonChannels", "Device", '
                                                 'contacts_90d, fcr_rate_90d, avg_csat_90d FROM car LIMIT 5')}
    return dg.MaterializeResult(metadata=metadata)


analytics_assets = [jar, car]
