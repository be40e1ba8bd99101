"""The Dagster code location: every domain's definitions under `cc_reporting/defs/`, loaded automatically, and
the project's resources, defined once."""
import dagster as dg

import cc_reporting.defs as domain_defs
from cc_reporting.resources import build_resources

defs = dg.Definitions.merge(dg.load_defs(defs_root=domain_defs), dg.Definitions(resources=build_resources()))
