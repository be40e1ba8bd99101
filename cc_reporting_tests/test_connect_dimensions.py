"""`connect_dimensions` through boto3 against a local server speaking Connect's REST-JSON List* APIs (NextToken
pages, a 429 first), and the rule it serves: a printed queue name is the instance's (dim_queue, an agent queue's
from its agent's user name), else the contact records' name."""
from datetime import date

import dagster as dg
import duckdb
import pytest

from cc_reporting.models.connect_metrics import build, dimensions
from cc_reporting.models.connect_metrics.dimension_assets import connect_dimensions, connect_dimensions_schedule
from cc_reporting.models.kpi import marts
from cc_reporting.models.teleopti import interval_stats
from cc_reporting.staging.dimension_tables import DIMENSION_DDL

from . import kpi_rows
from .connect_api_server import ConnectMetricsServer
from .teleopti_legs import at, leg, stage

INSTANCE = "arn:aws:connect:eu-west-1:123456789012:instance/I1"
TABLES = sorted(DIMENSION_DDL)


def _summary(kind: str, object_id: str, name: str | None, **extra) -> dict:
    return {"Id": object_id, "Arn": f"{INSTANCE}/{kind}/{object_id}", **({"Name": name} if name else {}), **extra}


SUMMARIES = {
    "queues-summary": [_summary("queue", "q-billing", "Billing & Payments", QueueType="STANDARD"),
                       _summary("queue", "q-sales", "Sales", QueueType="STANDARD"),
                       _summary("queue", "q-support", "Support", QueueType="STANDARD"),
                       # an agent's own queue: its ARN ends in /queue/agent/<user id>, Connect gives it no name here
                       {"Id": "jane.doe-id", "Arn": f"{INSTANCE}/queue/agent/jane.doe-id", "QueueType": "AGENT"}],
    "users-summary": [{"Id": "jane.doe-id", "Arn": f"{INSTANCE}/agent/jane.doe-id", "Username": "jane.doe"},
                      {"Id": "kim-id", "Arn": f"{INSTANCE}/agent/kim-id", "Username": "kim"}],
    "routing-profiles-summary": [_summary("routing-profile", "rp-1", "Front line")],
    "user-hierarchy-groups-summary": [_summary("agent-group", "hg-1", "Team North")],
}


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("CC_CONNECT_INSTANCE_ARN", raising=False)


def _rows(con, table: str) -> list[tuple]:
    columns = [c for c, *_ in con.execute(f"DESCRIBE {table}").fetchall() if c != "synced_at"]
    return con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL").fetchall()


def test_the_sync_reads_every_page_backs_off_a_429_and_fills_every_table(warehouse, monkeypatch):
    monkeypatch.setenv("CC_CONNECT_INSTANCE_ARN", INSTANCE)
    with ConnectMetricsServer({}, page_size=2, throttle_first=1, summaries=SUMMARIES) as server:
        monkeypatch.setenv("CC_CONNECT_ENDPOINT_URL", server.url)
        result = dg.materialize([connect_dimensions], resources={"warehouse": warehouse})
    assert result.success and server.throttled == 1
    throttled, *answered = server.requests
    assert answered[0] == throttled                         # the throttled request was sent again, unchanged
    queue_requests = [r for r in answered if r["path"] == "/queues-summary/I1"]
    assert [r.get("nextToken") for r in queue_requests] == [None, "2"]     # 4 queues, 2 a page
    assert all(sorted(r["queueTypes"]) == ["AGENT", "STANDARD"] for r in queue_requests)
    assert {r["maxResults"] for r in answered} == {str(dimensions.PAGE_SIZE)}
    assert {r["path"] for r in answered} == {"/queues-summary/I1", "/users-summary/I1", "/routing-profiles-summary/I1",
                                             "/user-hierarchy-groups-summary/I1"}
    with warehouse.connect() as con:
        assert _rows(con, "dim_queue") == [
            ("I1", "jane.doe-id", f"{INSTANCE}/queue/agent/jane.doe-id", None, "AGENT"),
            ("I1", "q-billing", f"{INSTANCE}/queue/q-billing", "Billing & Payments", "STANDARD"),
            ("I1", "q-sales", f"{INSTANCE}/queue/q-sales", "Sales", "STANDARD"),
            ("I1", "q-support", f"{INSTANCE}/queue/q-support", "Support", "STANDARD")]
        assert _rows(con, "dim_agent") == [("I1", "jane.doe-id", f"{INSTANCE}/agent/jane.doe-id", "jane.doe"),
                                           ("I1", "kim-id", f"{INSTANCE}/agent/kim-id", "kim")]
        assert _rows(con, "dim_routing_profile") == [("I1", "rp-1", f"{INSTANCE}/routing-profile/rp-1", "Front line")]
        assert _rows(con, "dim_hierarchy_group") == [("I1", "hg-1", f"{INSTANCE}/agent-group/hg-1", "Team North")]
        for spec in connect_dimensions.specs:      # the definition's column schema is the table the sync wrote
            table = spec.key.to_user_string()
            schema = [(c.name, c.type) for c in spec.metadata["dagster/column_schema"].columns]
            assert schema == [(name, kind) for name, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall()]
    counts = {event.asset_key.to_user_string(): event.metadata["dagster/row_count"].value
              for event in result.get_asset_materialization_events() for event in [event.materialization]}
    assert counts == {"dim_queue": 4, "dim_agent": 2, "dim_routing_profile": 1, "dim_hierarchy_group": 1}


