"""Staging assets: landing objects into typed, deduplicated DuckDB tables."""

import dagster as dg

from cc_reporting.delivery.column_catalog import definition_metadata, described_table_metadata
from cc_reporting.ingest.batch import IngestReport, ingest_objects
from cc_reporting.ingest.raw_sources import raw_agent_report, raw_channel_sessions, raw_crm_extract, raw_ctr
from cc_reporting.metadata import markdown_table
from cc_reporting.partitions import partition_range
from cc_reporting.resources.landing import LandingZone
from cc_reporting.resources.warehouse import WAREHOUSE_POOL, Warehouse
from cc_reporting.settings import load_settings
from cc_reporting.staging.agent_report_table import (
    REPORT_PREFIX,
    is_agent_report_key,
    merge_agent_report_rows,
    parse_agent_report,
)
from cc_reporting.staging.channel_sessions import (
    CHANNELS_PREFIX,
    is_channel_session_key,
    merge_channel_sessions,
    parse_channel_sessions,
)
from cc_reporting.staging.crm import CRM_PREFIX, is_crm_extract_key, merge_crm_extract, parse_crm_extract
from cc_reporting.staging.ctr_source import CTR_PREFIX, parse_ctr_object
from cc_reporting.staging.ctr_table import merge_ctr_records, records_outside_range
from cc_reporting.staging.instances import instance_listings
from cc_reporting.staging.schema import ensure_staging_tables


class IngestConfig(dg.Config):
    """Which landing objects to ingest; empty means every object the ledger does not hold yet."""

    object_keys: list[str] = []


def _select(landing: LandingZone, prefix: str, config: IngestConfig, accept=lambda key: True, per_instance=False):
    """The objects to ingest under `prefix`, or under every Connect instance's `<instance prefix><prefix>`;
    `accept` judges a key relative to its instance's prefix."""
    wanted = set(config.object_keys)
    listings = instance_listings(prefix) if per_instance else [(None, prefix)]
    return [o for listed in listings for o in landing.list(listed[1])
            if accept(o.key[len(listed[1]) - len(prefix):]) and (not wanted or o.key in wanted)]


def _refused_metadata(landing: LandingZone, prefix: str, per_instance=False) -> dict:
    """Entries of a local landing zone that were not read (symlinks, non-regular files), with why."""
    listings = instance_listings(prefix) if per_instance else [(None, prefix)]
    refused = [r for _, listed in listings for r in landing.list_refused(listed)]
    if not refused:
        return {}
    return {"objects_refused": len(refused), "refused": dg.MetadataValue.md(
        markdown_table(["object", "reason"], [[r.key, r.reason] for r in refused][:50]))}


def _quarantine_check(asset_key: str, report: IngestReport) -> dg.AssetCheckResult:
    reasons = [[q["key"], q["status"], q["reason"]] for q in report.quarantined]
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name="no_quarantined_objects",
        passed=not reasons,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "quarantined_objects": len(reasons),
            "reasons": dg.MetadataValue.md(markdown_table(["object", "status", "reason"], reasons[:50])),
        },
    )


def _ingest_metadata(report: IngestReport) -> dict:
    return {
        "objects_seen": report.objects_seen,
        "objects_already_ingested": report.objects_skipped,
        "objects_ingested": report.objects_ingested,
        "objects_partial": report.objects_partial,
        "objects_quarantined": report.objects_quarantined,
        "records_read": report.records,
        **{k: v for k, v in report.merge_stats.items() if k != "records_read"},
    }


_QUARANTINE_SPEC = "no_quarantined_objects"


def _touched_intervals(con, table: str, run_id: str, minutes: int) -> dg.MetadataValue:
    """Partition keys whose facts this run changed: the late-data sensor re-opens the delivered ones.

    Only keys inside the partition range: an interval before CC_PARTITIONS_START (or not over yet) has no
    partition, and a run asked for one fails."""
    first, end = partition_range(minutes=minutes)
    keys = [r[0] for r in con.execute(
        f"""SELECT DISTINCT strftime(timezone('UTC', interval_start), '%Y-%m-%d-%H:%M') AS k FROM {table}
            WHERE starts_with(batch_id, ?) AND interval_start >= ? AND interval_start < ? ORDER BY k""",
        [run_id + ":", first, end]).fetchall()]
    return dg.MetadataValue.json(keys)


@dg.asset(
    deps=[raw_ctr],
    group_name="staging",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    check_specs=[dg.AssetCheckSpec(_QUARANTINE_SPEC, asset="stg_ctr", description="No CTR object was quarantined")],
    description="Contact trace records, one typed row per ContactId (latest LastUpdateTimestamp wins).",
    metadata=definition_metadata("stg_ctr"),
)
def stg_ctr(context: dg.AssetExecutionContext, config: IngestConfig, landing: LandingZone, warehouse: Warehouse):
    objects = _select(landing, CTR_PREFIX, config, per_instance=True)
    with warehouse.connect() as con:
        ensure_staging_tables(con, load_settings().pii_salt)
        report = ingest_objects(con, landing, "ctr", objects, parse_ctr_object, merge_ctr_records, context.run.run_id)
        touched = _touched_intervals(con, "stg_ctr_touched", context.run.run_id, 15)
        outside = records_outside_range(con, *partition_range())
        metadata = {**_ingest_metadata(report), **_refused_metadata(landing, CTR_PREFIX, per_instance=True),
                    "touched_intervals": touched, **outside,
                    "dates_outside_partitions": dg.MetadataValue.json(outside["dates_outside_partitions"]),
                    **described_table_metadata(
            con, "stg_ctr",
            "SELECT contact_id, channel, initiation_method, queue_name, agent_username, enqueue_ts, "
            "queue_duration, last_update_ts FROM stg_ctr ORDER BY last_update_ts DESC LIMIT 5",
        )}
    if not objects:
        metadata["note"] = "no contact-record objects in the landing zone yet"
    yield dg.MaterializeResult(metadata=metadata)
    yield _quarantine_check("stg_ctr", report)


