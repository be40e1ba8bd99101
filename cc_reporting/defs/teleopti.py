"""Teleopti: interval statistics and their files, the schedules that deliver them, late data, retries, deadlines."""
import dagster as dg

from cc_reporting.models.teleopti import schedules
from cc_reporting.models.teleopti.assets import teleopti_assets
from cc_reporting.models.teleopti.deadlines import deadline_checks, delivery_deadline_sensor
from cc_reporting.models.teleopti.delivery_retry import teleopti_delivery_retry_sensor
from cc_reporting.models.teleopti.late_data import teleopti_late_data_sensor

defs = dg.Definitions(
    assets=teleopti_assets,
    asset_checks=deadline_checks,
    jobs=[schedules.interval_reports_job, schedules.teleopti_agent_performance_job],
    schedules=[schedules.interval_reports_schedule, schedules.teleopti_agent_performance_schedule],
    sensors=[teleopti_late_data_sensor, teleopti_delivery_retry_sensor, delivery_deadline_sensor],
)
