"""Several Connect instances in one report (docs/instances.md): each instance's objects land under its own prefix,
every row carries the instance they were found under, a queue is (instance, queue), and each instance gets its own
Teleopti files and SFTP target. Two instances here both have a queue "Sales" with the same id and an agent of the
same user name: nothing of one may be counted in the other."""
import dagster as dg
import pytest

from cc_reporting.delivery.sftp import HostKeyRefused, teleopti_sftp_from_env
from cc_reporting.models.analytics.assets import jar
from cc_reporting.models.kpi.assets import kpi_daily, kpi_interval
from cc_reporting.models.teleopti import assets as teleopti_assets
from cc_reporting.models.teleopti import interval_stats
from cc_reporting.realtime import intervals as agent_state
from cc_reporting.settings import DEFAULT_INSTANCE, parse_connect_instances
from cc_reporting.staging.assets import stg_agent_report, stg_ctr
from cc_reporting.staging.instances import instance_sql
from cc_reporting.staging.sensors import ctr_landing_sensor

from .conftest import concat, materialize, query
from .sftp_server import USER, SftpTestServer
from .teleopti_legs import leg

INSTANCES = "emea=connect/emea/,apac=connect/apac"
PASSWORD = "s3cret-pw"
PARTITION = "2026-01-05-09:00"
QUEUE_FILE = "queue_stats/queue_stats_20260105_0900.csv"
# (instance, Connect instance id, legs: (contact id, answered)); both put every leg in queue "Sales" (id q-sales)
LEGS = {"emea": ("0000-emea", [("e1", True), ("e2", True), ("e3", False)]),
        "apac": ("0000-apac", [("a1", True), ("a2", False)])}


def _in_instance(record: dict, connect_id: str) -> dict:
    arn = f"arn:aws:connect:eu-west-1:111122223333:instance/{connect_id}"
    return record | {"InstanceARN": arn}


@pytest.fixture
def two_instances(monkeypatch, landing):
    """Both instances' CTRs in their own prefixes: the same queue name and id, the same agent user name."""
    monkeypatch.setenv("CC_CONNECT_INSTANCES", INSTANCES)
    for name, (connect_id, legs) in LEGS.items():
        records = [_in_instance(leg(cid, enqueue=f"09:0{i}:00", answered=answered, queue="q-sales",
                                    queue_name="Sales", agent="jane.doe"), connect_id)
                   for i, (cid, answered) in enumerate(legs)]
        landing.write(f"connect/{name}/ctr/2026/01/05/09/firehose-1", concat(*records))
    return landing


def test_a_malformed_instance_setting_is_refused_in_one_line():
    for value, words in [("emea", "is not name=prefix"), ("EMEA=x/", "lower-case name"),
                         ("a=x/,b=x/y/", "overlap"), ("a=,b=ctr/", "overlap"), ("a=/abs", "not a folder inside"),
                         ("a=s3://bucket/x", "not a folder inside"), ("a=x/,a=y/", "named twice")]:
        with pytest.raises(ValueError) as raised:
            parse_connect_instances(value)
        message = str(raised.value)
        assert words in message and message.startswith("CC_CONNECT_INSTANCES: ") and "\n" not in message


def test_without_the_setting_there_is_one_default_instance_at_the_root():
    assert parse_connect_instances(None) == parse_connect_instances(" ") == (DEFAULT_INSTANCE,)
    assert (DEFAULT_INSTANCE.name, DEFAULT_INSTANCE.prefix, DEFAULT_INSTANCE.subfolder) == ("default", "", "")
    assert instance_sql("source_key", (DEFAULT_INSTANCE,)) == "'default'"
    # a root instance may stay beside instances in folders: what no folder claims is the root's
    assert [(i.name, i.prefix) for i in parse_connect_instances("main=,emea=connect/emea")] == [
        ("main", ""), ("emea", "connect/emea/")]


def test_staged_rows_carry_the_instance_whose_prefix_held_them(two_instances, warehouse):
    materialize([stg_ctr], two_instances, warehouse)
    assert query(warehouse, "SELECT contact_id, connect_instance, instance_id FROM stg_ctr ORDER BY 1") == [
        ("a1", "apac", "0000-apac"), ("a2", "apac", "0000-apac"),
        ("e1", "emea", "0000-emea"), ("e2", "emea", "0000-emea"), ("e3", "emea", "0000-emea")]


