"""Analytics: the Journey and Customer Analytics Records and their daily refresh."""
import dagster as dg

from cc_reporting.models.analytics.assets import analytics_assets
from cc_reporting.models.teleopti.schedules import analytics_daily_schedule, analytics_refresh_job

defs = dg.Definitions(assets=analytics_assets, jobs=[analytics_refresh_job], schedules=[analytics_daily_schedule])
