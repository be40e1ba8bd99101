"""KPIs: per queue and 15-minute interval, per day with its exports and dashboard."""
import dagster as dg

from cc_reporting.models.kpi.assets import kpi_assets
from cc_reporting.models.teleopti.schedules import kpi_daily_job, kpi_daily_schedule

defs = dg.Definitions(assets=kpi_assets, jobs=[kpi_daily_job], schedules=[kpi_daily_schedule])