def test_a_sync_replaces_the_previous_one(warehouse):
    with warehouse.connect() as con:
        dimensions.write_dimensions(con, {"dim_queue": [("I1", "old", "arn", "Old", "STANDARD")]})
        dimensions.write_dimensions(con, {"dim_queue": [("I1", "q-sales", "arn", "Sales", "STANDARD")]})
        assert _rows(con, "dim_queue") == [("I1", "q-sales", "arn", "Sales", "STANDARD")]


def test_no_instance_configured_gives_empty_tables_not_a_failure(warehouse):
    result = dg.materialize([connect_dimensions], resources={"warehouse": warehouse})
    assert result.success
    with warehouse.connect() as con:
        assert {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES} == dict.fromkeys(
            TABLES, 0)
    [event, *_] = result.get_asset_materialization_events()
    assert "CC_CONNECT_INSTANCE_ARN is unset" in event.materialization.metadata["connect_instance_arn"].value


def test_the_daily_sync_skips_without_an_instance_and_runs_with_one(monkeypatch):
    assert connect_dimensions_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    skipped = connect_dimensions_schedule(dg.build_schedule_context())
    assert isinstance(skipped, dg.SkipReason) and "CC_CONNECT_INSTANCE_ARN" in skipped.skip_message
    monkeypatch.setenv("CC_CONNECT_INSTANCE_ARN", INSTANCE)
    assert isinstance(connect_dimensions_schedule(dg.build_schedule_context()), dg.RunRequest)


def _sync(con, queues: list[tuple] = (), agents: list[tuple] = ()) -> None:
    dimensions.write_dimensions(con, {"dim_queue": [("I1", *q) for q in queues],
                                      "dim_agent": [("I1", *a) for a in agents]})


def _teleopti_names(con) -> tuple[list, list]:
    interval_stats.build_queue_stats(con, at("09:00:00"), at("09:15:00"), 20, 5, "UTC")
    interval_stats.build_agent_queue_stats(con, at("09:00:00"), at("09:15:00"), "UTC")
    return (con.execute("SELECT queue, queue_name FROM teleopti_queue_stats ORDER BY 1").fetchall(),
            con.execute("SELECT queue, queue_name FROM teleopti_agent_queue_stats ORDER BY 1").fetchall())


