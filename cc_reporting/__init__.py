"""cc_reporting: Amazon Connect contact-center reporting on Dagster and DuckDB."""
