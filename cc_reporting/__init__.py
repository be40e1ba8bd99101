"""cc_reporting: Amazon Connect contact-center reporting on Dagster and DuckDB."""
import warnings

# Single-run backfill policies are how a day backfills in one run; the "beta" label is noise for our users.
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=Warning)