def _contact_and_metric_names(con) -> tuple[list, list]:
    """The Teleopti contacts file's Queue_Name and the Connect-named metrics' queue name."""
    interval_stats.build_contacts(con, at("09:00:00"), at("09:15:00"))
    build.build_connect_metrics(con, at("09:00:00"), at("09:15:00"), 20, None)
    return (con.execute("SELECT DISTINCT Queue_ARN, Queue_Name FROM teleopti_contacts ORDER BY 1").fetchall(),
            con.execute("SELECT DISTINCT group_id, group_name FROM connect_metrics_queue_15min ORDER BY 1").fetchall())


def _kpi_names(con) -> tuple[list, list]:
    marts.build_kpi_interval(con, kpi_rows.settings(), kpi_rows.at("00:00:00"), kpi_rows.at("23:45:00"))
    marts.build_kpi_daily(con, kpi_rows.settings(), [date(2026, 1, 5)])
    return (con.execute("SELECT queue_id, queue_name FROM kpi_interval ORDER BY 1").fetchall(),
            con.execute("SELECT queue_id, queue_name FROM kpi_daily WHERE grain = 'queue' ORDER BY 1").fetchall())


def test_an_agent_queue_without_a_name_in_its_ctrs_is_named_by_the_dimension(con):
    """A transfer to jane.doe's own queue: its CTR names no queue. Connect lists the agent queue without a name
    too; the agent's user name names it in the Teleopti queue, agent-queue and contact files, the Connect-named
    metrics, kpi_interval and kpi_daily."""
    stage(con, leg("c1", enqueue="09:05:00", agent_queue=True, agent="jane.doe"))
    assert _teleopti_names(con)[1] == [("jane.doe-id", "")]
    _sync(con, queues=[("jane.doe-id", f"{INSTANCE}/queue/agent/jane.doe-id", None, "AGENT")],
          agents=[("jane.doe-id", f"{INSTANCE}/agent/jane.doe-id", "jane.doe")])
    assert _teleopti_names(con) == ([("jane.doe-id", "jane.doe")], [("jane.doe-id", "jane.doe")])
    assert _contact_and_metric_names(con) == ([("jane.doe-id", "jane.doe")], [("jane.doe-id", "jane.doe")])

    jar = duckdb.connect()
    kpi_rows.create_jar(jar, [kpi_rows.queued_leg("1", "09:01:00", queue="jane.doe-id", queue_name=None)])
    assert _kpi_names(jar) == ([("jane.doe-id", None)], [("jane.doe-id", None)])
    _sync(jar, agents=[("jane.doe-id", f"{INSTANCE}/agent/jane.doe-id", "jane.doe")])
    assert _kpi_names(jar) == ([("jane.doe-id", "jane.doe")], [("jane.doe-id", "jane.doe")])


def test_a_queue_renamed_in_connect_shows_the_dimension_name_and_without_rows_the_ctr_name(con):
    """CTRs still say 'Billing'; Connect's queue is now 'Billing & Payments'. With the dimension synced every output
    prints Connect's name; with an empty dimension (no instance), the CTRs' name."""
    stage(con, leg("c1", enqueue="09:05:00", queue="q-billing", queue_name="Billing"))
    jar = duckdb.connect()
    kpi_rows.create_jar(jar, [kpi_rows.queued_leg("1", "09:01:00", queue="q-billing", queue_name="Billing")])
    _sync(con), _sync(jar)
    assert _teleopti_names(con) == ([("q-billing", "Billing")], [("q-billing", "Billing")])
    assert _contact_and_metric_names(con) == ([("q-billing", "Billing")], [("q-billing", "Billing")])
    assert _kpi_names(jar) == ([("q-billing", "Billing")], [("q-billing", "Billing")])
    renamed = [("q-billing", f"{INSTANCE}/queue/q-billing", "Billing & Payments", "STANDARD")]
    _sync(con, queues=renamed), _sync(jar, queues=renamed)
    assert _teleopti_names(con) == ([("q-billing", "Billing & Payments")], [("q-billing", "Billing & Payments")])
    assert _contact_and_metric_names(con) == ([("q-billing", "Billing & Payments")],
                                              [("q-billing", "Billing & Payments")])
    assert _kpi_names(jar) == ([("q-billing", "Billing & Payments")], [("q-billing", "Billing & Payments")])
