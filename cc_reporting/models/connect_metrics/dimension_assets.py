"""`connect_dimensions`: the Connect instance's queue, user, routing-profile and hierarchy-group names, synced daily
(its schedule runs by default and skips while CC_CONNECT_INSTANCE_ARN is unset) and on demand from the UI.

Without an instance the four tables are materialized empty, and every name falls back to the contact records'."""

import dagster as dg

from cc_reporting.delivery.column_catalog import definition_metadata
from cc_reporting.ingest.automation import starts_by_itself
from cc_reporting.models.connect_metrics import dimensions
from cc_reporting.resources.warehouse import WAREHOUSE_POOL, Warehouse
from cc_reporting.settings import load_settings
from cc_reporting.staging.dimension_tables import DIMENSION_DDL

_DESCRIPTIONS = {
    "dim_queue": "Connect's queues (ListQueues, standard and agent queues) with their names: the name every "
                 "report prints for a queue, before the name on its contact records.",
    "dim_agent": "Connect's users (ListUsers) with their user names: an agent queue Connect lists without a name "
                 "is named by its agent's user name.",
    "dim_routing_profile": "Connect's routing profiles (ListRoutingProfiles) with their names.",
    "dim_hierarchy_group": "Connect's user hierarchy groups (ListUserHierarchyGroups) with their names.",
}


@dg.multi_asset(
    name="connect_dimensions", group_name="connect_metrics", pool=WAREHOUSE_POOL, can_subset=False,
    specs=[dg.AssetSpec(table, kinds={"duckdb"}, description=_DESCRIPTIONS[table],
                        metadata=definition_metadata(table)) for table in DIMENSION_DDL],
    description="The Connect instance's names (queues, users, routing profiles, hierarchy groups) from its List* "
                "APIs, replaced in one transaction; empty tables when CC_CONNECT_INSTANCE_ARN is unset.")
def connect_dimensions(context: dg.AssetExecutionContext, warehouse: Warehouse):
    settings = load_settings()
    arn = settings.connect_instance_arn
    if arn:
        region = settings.connect_region or (arn.split(":")[3] if arn.count(":") >= 5 else "")
        if not region:
            raise dg.Failure(f"no region in {arn!r}: set CC_CONNECT_REGION")
        # The warehouse is not held during the calls.
        rows, pages = dimensions.list_dimensions(arn, region, settings.connect_endpoint_url)
    else:
        context.log.info("CC_CONNECT_INSTANCE_ARN is unset: the dimension tables stay empty, names come from CTRs")
        rows, pages = {}, 0
    with warehouse.connect() as con:
        counts = dimensions.write_dimensions(con, rows)
    source = arn or "none: CC_CONNECT_INSTANCE_ARN is unset, names come from the contact records"
    for table in DIMENSION_DDL:
        yield dg.MaterializeResult(asset_key=table, metadata={
            "dagster/row_count": counts[table], "connect_instance_arn": source, "api_pages": pages})


connect_dimensions_job = dg.define_asset_job(
    "connect_dimensions_job", selection=dg.AssetSelection.assets(*DIMENSION_DDL),
    description="Sync the Connect instance's names into dim_queue, dim_agent, dim_routing_profile and "
                "dim_hierarchy_group (empty tables without CC_CONNECT_INSTANCE_ARN).")


@dg.schedule(job=connect_dimensions_job, cron_schedule="45 0 * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Daily at 00:45 UTC, before the daily KPIs and Connect metrics: sync the Connect instance's "
                         "names; skips while CC_CONNECT_INSTANCE_ARN is unset. "
                         + starts_by_itself("schedule", "connect_dimensions_schedule"))
def connect_dimensions_schedule(context: dg.ScheduleEvaluationContext):
    if not load_settings().connect_instance_arn:
        return dg.SkipReason("CC_CONNECT_INSTANCE_ARN is unset: no Connect instance to take names from")
    return dg.RunRequest(run_key=None)
