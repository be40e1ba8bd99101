"""The instance's names from Connect's List* APIs: queues (standard and agent queues), users, routing profiles and
user hierarchy groups, each listed in full (every NextToken page) and written into the dimension tables in one
transaction, so a reader sees the whole previous sync or the whole new one.

The List* summaries carry every name we print (a user's name is its Username, the agent identity of the contact
records): no Describe* call per item. Throttling (429 TooManyRequestsException / ThrottlingException) is retried with
backoff by the client's retry policy (`resources/aws.py`).
"""
from __future__ import annotations

from datetime import datetime, timezone

from cc_reporting.resources.aws import connect_client
from cc_reporting.staging.dimension_tables import DIMENSION_DDL, ensure_dimension_tables

PAGE_SIZE = 1000  # the largest MaxResults each of the four List* accepts: fewest calls against their rate limits

# table -> (summary list, extra request arguments, columns taken from each summary after the instance and id)
LISTS = {
    "dim_queue": ("QueueSummaryList", {"QueueTypes": ["STANDARD", "AGENT"]}, ("Arn", "Name", "QueueType")),
    "dim_agent": ("UserSummaryList", {}, ("Arn", "Username")),
    "dim_routing_profile": ("RoutingProfileSummaryList", {}, ("Arn", "Name")),
    "dim_hierarchy_group": ("UserHierarchyGroupSummaryList", {}, ("Arn", "Name")),
}


def instance_id(instance_arn: str) -> str:
    return instance_arn.rsplit("/", 1)[-1]


def arn_id(arn: str | None) -> str | None:
    """The id the contact records key an object by: the ARN's last segment (an agent queue's is the user's id)."""
    return arn.rsplit("/", 1)[-1] if arn else None


def list_dimensions(instance_arn: str, region: str, endpoint_url: str | None) -> tuple[dict[str, list[tuple]], int]:
    """Every table's rows (instance id, object id, the summary's columns) and the number of pages read."""
    client = connect_client(region, endpoint_url)
    # Named literally, so the least-privilege check (test_iam_policy) sees each operation.
    paginators = {"dim_queue": client.get_paginator("list_queues"), "dim_agent": client.get_paginator("list_users"),
                  "dim_routing_profile": client.get_paginator("list_routing_profiles"),
                  "dim_hierarchy_group": client.get_paginator("list_user_hierarchy_groups")}
    instance = instance_id(instance_arn)
    rows, pages = {}, 0
    for table, (summaries, extra, fields) in LISTS.items():
        rows[table] = []
        paginator = paginators[table]
        for page in paginator.paginate(InstanceId=instance, PaginationConfig={"PageSize": PAGE_SIZE}, **extra):
            pages += 1
            for summary in page.get(summaries, []):
                rows[table].append((instance, arn_id(summary.get("Arn")) or summary.get("Id"),
                                    *(summary.get(field) for field in fields)))
    return rows, pages


def write_dimensions(con, rows: dict[str, list[tuple]]) -> dict[str, int]:
    """Replace every dimension table's rows in one transaction; returns the row count per table."""
    synced_at = datetime.now(timezone.utc).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        ensure_dimension_tables(con)
        for table in DIMENSION_DDL:
            con.execute(f"DELETE FROM {table}")
            if rows.get(table):
                width = len(rows[table][0])
                con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * (width + 1))})",
                                [(*row, synced_at) for row in rows[table]])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in DIMENSION_DDL}
