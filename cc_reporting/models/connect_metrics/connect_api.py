"""Connect's own numbers for our intervals: `GetMetricDataV2`, 15-minute intervals grouped by queue.

The API's limits, as its reference states them (docs/connect-metrics.md): with IntervalPeriod FIFTEEN_MIN the window
must be shorter than 3 days; historical metrics reach back 3 months; EndTime may not be in the future; a request
needs a resource filter (here QUEUE, at most 100 values) and pages by NextToken (at most 100 results a page).
Throttling (429 TooManyRequestsException / ThrottlingException) is retried with backoff by the client's retry policy
(`resources/aws.py`).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cc_reporting.models.connect_metrics.catalog import CATALOG, QUEUE
from cc_reporting.resources.aws import connect_client

MAX_WINDOW = timedelta(days=1)          # well inside "< 3 days" for FIFTEEN_MIN; a day is our partition
HISTORY = timedelta(days=90)            # "historical metrics are available for 3 months"
MAX_FILTER_VALUES = 100
METRICS_PER_REQUEST = 10
PAGE_SIZE = 100

QUEUE_METRICS = [m for m in CATALOG if QUEUE in m.groupings and m.in_v2]


def reconcilable_window(start: datetime, end: datetime, now: datetime) -> tuple[datetime, datetime] | None:
    """[start, end) clamped to what the API serves: not before 3 months ago, not after the last whole 15 minutes."""
    now = now.astimezone(timezone.utc)
    last = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    start, end = max(start.astimezone(timezone.utc), last - HISTORY), min(end.astimezone(timezone.utc), last)
    return (start, end) if start < end else None


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _metric_spec(metric, sla_seconds: int) -> dict:
    spec = {"Name": metric.name}
    if metric.threshold:
        # Our service level counts a contact that waited exactly X seconds (`queue_duration <= X`): ask Connect
        # the same question.
        spec["Threshold"] = [{"Comparison": "LTE", "ThresholdValue": float(sla_seconds)}]
    return spec


def request_pages(instance_arn: str, region: str, endpoint_url: str | None, start: datetime, end: datetime,
                  queue_ids: list[str], sla_seconds: int) -> list[dict]:
    """Every response page for the window, queues and queue metrics (windows, queues and metrics split to the
    API's limits)."""
    client = connect_client(region, endpoint_url)
    pages = []
    t = start
    while t < end:
        window_end = min(t + MAX_WINDOW, end)
        for queues in _chunks(sorted(queue_ids), MAX_FILTER_VALUES):
            for metrics in _chunks(QUEUE_METRICS, METRICS_PER_REQUEST):
                request = dict(ResourceArn=instance_arn, StartTime=t, EndTime=window_end,
                               Interval={"IntervalPeriod": "FIFTEEN_MIN", "TimeZone": "UTC"},
                               Filters=[{"FilterKey": "QUEUE", "FilterValues": queues}], Groupings=["QUEUE"],
                               Metrics=[_metric_spec(m, sla_seconds) for m in metrics], MaxResults=PAGE_SIZE)
                while True:
                    page = client.get_metric_data_v2(**request)
                    pages.append(page)
                    if not page.get("NextToken"):
                        break
                    request["NextToken"] = page["NextToken"]
        t = window_end
    return pages


def connect_values(pages: list[dict]) -> list[tuple[datetime, str, str, float | None]]:
    """(interval_start as naive UTC, queue id, metric name, value) of every collection in the pages."""
    rows = []
    for page in pages:
        for result in page.get("MetricResults", []):
            queue = (result.get("Dimensions") or {}).get("QUEUE")
            queue = queue.rsplit("/", 1)[-1] if queue else None    # an id, or an ARN ending in it
            interval = (result.get("MetricInterval") or {}).get("StartTime")
            if queue is None or interval is None:
                continue
            interval = interval.astimezone(timezone.utc).replace(tzinfo=None)
            for collection in result.get("Collections", []):
                rows.append((interval, queue, collection["Metric"]["Name"], collection.get("Value")))
    return rows