@dg.asset(
    deps=[raw_agent_report],
    group_name="staging",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    check_specs=[dg.AssetCheckSpec(_QUARANTINE_SPEC, asset="stg_agent_report",
                                   description="No agent report was quarantined")],
    description="Scheduled TeleoptiAgentPerformance report rows, one per agent and 30-minute interval.",
    metadata=definition_metadata("stg_agent_report"),
)
def stg_agent_report(
    context: dg.AssetExecutionContext, config: IngestConfig, landing: LandingZone, warehouse: Warehouse
):
    objects = _select(landing, REPORT_PREFIX, config, is_agent_report_key, per_instance=True)
    with warehouse.connect() as con:
        ensure_staging_tables(con, load_settings().pii_salt)
        report = ingest_objects(
            con, landing, "agent_report", objects, parse_agent_report, merge_agent_report_rows, context.run.run_id
        )
        touched = _touched_intervals(con, "stg_agent_report_touched", context.run.run_id, 30)
        metadata = {**_ingest_metadata(report), **_refused_metadata(landing, REPORT_PREFIX, per_instance=True),
                    "touched_intervals": touched, **described_table_metadata(
            con, "stg_agent_report",
            "SELECT * EXCLUDE (source_key, ingested_at) FROM stg_agent_report ORDER BY interval_start DESC LIMIT 5",
        )}
    if not objects:
        metadata["note"] = "no agent reports in the landing zone (none configured yet?): table left as it was"
    yield dg.MaterializeResult(metadata=metadata)
    yield _quarantine_check("stg_agent_report", report)


def _stage_source(context, config, landing, warehouse, *, table, source, prefix, accept, parse, merge, preview_sql,
                  absent_note):
    """The staging pattern of the simpler sources: select, ingest through the ledger, report, check quarantine."""
    objects = _select(landing, prefix, config, accept)
    with warehouse.connect() as con:
        ensure_staging_tables(con, load_settings().pii_salt)
        report = ingest_objects(con, landing, source, objects, parse, merge, context.run.run_id)
        metadata = {**_ingest_metadata(report), **_refused_metadata(landing, prefix),
                    **described_table_metadata(con, table, preview_sql)}
    if not objects:
        metadata["note"] = absent_note
    yield dg.MaterializeResult(metadata=metadata)
    yield _quarantine_check(table, report)


@dg.asset(
    deps=[raw_channel_sessions],
    group_name="staging", pool=WAREHOUSE_POOL, kinds={"duckdb"},
    check_specs=[dg.AssetCheckSpec(_QUARANTINE_SPEC, asset="stg_channel_session",
                                   description="No channel-session file had unreadable lines")],
    description="Sessions of channels outside Amazon Connect (web chatbot, NLU bot), one row per session_id.",
    metadata=definition_metadata("stg_channel_session"),
)
def stg_channel_session(context: dg.AssetExecutionContext, config: IngestConfig, landing: LandingZone,
                        warehouse: Warehouse):
    yield from _stage_source(
        context, config, landing, warehouse, table="stg_channel_session", source="channel_session",
        prefix=CHANNELS_PREFIX, accept=is_channel_session_key, parse=parse_channel_sessions,
        merge=merge_channel_sessions, preview_sql="SELECT * EXCLUDE (customer_id) FROM stg_channel_session LIMIT 5",
        absent_note="no channel sessions landed (no chatbot configured?): table left as it was")


@dg.asset(
    deps=[raw_crm_extract],
    group_name="staging", pool=WAREHOUSE_POOL, kinds={"duckdb"},
    check_specs=[dg.AssetCheckSpec(_QUARANTINE_SPEC, asset="stg_crm_customer",
                                   description="No CRM extract was quarantined")],
    description="The latest CRM customer extract (the whole master); phone numbers only as salted hashes.",
    metadata=definition_metadata("stg_crm_customer"),
)
def stg_crm_customer(context: dg.AssetExecutionContext, config: IngestConfig, landing: LandingZone,
                     warehouse: Warehouse):
    yield from _stage_source(
        context, config, landing, warehouse, table="stg_crm_customer", source="crm", prefix=CRM_PREFIX,
        accept=is_crm_extract_key, parse=parse_crm_extract, merge=merge_crm_extract,
        preview_sql='SELECT "Cust_ID", "Occupation", "CountryName", "Region", "Tenure", extract_date '
                    "FROM stg_crm_customer LIMIT 5",
        absent_note="no CRM extract landed yet: customers resolve by attribute only")

staging_assets = [stg_ctr, stg_agent_report, stg_channel_session, stg_crm_customer]
