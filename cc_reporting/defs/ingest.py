"""Raw sources: the landing zone's objects and the agent-event stream as external assets, upstream of staging and
the agent state, observed (counts, newest object, lag) by the sensors that read them."""
import dagster as dg

from cc_reporting.ingest.raw_sources import raw_source_specs

defs = dg.Definitions(assets=raw_source_specs)