def test_agent_reports_of_two_instances_keep_one_user_name_apart(monkeypatch, landing, warehouse):
    monkeypatch.setenv("CC_CONNECT_INSTANCES", INSTANCES)
    header = "Agent,StartInterval,EndInterval,Agent idle time,Non-Productive Time,Online time\n"
    for name, online in (("emea", 1800), ("apac", 600)):
        landing.write(f"connect/{name}/reports/TeleoptiAgentPerformance-1.csv",
                      f"{header}jane.doe,2026-01-05T09:00:00Z,2026-01-05T09:30:00Z,60,0,{online}\n".encode())
    landing.write("reports/TeleoptiAgentPerformance-1.csv", f"{header}x,2026-01-05T09:00:00Z,"
                                                            "2026-01-05T09:30:00Z,0,0,1\n".encode())
    materialize([stg_agent_report], landing, warehouse)
    # the root's report belongs to no configured instance: not listed, not staged
    assert query(warehouse, "SELECT connect_instance, agent_username, online_s FROM stg_agent_report ORDER BY 1") == [
        ("apac", "jane.doe", 600), ("emea", "jane.doe", 1800)]


def _fifteen(landing, warehouse, sftp=None):
    resources = {"landing": landing, "warehouse": warehouse, "teleopti_sftp": sftp or teleopti_sftp_from_env()}
    return dg.materialize([teleopti_assets.teleopti_queue_stats, teleopti_assets.teleopti_agent_queue_stats,
                           teleopti_assets.teleopti_contacts],
                          resources=resources, partition_key=PARTITION, raise_on_error=False)


def test_queues_sharing_a_name_are_counted_per_instance_and_filed_apart(two_instances, warehouse, tmp_path):
    materialize([stg_ctr], two_instances, warehouse)
    assert _fifteen(two_instances, warehouse).success
    assert query(warehouse, """SELECT connect_instance, queue, queue_name, offd_direct_call_cnt, answ_call_cnt,
                                      aband_call_cnt FROM teleopti_queue_stats ORDER BY 1""") == [
        ("apac", "q-sales", "Sales", 2, 1, 1), ("emea", "q-sales", "Sales", 3, 2, 1)]
    assert query(warehouse, """SELECT connect_instance, agent_id, queue, answ_call_cnt
                               FROM teleopti_agent_queue_stats ORDER BY 1""") == [
        ("apac", "jane.doe", "q-sales", 1), ("emea", "jane.doe", "q-sales", 2)]
    outbox = tmp_path / "outbox"
    assert not (outbox / "queue_stats").exists()  # no merged file beside the instances' own
    emea, apac = ((outbox / name / QUEUE_FILE).read_text() for name in ("emea", "apac"))
    assert [line.split(";")[5:10] for line in emea.splitlines()] == [["3", "0", "1", "0", "2"]]
    assert [line.split(";")[5:10] for line in apac.splitlines()] == [["2", "0", "1", "0", "1"]]
    contacts = {name: (outbox / name / "contacts/contacts_20260105_0900.csv").read_text() for name in LEGS}
    assert [("e1" in contacts["emea"], "a1" in contacts["emea"]), ("a1" in contacts["apac"], "e1" in contacts["apac"])
            ] == [(True, False), (True, False)]


