"""The Dagster code location: every asset, check, sensor and schedule of the project, assembled."""
import dagster as dg

from cc_reporting.ingest.sensors import (
    agent_report_sensor,
    ctr_landing_sensor,
    ingest_agent_report_job,
    ingest_ctr_job,
)
from cc_reporting.models.teleopti.assets import teleopti_assets
from cc_reporting.models.teleopti.late_data import teleopti_late_data_sensor
from cc_reporting.models.teleopti.schedules import (
    teleopti_agent_performance_job,
    teleopti_agent_performance_schedule,
    teleopti_intervals_job,
    teleopti_intervals_schedule,
)
from cc_reporting.resources import build_resources
from cc_reporting.staging.assets import stg_agent_report, stg_ctr

defs = dg.Definitions(
    assets=[stg_ctr, stg_agent_report, *teleopti_assets],
    jobs=[ingest_ctr_job, ingest_agent_report_job, teleopti_intervals_job, teleopti_agent_performance_job],
    sensors=[ctr_landing_sensor, agent_report_sensor, teleopti_late_data_sensor],
    schedules=[teleopti_intervals_schedule, teleopti_agent_performance_schedule],
    resources=build_resources(),
)
