"""Teleopti interval statistics assets: 15-minute (30-minute for agent performance) UTC partitions.

Each materialization replaces its window's rows in one transaction, then writes that window's files to the outbox
(an empty file for a quiet interval), evaluates its checks and delivers the changed files only if every check
passed: a failing check holds the files in the outbox and fails the step. A day backfills in one run (single-run
policy).
"""
from datetime import timezone

import dagster as dg

from cc_reporting.delivery.column_catalog import definition_metadata, described_schema
from cc_reporting.delivery.outbox import deliver_written_files, held_metadata
from cc_reporting.delivery.sftp import DeliveryError, TeleoptiSftp
from cc_reporting.metadata import add_partition_metadata, markdown_table, rows_per_partition
from cc_reporting.models.teleopti import files, interval_stats
from cc_reporting.partitions import PARTITION_KEY_FORMAT, fifteen_minute_partitions, thirty_minute_partitions
from cc_reporting.realtime import intervals as agent_state
from cc_reporting.resources.warehouse import WAREHOUSE_POOL, Warehouse
from cc_reporting.settings import load_settings
from cc_reporting.staging.schema import ensure_staging_tables

_COMMON = dict(
    group_name="teleopti",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb", "csv"},
    backfill_policy=dg.BackfillPolicy.single_run(),
)


def _window(context: dg.AssetExecutionContext):
    window = context.partition_time_window
    return window.start, window.end


# What the statistics read and write. Once they exist (every run after the first) creating them again is skipped:
# it rewrote the agent-state views, a catalog commit per asset (~25 ms each, a tenth of an increment's step).
_READS_AND_WRITES = [*interval_stats.DDL, "stg_ctr", "stg_agent_report", agent_state.TELEOPTI_QUEUE_VIEW,
                     agent_state.TELEOPTI_AGENT_VIEW]


def _prepare(con, table: str) -> None:
    # The columns are added staging first, then table by table: once this asset's own table has connect_instance,
    # every table it reads has it too (one question instead of six; each costs about a millisecond).
    if interval_stats.tables_exist(con, _READS_AND_WRITES) and interval_stats.instance_columns_exist(con, [table]):
        return
    ensure_staging_tables(con, load_settings().pii_salt)
    interval_stats.ensure_tables(con)


def _materialize(context, warehouse: Warehouse, sftp: TeleoptiSftp, build, kind: files.FileKind, extra_checks=None):
    """Replace the window's rows, write its files, deliver what changed; report counts per partition, one preview."""
    settings = load_settings()
    start, end = _window(context)
    minutes = 30 if kind is files.AGENT_PERFORMANCE else 15
    with warehouse.connect() as con:
        _prepare(con, kind.table)
        con.execute("BEGIN TRANSACTION")
        rows = build(con, start, end, settings)
        con.execute("COMMIT")
        written = files.write_files(con, kind, start, end, settings.teleopti_outbox, settings.connect_instances)
        # The checks gate delivery: Teleopti reloads an interval from whatever file it receives.
        checks = list(extra_checks(con, start, end, settings)) if extra_checks else []
        failed = [c.check_name for c in checks if not c.passed]
        delivery = held_metadata(written) if failed else _deliver(con, written, sftp, settings.connect_instances)
        sent_table = delivery.pop("delivered", None)
        # Copied onto each partition's materialization: a few counts of the run, no tables.
        metadata = {
            "window": f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC",
            "rows_in_window": rows,
            "files_written": len(written),
            "files_changed": sum(w.changed for w in written),
            **delivery,
            "outbox": dg.MetadataValue.path(str(files.Path(settings.teleopti_outbox) / kind.kind)),
        }
        add_partition_metadata(context, _per_partition(con, kind, written, start, end, minutes),
                               _run_preview(con, kind, start, end, sent_table))
    yield dg.MaterializeResult(metadata=metadata)
    yield from checks
    if failed:
        raise dg.Failure(description=held_message(kind, failed, start, end, len(written)), allow_retries=False)


