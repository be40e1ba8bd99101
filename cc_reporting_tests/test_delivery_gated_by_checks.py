"""Teleopti delivery is gated by the reconciliation checks: a failing check holds the files in the outbox."""
import dagster as dg
import pytest

from cc_reporting.delivery.sftp import TeleoptiSftp
from cc_reporting.models.teleopti import assets as teleopti_assets
from cc_reporting.models.teleopti import interval_stats
from cc_reporting.staging.assets import stg_ctr

from .conftest import concat
from .dagster_home import instance_for, make_dagster_home
from .sftp_server import USER, SftpTestServer
from .teleopti_legs import leg

KEY = "2026-01-05-09:00"
FILE = "queue_stats/queue_stats_20260105_0900.csv"


@pytest.fixture
def server(tmp_path):
    with SftpTestServer(tmp_path / "sftp-root", password="pw-123") as srv:
        yield srv


def sftp_for(server, tmp_path) -> TeleoptiSftp:
    known = tmp_path / "known_hosts"
    known.write_text(server.known_hosts())
    return TeleoptiSftp(host="127.0.0.1", port=server.port, user=USER, password="pw-123", known_hosts=str(known),
                        attempts=1, backoff_seconds=0.01)


def corrupted_build(real):
    """The real build, then one stats row that no longer adds up (answered counted twice)."""
    def build(con, start, end, *args):
        rows = real(con, start, end, *args)
        con.execute("UPDATE teleopti_queue_stats SET answ_call_cnt = answ_call_cnt + 1 "
                    "WHERE interval_start >= ? AND interval_start < ?", [start, end])
        return rows
    return build


def latest_check_status(instance, name: str):
    key = dg.AssetCheckKey(dg.AssetKey("teleopti_queue_stats"), name)
    (record,) = instance.event_log_storage.get_asset_check_execution_history(key, limit=1)
    return record.status


def test_a_failing_reconciliation_check_holds_the_files_in_the_outbox_until_a_passing_run(
        tmp_path, landing, warehouse, server, monkeypatch):
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus as Status

    resources = {"landing": landing, "warehouse": warehouse, "teleopti_sftp": sftp_for(server, tmp_path)}
    landing.write("ctr/2026/01/05/10/s-1-a", concat(leg("a", enqueue="09:05:00"), leg("b", enqueue="09:07:00")))
    with instance_for(make_dagster_home(tmp_path)) as instance:
        assert dg.materialize([stg_ctr], resources=resources, instance=instance).success
        with monkeypatch.context() as patch:
            patch.setattr(interval_stats, "build_queue_stats", corrupted_build(interval_stats.build_queue_stats))
            held = dg.materialize([teleopti_assets.teleopti_queue_stats], resources=resources, instance=instance,
                                  partition_key=KEY, raise_on_error=False)

        assert not held.success
        assert server.files() == {}  # nothing reached Teleopti
        outbox_file = tmp_path / "outbox" / FILE
        assert outbox_file.exists() and outbox_file.read_text().count("\n") == 1  # written, held
        assert latest_check_status(instance, "offered_equals_outcomes") == Status.FAILED
        (failure,) = held.get_step_failure_events()
        message = failure.step_failure_data.error.message
        assert "offered_equals_outcomes" in message and "2026-01-05 09:00" in message
        assert "held in the outbox" in message and len(message.strip().splitlines()) == 1
        meta = held.asset_materializations_for_node("teleopti_queue_stats")[0].metadata
        assert meta["files_undelivered"].value == 1 and meta["files_delivered"].value == 0

        fixed = dg.materialize([teleopti_assets.teleopti_queue_stats], resources=resources, instance=instance,
                               partition_key=KEY)
        assert fixed.success
        assert latest_check_status(instance, "offered_equals_outcomes") == Status.SUCCEEDED
        assert server.files() == {FILE: outbox_file.read_bytes()}  # the corrected file, delivered once
