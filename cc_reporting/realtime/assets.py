"""`agent_state_intervals`: per agent and 15-minute interval, seconds online, idle, on contact, ACW, non-productive,
offline, from the RTA state log the `rta_sensor` appends (docs/connect-inputs.md §4).

It feeds `teleopti_agent_performance` (true 15-minute durations where events cover the interval, and the known part
of any other interval with online time that no report row covers),
`teleopti_queue_stats` (`avg_avail_member_cnt`, `wait_dur`) and KPI occupancy, all in the same runs.
"""
import dagster as dg

from cc_reporting.delivery.column_catalog import definition_metadata, described_table_metadata
from cc_reporting.partitions import fifteen_minute_partitions
from cc_reporting.realtime.intervals import ensure_tables, rebuild_agent_state
from cc_reporting.resources.warehouse import WAREHOUSE_POOL, Warehouse
from cc_reporting.settings import load_settings


@dg.asset(
    partitions_def=fifteen_minute_partitions, deps=["rta_agent_state"], group_name="rta", pool=WAREHOUSE_POOL,
    kinds={"duckdb"}, backfill_policy=dg.BackfillPolicy.single_run(),
    description="Agent state seconds per agent and 15-minute UTC interval, from the RTA state log.",
    metadata=definition_metadata("agent_state_intervals"),
)
def agent_state_intervals(context: dg.AssetExecutionContext, warehouse: Warehouse):
    window = context.partition_time_window
    settings = load_settings()
    with warehouse.connect() as con:
        ensure_tables(con)
        con.execute("BEGIN TRANSACTION")
        counts = rebuild_agent_state(con, settings.rta_dir, window.start, window.end)
        con.execute("COMMIT")
        covered = con.execute(
            """SELECT count(*) FILTER (WHERE covered_s >= 900), count(*), count(*) FILTER (WHERE stale_s > 0)
               FROM agent_state_intervals
               WHERE interval_start >= timezone('UTC', ?::TIMESTAMPTZ)
                 AND interval_start < timezone('UTC', ?::TIMESTAMPTZ)""", [window.start, window.end]).fetchone()
        metadata = {**counts, "agent_intervals_fully_covered": covered[0], "agent_intervals": covered[1],
                    # intervals where an agent's events were further apart than agent_state_max_gap_seconds
                    "agent_intervals_with_stale_time": covered[2],
                    "agent_state_max_gap_seconds": settings.agent_state_max_gap_seconds,
                    **described_table_metadata(con, "agent_state_intervals",
                                     "SELECT interval_start, username, online_s, idle_s, on_contact_s, acw_s, "
                                     "non_productive_s, stale_s FROM agent_state_intervals "
                                     "ORDER BY interval_start DESC, username LIMIT 5")}
    if not counts["events"]:
        metadata["note"] = "no agent events in the state log for this window: Teleopti falls back to the report split"
    return dg.MaterializeResult(metadata=metadata)
