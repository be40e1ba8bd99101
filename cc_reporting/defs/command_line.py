"""The jobs `cc-reporting run` adds for what no schedule does in one run, so its runs show in the UI by name."""
import dagster as dg

from cc_reporting.models.command_jobs import command_jobs

defs = dg.Definitions(jobs=command_jobs)
