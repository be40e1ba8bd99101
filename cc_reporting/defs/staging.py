"""Staging: typed, deduplicated landing objects, and the landing sensors and ingest jobs that start them."""
import dagster as dg

from cc_reporting.staging.assets import staging_assets
from cc_reporting.staging.sensors import ingest_jobs, landing_sensors

defs = dg.Definitions(assets=staging_assets, jobs=ingest_jobs, sensors=landing_sensors)
