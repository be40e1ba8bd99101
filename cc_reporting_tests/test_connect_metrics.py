"""Connect's historical metrics (docs/connect-metrics.md), each by name, on the hand-built contacts of
`connect_contacts.py`, with the interval each contact is attributed to."""
import pytest

from cc_reporting.models.connect_metrics import build as metrics_build
from cc_reporting.models.connect_metrics.catalog import BY_NAME, CATALOG

from .connect_contacts import at, create_agent_state, create_stg_ctr, naive, write_agent_events


@pytest.fixture
def built(con, tmp_path):
    create_stg_ctr(con)
    write_agent_events(tmp_path / "rta")
    create_agent_state(con, [("09:00:00", "A1", "R1", 900, 300, 500, 100),
                             ("09:00:00", "A2", "R1", 600, 600, 0, 0)])
    con.execute("BEGIN TRANSACTION")
    metrics_build.build_connect_metrics(con, at("09:00:00"), at("10:00:00"), 20, str(tmp_path / "rta"))
    con.execute("COMMIT")
    return con


def row(con, hms, dimension="QUEUE", group="Q1") -> dict:
    cur = con.execute(f"SELECT * FROM {metrics_build.TABLE} "
                      "WHERE interval_start = ? AND dimension = ? AND group_id = ?",
                      [naive(hms), dimension, group])
    found = cur.fetchall()
    assert len(found) == 1, found
    return dict(zip([d[0] for d in cur.description], found[0]))


def test_queue_metrics_of_the_0900_interval_by_disconnect_time(built):
    """Seven contacts ended in 09:00–09:15 (across and late end later); each count and average by hand."""
    r = row(built, "09:00:00")
    counts = {name: r[name.lower()] for name in [
        "CONTACTS_QUEUED", "CONTACTS_HANDLED", "CALLBACK_CONTACTS_HANDLED", "CONTACTS_ABANDONED",
        "CONTACTS_TRANSFERRED_OUT", "CONTACTS_TRANSFERRED_OUT_BY_AGENT", "CONTACTS_TRANSFERRED_OUT_FROM_QUEUE",
        "CONTACTS_PUT_ON_HOLD", "CONTACTS_HOLD_ABANDONS", "CONTACTS_ON_HOLD_CUSTOMER_DISCONNECT",
        "CONTACTS_ON_HOLD_AGENT_DISCONNECT", "SUM_CONTACTS_ANSWERED_IN_X", "SUM_CONTACTS_ABANDONED_IN_X"]}
    assert counts == dict(CONTACTS_QUEUED=7, CONTACTS_HANDLED=4, CALLBACK_CONTACTS_HANDLED=1, CONTACTS_ABANDONED=1,
                          CONTACTS_TRANSFERRED_OUT=2, CONTACTS_TRANSFERRED_OUT_BY_AGENT=1,
                          CONTACTS_TRANSFERRED_OUT_FROM_QUEUE=1, CONTACTS_PUT_ON_HOLD=2, CONTACTS_HOLD_ABANDONS=1,
                          CONTACTS_ON_HOLD_CUSTOMER_DISCONNECT=1, CONTACTS_ON_HOLD_AGENT_DISCONNECT=0,
                          SUM_CONTACTS_ANSWERED_IN_X=2, SUM_CONTACTS_ABANDONED_IN_X=1)
    averages = {name: r[name.lower()] for name in [
        "AVG_HANDLE_TIME", "AVG_QUEUE_ANSWER_TIME", "AVG_ABANDON_TIME", "MAX_QUEUED_TIME", "AVG_HOLD_TIME",
        "AVG_HOLD_TIME_ALL_CONTACTS", "AVG_AFTER_CONTACT_WORK_TIME", "AVG_INTERACTION_TIME",
        "AVG_INTERACTION_AND_HOLD_TIME"]}
    assert averages == dict(AVG_HANDLE_TIME=(110 + 290 + 60 + 70) / 4, AVG_QUEUE_ANSWER_TIME=(20 + 21 + 300 + 5) / 4,
                            AVG_ABANDON_TIME=15.0, MAX_QUEUED_TIME=300.0, AVG_HOLD_TIME=(60 + 40) / 2,
                            AVG_HOLD_TIME_ALL_CONTACTS=100 / 4, AVG_AFTER_CONTACT_WORK_TIME=40 / 4,
                            AVG_INTERACTION_TIME=390 / 4, AVG_INTERACTION_AND_HOLD_TIME=490 / 4)
    assert r["service_level"] == pytest.approx(100 * 3 / 7)
    assert r["abandonment_rate"] == pytest.approx(100 * 1 / 7)
    assert r["threshold_s"] == 20 and r["group_name"] == "Queue 1"


