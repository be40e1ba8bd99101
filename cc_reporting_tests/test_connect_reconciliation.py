"""`connect_reconciliation` through boto3 against a local server speaking Connect's REST-JSON GetMetricDataV2:
pages by NextToken, backs off from a 429, records ours / Connect's / the difference, warns beyond tolerance."""
from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest

from cc_reporting.models.connect_metrics import build, connect_api
from cc_reporting.models.connect_metrics.assets import CHECK, connect_reconciliation

from .connect_api_server import ConnectMetricsServer
from .connect_contacts import at, create_stg_ctr, write_agent_events

DAY = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%d")   # within Connect's 3 months
ARN = "arn:aws:connect:eu-west-1:123456789012:instance/I1"



@pytest.fixture
def ours(tmp_path) -> dict:
    """Our queue values for the hand-built day (test_connect_metrics.py holds them to hand-worked numbers): what a
    Connect instance that agrees with us answers."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    create_stg_ctr(con, DAY)
    build.build_connect_metrics(con, at("00:00:00", DAY), at("00:00:00", DAY) + timedelta(days=1), 20,
                                str(tmp_path / "rta"))
    values = {}
    for metric in connect_api.QUEUE_METRICS:
        for start, queue, value in con.execute(f"SELECT interval_start, group_id, {metric.column} FROM {build.TABLE} "
                                               f"WHERE dimension = 'QUEUE' AND {metric.column} IS NOT NULL").fetchall():
            values[(start.replace(tzinfo=timezone.utc), queue, metric.name)] = value
    con.close()
    return values


@pytest.fixture(autouse=True)
def _connect_env(monkeypatch, tmp_path):
    monkeypatch.setenv("CC_CONNECT_INSTANCE_ARN", ARN)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    write_agent_events(tmp_path / "rta", DAY)


def _key(hms: str, metric: str) -> tuple:
    return at(hms, DAY), "Q1", metric


def _reconcile(warehouse, monkeypatch, values, tolerance="1.0", **server_options):
    monkeypatch.setenv("CC_RECONCILE_TOLERANCE_PCT", tolerance)
    with warehouse.connect() as con:
        create_stg_ctr(con, DAY)
        # a direct transfer to an agent's own queue: ours, but not a queue Connect is asked about
        con.execute("""INSERT INTO stg_ctr (contact_id, queue_id, is_agent_queue, enqueue_ts, disconnect_ts,
                           last_update_ts, record_hash, source_key, ingested_at)
                       VALUES ('direct', 'agentq-A1', true, $t, $t, $t, 'direct', 'hand-built', $t)""",
                    {"t": at("09:20:00", DAY)})
    with ConnectMetricsServer(values, **server_options) as server:
        monkeypatch.setenv("CC_CONNECT_ENDPOINT_URL", server.url)
        result = dg.materialize([connect_reconciliation], partition_key=DAY, resources={"warehouse": warehouse})
    with warehouse.connect() as con:
        rows = {(r[0].strftime("%H:%M"), r[1]): r[2:] for r in con.execute(
            "SELECT interval_start, metric, ours, connect, difference, status FROM connect_reconciliation "
            "WHERE queue_id = 'Q1'").fetchall()}
    return result, server, rows


def test_pages_throttling_and_the_request_connect_expects(warehouse, monkeypatch, ours):
    result, server, rows = _reconcile(warehouse, monkeypatch, ours, page_size=1, throttle_first=1)
    assert result.success and server.throttled == 1
    throttled, *answered = server.requests
    assert answered[0] == throttled                         # the throttled request was sent again, unchanged
    tokens = [r.get("NextToken") for r in answered]
    assert tokens.count(None) == len(connect_api._chunks(connect_api.QUEUE_METRICS, connect_api.METRICS_PER_REQUEST))
    assert {"1", "2"} <= set(tokens)                        # three 15-minute results, one a page
    first = answered[0]
    assert (first["path"], first["ResourceArn"], first["Groupings"], first["Interval"]) == (
        "/metrics/data", ARN, ["QUEUE"], {"IntervalPeriod": "FIFTEEN_MIN", "TimeZone": "UTC"})
    assert first["Filters"] == [{"FilterKey": "QUEUE", "FilterValues": ["Q1"]}]
    assert first["EndTime"] - first["StartTime"] <= 86400
    thresholds = {m["Name"]: m.get("Threshold") for r in answered for m in r["Metrics"]}
    assert thresholds["SERVICE_LEVEL"] == [{"Comparison": "LTE", "ThresholdValue": 20.0}]
    assert rows[("09:00", "CONTACTS_QUEUED")] == (7.0, 7.0, 0.0, "match")
    assert rows[("09:30", "CONTACTS_QUEUED")] == (1.0, 1.0, 0.0, "match")
    with warehouse.connect() as con:
        assert con.execute("SELECT DISTINCT queue_id FROM connect_reconciliation").fetchall() == [("Q1",)]
        assert con.execute("SELECT contacts_queued FROM connect_metrics_queue_15min "
                           "WHERE group_id = 'agentq-A1'").fetchall() == [(1,)]


def test_the_check_warns_beyond_tolerance(warehouse, monkeypatch, ours):
    """Connect says 5 handled where we count 4, and an AHT 2 % higher: both beyond 1 %; a value Connect has for an
    interval we have no row for is a difference too."""
    values = {**ours, _key("09:00:00", "CONTACTS_HANDLED"): 5, _key("09:00:00", "AVG_HANDLE_TIME"): 132.5 * 1.02,
              _key("10:00:00", "CONTACTS_QUEUED"): 3}
    result, _, rows = _reconcile(warehouse, monkeypatch, values, throttle_first=0)
    assert rows[("09:00", "CONTACTS_HANDLED")] == (4.0, 5.0, -1.0, "beyond_tolerance")
    ours, theirs, difference, status = rows[("09:00", "AVG_HANDLE_TIME")]
    assert (ours, status) == (132.5, "beyond_tolerance") and difference == pytest.approx(-2.65)
    assert rows[("10:00", "CONTACTS_QUEUED")] == (0.0, 3.0, -3.0, "beyond_tolerance")
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == CHECK and not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["out_of_line"].value == 3


def test_the_check_passes_within_tolerance(warehouse, monkeypatch, ours):
    """An AHT 0.5 % off passes at 1 %; a count Connect leaves out where ours is 0 is 0 on its side too."""
    counts = {m.name for m in connect_api.QUEUE_METRICS if m.unit == "COUNT"}
    values = {key: value for key, value in ours.items() if value != 0 or key[2] not in counts}
    values[_key("09:00:00", "AVG_HANDLE_TIME")] = 132.5 * 1.005
    result, _, rows = _reconcile(warehouse, monkeypatch, values, throttle_first=0)
    [check] = result.get_asset_check_evaluations()
    assert check.passed, check.metadata["examples"].value
    assert rows[("09:00", "AVG_HANDLE_TIME")][3] == "match"
    assert rows[("09:30", "CONTACTS_ABANDONED")] == (0.0, 0.0, 0.0, "match")
    assert rows[("09:00", "CONTACTS_HOLD_ABANDONS")] == (1.0, 1.0, 0.0, "match")


def test_no_instance_configured_fails_with_the_setting_to_set(warehouse, monkeypatch):
    monkeypatch.delenv("CC_CONNECT_INSTANCE_ARN")
    with pytest.raises(dg.Failure, match="CC_CONNECT_INSTANCE_ARN"):
        dg.materialize([connect_reconciliation], partition_key=DAY, resources={"warehouse": warehouse})


def test_the_window_is_clamped_to_what_the_api_serves():
    now = datetime(2026, 6, 1, 12, 7, tzinfo=timezone.utc)
    assert connect_api.reconcilable_window(now - timedelta(hours=3), now, now) == (
        now - timedelta(hours=3), datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc))
    assert connect_api.reconcilable_window(now - timedelta(days=200), now - timedelta(days=199), now) is None


def test_the_reconciliation_is_off_by_default():
    """Its own schedule is created stopped, and no schedule that runs by default selects it."""
    from cc_reporting.definitions import defs

    repository = defs.get_repository_def()
    own = repository.get_schedule_def("connect_reconciliation_schedule")
    assert own.default_status == dg.DefaultScheduleStatus.STOPPED
    running = [s for s in repository.schedule_defs if s.default_status == dg.DefaultScheduleStatus.RUNNING]
    assert running and all(connect_reconciliation.key not in
                           repository.get_job(s.job_name).asset_layer.selected_asset_keys for s in running)


def test_the_connect_metrics_asset_builds_its_day(warehouse):
    from cc_reporting.models.connect_metrics import connect_metrics

    with warehouse.connect() as con:
        create_stg_ctr(con, DAY)
    result = dg.materialize([connect_metrics], partition_key=DAY, resources={"warehouse": warehouse})
    assert result.success
    with warehouse.connect() as con:
        queued = con.execute("SELECT strftime(interval_start, '%H:%M'), contacts_queued, contacts_hold_abandons "
                             "FROM connect_metrics_queue_15min WHERE group_id = 'Q1' ORDER BY 1").fetchall()
    assert queued == [("09:00", 7, 1), ("09:15", 1, 0), ("09:30", 1, 0)]


def test_a_day_without_contacts_asks_connect_nothing(warehouse, monkeypatch):
    with ConnectMetricsServer({}) as server:
        monkeypatch.setenv("CC_CONNECT_ENDPOINT_URL", server.url)
        result = dg.materialize([connect_reconciliation], partition_key=DAY, resources={"warehouse": warehouse})
    [check] = result.get_asset_check_evaluations()
    assert result.success and check.passed and server.requests == []