def _deliver(con, written, sftp: TeleoptiSftp, instances) -> dict:
    """Each instance's files to its own SFTP target (one instance: the shared target, as always). A target that
    fails does not hold back the others: they are delivered first, then its error fails the step."""
    if len(instances) == 1:
        return deliver_written_files(con, written, sftp)
    parts, failure = [], None
    for instance in instances:
        try:
            parts.append(deliver_written_files(con, [w for w in written if w.instance == instance.name],
                                               sftp.for_instance(instance.name)))
        except DeliveryError as exc:
            failure = failure or exc
    if failure:
        raise failure
    counts = ("files_delivered", "files_skipped_identical", "files_undelivered")
    return {"delivery_destination": "; ".join(dict.fromkeys(p["delivery_destination"] for p in parts)),
            **{c: sum(p[c] for p in parts) for c in counts},
            "delivered": dg.MetadataValue.md("\n\n".join(
                f"**{i.name}**\n\n{p['delivered'].value}" for i, p in zip(instances, parts)))}


def _per_partition(con, kind: files.FileKind, written, start, end, minutes: int) -> dict:
    """Partition key → its own rows and changed files."""
    rows = rows_per_partition(con, kind.table, start, end, minutes)
    changed: dict[str, int] = {}
    for w in written:
        key = w.interval_start.astimezone(timezone.utc)
        key = key.replace(minute=key.minute - key.minute % minutes).strftime(PARTITION_KEY_FORMAT)
        changed[key] = changed.get(key, 0) + w.changed
    return {key: {"dagster/row_count": dg.MetadataValue.int(rows.get(key, 0)), "partition_files_changed": n}
            for key, n in changed.items()}


def _run_preview(con, kind: files.FileKind, start, end, sent_table) -> dict:
    """The run's one preview (first rows of the window), the table's schema and size, and what was delivered."""
    preview = con.execute(
        f"SELECT {', '.join(kind.columns[:12])} FROM {kind.table} WHERE interval_start >= ? AND interval_start < ?"
        f" ORDER BY {kind.order_by} LIMIT 5", [start, end])
    names = [d[0] for d in preview.description]
    once = {"window_preview": dg.MetadataValue.md(markdown_table(names, preview.fetchall())),
            "dagster/column_schema": described_schema(con, kind.table),
            "table_rows": con.execute(f"SELECT count(*) FROM {kind.table}").fetchone()[0]}
    if kind is files.AGENT_PERFORMANCE:
        once["rows_by_source"] = dg.MetadataValue.json(dict(con.execute(
            "SELECT source, count(*) FROM teleopti_agent_performance WHERE interval_start >= ? "
            "AND interval_start < ? GROUP BY 1 ORDER BY 1", [start, end]).fetchall()))
    if sent_table is not None:
        once["delivered"] = sent_table
    return once


def held_message(kind: files.FileKind, failed: list[str], start, end, files: int) -> str:
    return (f"{kind.table} {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC: check {', '.join(failed)} failed; "
            f"{files} file(s) held in the outbox, not delivered (the next passing run delivers them)")


def _queue_stats_checks(con, start, end, settings):
    """Invariant per row, and the window's totals reconcile with stg_ctr's queued legs."""
    broken = con.execute(
        """SELECT date, time, queue, offd_direct_call_cnt, overflow_in_call_cnt, answ_call_cnt, aband_call_cnt,
                  left_unanswered_cnt FROM teleopti_queue_stats
           WHERE interval_start >= ? AND interval_start < ?
             AND offd_direct_call_cnt + overflow_in_call_cnt <> answ_call_cnt + aband_call_cnt + left_unanswered_cnt""",
        [start, end]).fetchall()
    stats_total, staged = con.execute(
        f"""SELECT (SELECT coalesce(sum(offd_direct_call_cnt + overflow_in_call_cnt), 0) FROM teleopti_queue_stats
                    WHERE interval_start >= $1 AND interval_start < $2),
                   (SELECT count(*) FROM stg_ctr
                    WHERE {interval_stats.rules.IS_QUEUED} AND enqueue_ts >= $1 AND enqueue_ts < $2)""",
        [start, end]).fetchone()
    yield dg.AssetCheckResult(
        check_name="offered_equals_outcomes", passed=not broken,
        metadata={"rows_violating": len(broken), "examples": dg.MetadataValue.md(markdown_table(
            ["date", "time", "queue", "offd", "overflow_in", "answ", "aband", "left_unanswered"], broken[:10]))})
    yield dg.AssetCheckResult(
        check_name="reconciles_with_stg_ctr", passed=stats_total == staged,
        metadata={"queued_legs_in_stats": stats_total, "queued_legs_in_stg_ctr": staged})