def test_service_level_counts_a_contact_answered_exactly_at_the_threshold(built, con, tmp_path):
    """sl waited 20 s: within X for threshold 20 (Comparison LTE), not for 19."""
    assert row(built, "09:00:00")["sum_contacts_answered_in_x"] == 2      # sl and hold_end
    con.execute("BEGIN TRANSACTION")
    metrics_build.build_connect_metrics(con, at("09:00:00"), at("09:15:00"), 19, str(tmp_path / "rta"))
    con.execute("COMMIT")
    r = row(con, "09:00:00")
    assert (r["sum_contacts_answered_in_x"], r["service_level"], r["threshold_s"]) == (1, 100 * 2 / 7, 19)


def test_a_callback_request_leaves_the_queue_and_is_not_abandoned(built):
    """cb_request left its queue for the callback leg (transferred out from queue, not abandoned); the callback
    leg is handled as a callback; a callback leg that never reached an agent is no abandon either."""
    r = row(built, "09:00:00")
    assert r["contacts_abandoned"] == 1                                   # only `abandon`
    assert r["contacts_transferred_out_from_queue"] == 1
    assert r["callback_contacts_handled"] == 1


def test_a_contact_enqueued_in_one_interval_and_answered_in_the_next(built):
    """across: queued 09:14:50, agent 09:15:10, ended 09:17 — queued-by-enqueue in 09:00, everything else in 09:15.
    late: queued and answered in 09:15, ended 09:31 — disconnect-attributed metrics in 09:30."""
    r0900, r0915, r0930 = (row(built, t) for t in ("09:00:00", "09:15:00", "09:30:00"))
    assert [r["contacts_queued_by_enqueue"] for r in (r0900, r0915, r0930)] == [8, 1, 0]
    assert [r["contacts_handled_by_connected_to_agent"] for r in (r0900, r0915, r0930)] == [4, 2, 0]
    assert [r["contacts_queued"] for r in (r0900, r0915, r0930)] == [7, 1, 1]
    assert [r["contacts_handled"] for r in (r0900, r0915, r0930)] == [4, 1, 1]


def test_hold_abandons_are_unknown_without_agent_events(con, tmp_path):
    create_stg_ctr(con)
    con.execute("BEGIN TRANSACTION")
    metrics_build.build_connect_metrics(con, at("09:00:00"), at("09:15:00"), 20, str(tmp_path / "no-rta"))
    con.execute("COMMIT")
    r = row(con, "09:00:00")
    assert r["contacts_hold_abandons"] is None and r["contacts_on_hold_customer_disconnect"] is None
    assert r["contacts_put_on_hold"] == 2


def test_agent_grouping_has_only_the_metrics_connect_offers_per_agent(built):
    r = row(built, "09:00:00", "AGENT", "A1")
    assert (r["contacts_handled"], r["contacts_queued"], r["group_name"]) == (4, 4, "ann")
    assert r["service_level"] is None and r["avg_queue_answer_time"] is None and r["avg_interaction_time"] is None
    assert r["avg_handle_time"] == pytest.approx(530 / 4)


def test_agent_activity_metrics_from_agent_state_seconds(built):
    a1 = row(built, "09:00:00", "AGENT", "A1")
    assert (a1["sum_online_time_agent"], a1["sum_idle_time_agent"], a1["sum_contact_time_agent"],
            a1["sum_non_productive_time_agent"]) == (900, 300, 500, 100)
    assert a1["agent_occupancy"] == pytest.approx(100 * 500 / 800)
    profile = row(built, "09:00:00", "ROUTING_PROFILE", "R1")
    assert profile["agent_occupancy"] == pytest.approx(100 * 500 / 1400)
    # Contacts that reached no agent have no routing profile: of sl, xfer, cb and hold_end, two waited <= 20 s.
    assert profile["contacts_handled"] == 4 and profile["service_level"] == pytest.approx(100 * 2 / 4)
    assert row(built, "09:00:00")["agent_occupancy"] is None               # Connect has no occupancy per queue


