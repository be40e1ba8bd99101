"""Archive: old landing objects compacted into verified Parquet, on its daily schedule."""
import dagster as dg

from cc_reporting.archive.assets import archive_assets, archive_jobs, archive_schedules

defs = dg.Definitions(assets=archive_assets, jobs=archive_jobs, schedules=archive_schedules)
