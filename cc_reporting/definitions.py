"""The Dagster code location: every asset, check, sensor and schedule of the project, assembled."""
import dagster as dg

from cc_reporting.archive.assets import archive_assets, archive_jobs, archive_schedules
from cc_reporting.ingest.raw_sources import raw_source_specs
from cc_reporting.realtime.rta_sensor import rta_agent_state_spec, rta_sensors
from cc_reporting.staging.sensors import ingest_jobs, landing_sensors
from cc_reporting.realtime.assets import agent_state_intervals
from cc_reporting.models.analytics.assets import analytics_assets
from cc_reporting.models.kpi.assets import kpi_assets
from cc_reporting.models.teleopti.assets import teleopti_assets
from cc_reporting.models.teleopti.delivery_retry import teleopti_delivery_retry_sensor
from cc_reporting.models.teleopti.late_data import teleopti_late_data_sensor
from cc_reporting.models.teleopti import schedules as S
from cc_reporting.resources import build_resources
from cc_reporting.staging.assets import staging_assets

defs = dg.Definitions(
    assets=[*raw_source_specs, *staging_assets, rta_agent_state_spec, agent_state_intervals, *teleopti_assets, *analytics_assets,
            *kpi_assets, *archive_assets],
    jobs=[*ingest_jobs, S.interval_reports_job, S.teleopti_agent_performance_job, S.kpi_daily_job,
          S.analytics_refresh_job, *archive_jobs],
    sensors=[*landing_sensors, teleopti_late_data_sensor, teleopti_delivery_retry_sensor, *rta_sensors],
    schedules=[S.interval_reports_schedule, S.teleopti_agent_performance_schedule, S.kpi_daily_schedule,
               S.analytics_daily_schedule, *archive_schedules],
    resources=build_resources(),
)
