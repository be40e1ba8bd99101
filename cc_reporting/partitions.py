"""The project's partitions, defined once: 15- and 30-minute UTC windows from `CC_PARTITIONS_START`."""
import dagster as dg

from cc_reporting.settings import load_settings

PARTITION_KEY_FORMAT = "%Y-%m-%d-%H:%M"

_start = load_settings().partitions_start

fifteen_minute_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="*/15 * * * *", start=_start, fmt=PARTITION_KEY_FORMAT, timezone="UTC"
)
thirty_minute_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="*/30 * * * *", start=_start, fmt=PARTITION_KEY_FORMAT, timezone="UTC"
)
