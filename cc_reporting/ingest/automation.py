"""The sentence every sensor and schedule that starts by itself carries in its description.

Each is declared RUNNING by default: as soon as a Dagster daemon loads the code location it ticks, without anyone
switching it on. The UI shows the description on the sensor's or schedule's page; the README lists them all.
"""

RUNNING_BY_DEFAULT = "RUNNING by default"


def starts_by_itself(kind: str, name: str) -> str:
    """`kind` is "sensor" or "schedule"; `name` is its name, for the command that stops it."""
    return (f"{RUNNING_BY_DEFAULT}: starts by itself when a Dagster daemon loads this code location. Stop it with "
            f"its toggle in the UI (Automation) or `dagster {kind} stop {name}`; a stop is kept in the instance.")