def test_kpis_are_per_instance_and_reconcile_with_teleopti_per_instance(two_instances, warehouse):
    materialize([stg_ctr], two_instances, warehouse)
    assert _fifteen(two_instances, warehouse).success
    assert dg.materialize([jar], resources={"warehouse": warehouse}).success
    result = dg.materialize([kpi_interval], resources={"warehouse": warehouse}, partition_key=PARTITION)
    check = result.get_asset_check_evaluations()[0]
    assert check.check_name == "reconciles_with_teleopti_queue_stats" and check.passed
    assert query(warehouse, 'SELECT connect_instance, count(*) FROM jar GROUP BY 1 ORDER BY 1') == [
        ("apac", 2), ("emea", 3)]
    assert query(warehouse, """SELECT connect_instance, queue_id, queue_name, offered, answered, abandoned
                               FROM kpi_interval ORDER BY 1""") == [
        ("apac", "q-sales", "Sales", 2, 1, 1), ("emea", "q-sales", "Sales", 3, 2, 1)]
    assert dg.materialize([kpi_daily], resources={"warehouse": warehouse}, partition_key="2026-01-05").success
    assert query(warehouse, """SELECT grain, connect_instance, coalesce(queue_id, channel), offered, answered,
                                      ivr_entered FROM kpi_daily ORDER BY 1, 2, 3""") == [
        ("channel", "apac", "IVR", 0, 0, 2), ("channel", "apac", "VOICE", 2, 1, None),
        ("channel", "emea", "IVR", 0, 0, 3), ("channel", "emea", "VOICE", 3, 2, None),
        ("queue", "apac", "q-sales", 2, 1, None), ("queue", "emea", "q-sales", 3, 2, None)]


def _serve(server: SftpTestServer, monkeypatch, tmp_path, prefix: str) -> None:
    """Point `CC_TELEOPTI_SFTP[_<INSTANCE>]_*` at `server`, its host key pinned in its own known_hosts."""
    (server.root / "in").mkdir()
    known_hosts = tmp_path / f"known_hosts{prefix}"
    known_hosts.write_text(server.known_hosts())
    for suffix, value in {"HOST": "127.0.0.1", "PORT": str(server.port), "USER": USER, "PASSWORD": PASSWORD,
                          "DIR": "in", "KNOWN_HOSTS": str(known_hosts)}.items():
        monkeypatch.setenv(f"CC_TELEOPTI_SFTP{prefix}_{suffix}", value)


def test_each_instance_is_delivered_to_its_own_sftp_target(two_instances, warehouse, tmp_path, monkeypatch):
    materialize([stg_ctr], two_instances, warehouse)
    with SftpTestServer(tmp_path / "shared", password=PASSWORD) as shared, \
            SftpTestServer(tmp_path / "emea", password=PASSWORD) as own:
        _serve(shared, monkeypatch, tmp_path, "")
        _serve(own, monkeypatch, tmp_path, "_EMEA")  # apac keeps the shared target
        assert _fifteen(two_instances, warehouse, teleopti_sftp_from_env(backoff_seconds=0.01)).success
        shared_files, own_files = shared.files(), own.files()
    outbox = tmp_path / "outbox"
    assert own_files[f"in/emea/{QUEUE_FILE}"] == (outbox / "emea" / QUEUE_FILE).read_bytes()
    assert shared_files[f"in/apac/{QUEUE_FILE}"] == (outbox / "apac" / QUEUE_FILE).read_bytes()
    assert {k.split("/")[1] for k in own_files} == {"emea"} and {k.split("/")[1] for k in shared_files} == {"apac"}
    assert len(own_files) == len(shared_files) == 3  # one interval, three kinds
    targets = query(warehouse, "SELECT DISTINCT target, split_part(file_name, '/', 1) FROM teleopti_delivery_ledger "
                               "ORDER BY 2")
    assert targets == [(f"sftp://{USER}@127.0.0.1:{shared.port}/in", "apac"),
                       (f"sftp://{USER}@127.0.0.1:{own.port}/in", "emea")]


def test_an_instance_target_keeps_host_key_checking_and_holds_back_no_other(two_instances, warehouse, tmp_path,
                                                                             monkeypatch):
    materialize([stg_ctr], two_instances, warehouse)
    with SftpTestServer(tmp_path / "shared", password=PASSWORD) as shared, \
            SftpTestServer(tmp_path / "emea", password=PASSWORD) as own:
        _serve(shared, monkeypatch, tmp_path, "")
        (own.root / "in").mkdir()
        monkeypatch.setenv("CC_TELEOPTI_SFTP_EMEA_PORT", str(own.port))  # its key is pinned nowhere
        result = _fifteen(two_instances, warehouse, teleopti_sftp_from_env(backoff_seconds=0.01))
        own_files, shared_files = own.files(), shared.files()
    assert not result.success and own_files == {}
    causes = [e.event_specific_data.error.cause.message for e in result.all_events
              if e.event_type_value == "STEP_FAILURE"]
    assert len(causes) == 3 and all(c.startswith(f"{HostKeyRefused.__module__}.{HostKeyRefused.__name__}: ") and
                                    f"[127.0.0.1]:{own.port} is not pinned" in c for c in causes)
    assert f"in/apac/{QUEUE_FILE}" in shared_files and len(shared_files) == 3  # apac delivered all the same


