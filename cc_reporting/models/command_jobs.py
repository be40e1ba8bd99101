"""The two jobs `cc-reporting run` adds to the project's own: its runs show in the Dagster UI under these names.

Its other runs are the scheduled jobs themselves (`interval_reports`, `teleopti_agent_performance_job`,
`kpi_daily_job`); these two cover what no schedule does in one run: every landing source at once, and a
15-minute increment (what landed, staged and reported in the same run).
"""
import dagster as dg

from cc_reporting.models.teleopti.schedules import interval_reports_job
from cc_reporting.partitions import fifteen_minute_partitions
from cc_reporting.staging.assets import staging_assets

_STAGED_AND_REFRESHED = dg.AssetSelection.assets(*staging_assets) | dg.AssetSelection.keys("jar", "car")

ingest_all_job = dg.define_asset_job(
    "ingest_all", selection=_STAGED_AND_REFRESHED,
    description="Every landing source staged (contacts, agent reports, chat sessions, CRM), then JAR and CAR "
                "refreshed: the first run of `cc-reporting run` over a window longer than a day.")

ingest_and_interval_reports_job = dg.define_asset_job(
    "ingest_and_interval_reports", selection=_STAGED_AND_REFRESHED | interval_reports_job.selection,
    partitions_def=fifteen_minute_partitions,
    description="A window within one day in one run: what landed is staged, JAR and CAR refreshed, and the "
                "window's 15-minute intervals reported (agent state, Teleopti statistics and files, KPIs).")

command_jobs = [ingest_all_job, ingest_and_interval_reports_job]