def test_hierarchy_groupings_by_group_name(built):
    r = row(built, "09:00:00", "AGENT_HIERARCHY_LEVEL_ONE", "North")
    assert r["contacts_handled"] == 4 and r["avg_handle_time"] == pytest.approx(530 / 4)
    views = {v: built.execute(f"SELECT count(*) FROM {v}").fetchone()[0] for v in
             ["connect_metrics_queue_15min", "connect_metrics_agent_15min", "connect_metrics_routing_profile_15min",
              "connect_metrics_hierarchy_15min"]}
    assert views == {"connect_metrics_queue_15min": 3, "connect_metrics_agent_15min": 4,
                     "connect_metrics_routing_profile_15min": 3, "connect_metrics_hierarchy_15min": 6}


def test_a_rebuild_replaces_the_window(built, tmp_path):
    before = built.execute(f"SELECT * FROM {metrics_build.TABLE} ORDER BY ALL").fetchall()
    built.execute("BEGIN TRANSACTION")
    metrics_build.build_connect_metrics(built, at("09:00:00"), at("10:00:00"), 20, str(tmp_path / "rta"))
    built.execute("COMMIT")
    assert built.execute(f"SELECT * FROM {metrics_build.TABLE} ORDER BY ALL").fetchall() == before


def test_every_catalog_metric_has_a_column_unit_groupings_and_source():
    for metric in CATALOG:
        assert metric.unit in {"COUNT", "SECONDS", "PERCENT"} and metric.groupings and metric.source.startswith(
            "https://docs.aws.amazon.com/connect/")
    assert {"CONTACTS_QUEUED", "CONTACTS_HANDLED", "CONTACTS_ABANDONED", "CONTACTS_TRANSFERRED_OUT",
            "CONTACTS_HOLD_ABANDONS", "SERVICE_LEVEL", "AVG_HANDLE_TIME", "AVG_QUEUE_ANSWER_TIME", "AVG_ABANDON_TIME",
            "AVG_HOLD_TIME", "AVG_AFTER_CONTACT_WORK_TIME", "AVG_INTERACTION_TIME", "AGENT_OCCUPANCY",
            "SUM_IDLE_TIME_AGENT", "SUM_ONLINE_TIME_AGENT"} <= set(BY_NAME)


def test_every_v2_name_is_a_metric_of_the_get_metric_data_v2_reference():
    """The names are the API's: botocore ships the GetMetricDataV2 reference, which lists every metric by name."""
    import re

    import botocore.session

    operation = botocore.session.get_session().get_service_model("connect").operation_model("GetMetricDataV2")
    listed = set(re.findall(r"<dt>([A-Z_]+)</dt>", operation.input_shape.members["Metrics"].documentation))
    assert {m.name for m in CATALOG if m.in_v2} <= listed
    assert "CALLBACK_CONTACTS_HANDLED" not in listed and not BY_NAME["CALLBACK_CONTACTS_HANDLED"].in_v2


def test_the_readme_catalog_lists_every_metric_under_its_column():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Numbers that match the Connect console", 1)[1].split("\n## ", 1)[0]
    for metric in CATALOG:
        assert f"| `{metric.name}` | `{metric.column}` |" in section, metric.name


def test_a_metric_added_to_the_catalog_gets_its_column_in_an_existing_table(con, tmp_path):
    con.execute(f"CREATE TABLE {metrics_build.TABLE} (interval_start TIMESTAMP, dimension VARCHAR, group_id VARCHAR, "
                "group_name VARCHAR, threshold_s INTEGER, contacts_queued BIGINT)")
    create_stg_ctr(con)
    con.execute("BEGIN TRANSACTION")
    metrics_build.build_connect_metrics(con, at("09:00:00"), at("09:15:00"), 20, str(tmp_path / "rta"))
    con.execute("COMMIT")
    assert row(con, "09:00:00")["abandonment_rate"] == pytest.approx(100 / 7)


def test_the_definition_schemas_equal_the_tables_and_describe_every_column(con):
    """The column schemas both assets carry at definition time are the tables as built, each column described."""
    from cc_reporting.models.connect_metrics import build, reconciliation
    from cc_reporting.models.connect_metrics.assets import connect_metrics, connect_reconciliation

    build.ensure_tables(con)
    con.execute(reconciliation.DDL)
    for asset, table in ((connect_metrics, build.TABLE), (connect_reconciliation, reconciliation.RECONCILIATION)):
        schema = asset.specs_by_key[asset.key].metadata["dagster/column_schema"]
        actual = [(name, kind) for name, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall()]
        assert [(c.name, c.type) for c in schema.columns] == actual, table
        assert all(c.description for c in schema.columns), table