@dg.asset(
    partitions_def=fifteen_minute_partitions, deps=["stg_ctr", "agent_state_intervals"], **_COMMON,
    check_specs=[
        dg.AssetCheckSpec("offered_equals_outcomes", asset="teleopti_queue_stats", blocking=True,
                          description="offered + overflow in = answered + abandoned + left by transfer/callback"),
        dg.AssetCheckSpec("reconciles_with_stg_ctr", asset="teleopti_queue_stats", blocking=True,
                          description="queued legs counted = queued legs staged in the window"),
    ],
    description="Teleopti queue statistics: one row per queue and 15-minute interval with a queued leg.",
    metadata=definition_metadata("teleopti_queue_stats"),
)
def teleopti_queue_stats(context: dg.AssetExecutionContext, warehouse: Warehouse, teleopti_sftp: TeleoptiSftp):
    def build(con, start, end, s):
        return interval_stats.build_queue_stats(con, start, end, s.sla_seconds, s.short_abandon_seconds,
                                                s.report_timezone)

    yield from _materialize(context, warehouse, teleopti_sftp, build, files.QUEUE_STATS, _queue_stats_checks)


@dg.asset(partitions_def=fifteen_minute_partitions, deps=["stg_ctr", "agent_state_intervals"], **_COMMON,
          description="Teleopti agent-queue statistics: one row per agent, queue and interval with an answered leg.",
          metadata=definition_metadata("teleopti_agent_queue_stats"))
def teleopti_agent_queue_stats(context: dg.AssetExecutionContext, warehouse: Warehouse, teleopti_sftp: TeleoptiSftp):
    def build(con, start, end, s):
        return interval_stats.build_agent_queue_stats(con, start, end, s.report_timezone)

    yield from _materialize(context, warehouse, teleopti_sftp, build, files.AGENT_QUEUE_STATS)


@dg.asset(partitions_def=fifteen_minute_partitions, deps=["stg_ctr"], **_COMMON,
          description="The per-interval contact file of the original Teleopti integration (16 columns, RFC 4180).",
          metadata=definition_metadata("teleopti_contacts"))
def teleopti_contacts(context: dg.AssetExecutionContext, warehouse: Warehouse, teleopti_sftp: TeleoptiSftp):
    yield from _materialize(context, warehouse, teleopti_sftp,
                            lambda con, start, end, s: interval_stats.build_contacts(con, start, end), files.CONTACTS)


@dg.asset(partitions_def=thirty_minute_partitions, deps=["stg_agent_report", "stg_ctr", "agent_state_intervals"],
          **_COMMON,
          description="Teleopti agent performance per 15 minutes: from the agent-state timeline where events cover "
                      "the interval, else the 30-minute report row split in two (column `source` says which).",
          metadata=definition_metadata("teleopti_agent_performance"))
def teleopti_agent_performance(context: dg.AssetExecutionContext, warehouse: Warehouse, teleopti_sftp: TeleoptiSftp):
    def build(con, start, end, s):
        return interval_stats.build_agent_performance(con, start, end, s.report_timezone)

    yield from _materialize(context, warehouse, teleopti_sftp, build, files.AGENT_PERFORMANCE)


teleopti_assets = [teleopti_queue_stats, teleopti_agent_queue_stats, teleopti_contacts, teleopti_agent_performance]
