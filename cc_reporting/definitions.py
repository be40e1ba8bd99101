"""The Dagster code location: every asset, check, sensor and schedule of the project, assembled."""
import dagster as dg

from cc_reporting.ingest.sensors import (
    agent_report_sensor,
    ctr_landing_sensor,
    ingest_agent_report_job,
    ingest_ctr_job,
)
from cc_reporting.resources import build_resources
from cc_reporting.staging.assets import stg_agent_report, stg_ctr

defs = dg.Definitions(
    assets=[stg_ctr, stg_agent_report],
    jobs=[ingest_ctr_job, ingest_agent_report_job],
    sensors=[ctr_landing_sensor, agent_report_sensor],
    resources=build_resources(),
)
