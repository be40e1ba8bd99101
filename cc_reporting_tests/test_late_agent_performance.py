"""A late outbound contact re-opens the delivered agent-performance file, not only the queue files."""
import dagster as dg

from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.models.teleopti import assets as teleopti_assets
from cc_reporting.models.teleopti.late_data import _in_partitions_range, teleopti_late_data_sensor
from cc_reporting.staging.assets import stg_ctr

from .conftest import concat
from .dagster_home import instance_for, make_dagster_home
from .sftp_server import USER, SftpTestServer
from .teleopti_legs import leg

FILE = "agent_performance/agent_performance_20260105_0900.csv"


def outbound(contact_id: str, at: str, talk: int) -> dict:
    return leg(contact_id, enqueue=at, queued=False, method="OUTBOUND", talk=talk, queue_duration=0)


def direct_out(body: bytes) -> tuple[int, int]:
    (row,) = [line.split(";") for line in body.decode().splitlines() if line.split(";")[3] == "jane.doe"]
    return int(row[10]), int(row[11])


def test_late_outbound_contact_redelivers_the_agent_performance_file_with_its_direct_out_counts(
        tmp_path, landing, warehouse, monkeypatch):
    monkeypatch.setenv("CC_LATE_DATA_DAYS", "100000")  # 2026-01-05 is long before today
    with SftpTestServer(tmp_path / "sftp-root", password="pw-123") as server, \
            instance_for(make_dagster_home(tmp_path)) as instance:
        known = tmp_path / "known_hosts"
        known.write_text(server.known_hosts())
        sftp = TeleoptiSftp(host="127.0.0.1", port=server.port, user=USER, password="pw-123",
                            known_hosts=str(known), backoff_seconds=0.01)
        resources = {"landing": landing, "warehouse": warehouse, "teleopti_sftp": sftp}
        landing.write("ctr/2026/01/05/10/s-1-a", concat(outbound("o1", "09:02:00", talk=60)))
        dg.materialize([stg_ctr], resources=resources, instance=instance)
        dg.materialize([teleopti_assets.teleopti_agent_performance], resources=resources, instance=instance,
                       partition_key="2026-01-05-09:00")
        assert direct_out(server.files()[FILE]) == (1, 60)
        context = dg.build_sensor_context(instance=instance)
        assert isinstance(teleopti_late_data_sensor(context), dg.SkipReason)  # built after that staging

        landing.write("ctr/2026/01/05/11/s-1-b", concat(outbound("o2", "09:10:00", talk=90)))
        dg.materialize([stg_ctr], resources=resources, instance=instance)
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor)
        requests = teleopti_late_data_sensor(context)
        assert isinstance(requests, list), requests  # not a SkipReason: the outbound leg re-opens the file
        (request,) = requests
        assert request.job_name == "teleopti_agent_performance_job"
        assert (request.tags["dagster/asset_partition_range_start"],
                request.tags["dagster/asset_partition_range_end"]) == ("2026-01-05-09:00", "2026-01-05-09:00")

        assert dg.materialize([teleopti_assets.teleopti_agent_performance], resources=resources, instance=instance,
                              tags=request.tags).success
        assert direct_out(server.files()[FILE]) == (2, 150)


def test_touched_keys_before_the_partitions_start_are_ignored(monkeypatch):
    monkeypatch.setenv("CC_PARTITIONS_START", "2026-01-01")
    kept = _in_partitions_range({"2025-12-31-23:45": 1, "2026-01-01-00:00": 2}, "%Y-%m-%d-%H:%M")
    assert kept == {"2026-01-01-00:00": 2}