def test_the_landing_sensor_lists_every_instance_prefix(two_instances):
    two_instances.write("ctr/2026/01/05/09/firehose-root", concat(leg("r1")))  # the root is no instance's here
    request = ctr_landing_sensor(dg.build_sensor_context(resources={"landing": two_instances}))
    assert sorted(request.run_config["ops"]["stg_ctr"]["config"]["object_keys"]) == [
        "connect/apac/ctr/2026/01/05/09/firehose-1", "connect/emea/ctr/2026/01/05/09/firehose-1"]


def test_agent_performance_is_per_instance_for_one_user_name(two_instances, warehouse, tmp_path):
    header = "Agent,StartInterval,EndInterval,Agent idle time,Non-Productive Time,Online time\n"
    for name, online in (("emea", 1800), ("apac", 600)):
        two_instances.write(f"connect/{name}/reports/TeleoptiAgentPerformance-1.csv",
                            f"{header}jane.doe,2026-01-05T09:00:00Z,2026-01-05T09:30:00Z,0,0,{online}\n".encode())
    materialize([stg_ctr, stg_agent_report], two_instances, warehouse)
    with warehouse.connect() as con:  # agent events (one stream for all instances) of an agent of apac only
        agent_state.ensure_tables(con)
        con.execute("""INSERT INTO agent_state_intervals (interval_start, agent_id, agent_arn, username, online_s,
                                                          idle_s, non_productive_s, covered_s)
                       SELECT t, 'kim-id', 'arn:aws:connect:eu-west-1:111122223333:instance/0000-apac/agent/kim-id',
                              'kim.ng', 900, 900, 0, 900
                       FROM (VALUES (TIMESTAMP '2026-01-05 09:00'), (TIMESTAMP '2026-01-05 09:15')) v(t)""")
    resources = {"landing": two_instances, "warehouse": warehouse, "teleopti_sftp": teleopti_sftp_from_env()}
    assert dg.materialize([teleopti_assets.teleopti_agent_performance], resources=resources,
                          partition_key=PARTITION).success
    # each instance's report row split in two; the agent of the events in the instance of the agent's ARN
    assert query(warehouse, """SELECT connect_instance, strftime(interval_start, '%H:%M'), agent_id, tot_work_dur
                               FROM teleopti_agent_performance ORDER BY 1, 2, 3""") == [
        ("apac", "09:00", "jane.doe", 300), ("apac", "09:00", "kim.ng", 900),
        ("apac", "09:15", "jane.doe", 300), ("apac", "09:15", "kim.ng", 900),
        ("emea", "09:00", "jane.doe", 900), ("emea", "09:15", "jane.doe", 900)]
    files = {name: (tmp_path / "outbox" / name / "agent_performance/agent_performance_20260105_0900.csv").read_text()
             for name in LEGS}
    assert [line.split(";")[5] for line in files["emea"].splitlines()] == ["900"]
    assert [line.split(";")[5] for line in files["apac"].splitlines()] == ["300", "900"]


def test_a_warehouse_from_before_instances_gains_the_column_named_for_the_root_instance(monkeypatch, con):
    monkeypatch.setenv("CC_CONNECT_INSTANCES", "main=,emea=connect/emea/")
    interval_stats.ensure_tables(con)
    con.execute("INSERT INTO teleopti_queue_stats (interval_start, queue) VALUES ('2026-01-05 09:00Z', 'q')")
    for table in interval_stats.DDL:
        con.execute(f"ALTER TABLE {table} DROP COLUMN connect_instance")
    assert not interval_stats.instance_columns_exist(con)
    interval_stats.ensure_tables(con)
    assert interval_stats.instance_columns_exist(con)
    assert con.execute("SELECT queue, connect_instance FROM teleopti_queue_stats").fetchall() == [("q", "main")]
