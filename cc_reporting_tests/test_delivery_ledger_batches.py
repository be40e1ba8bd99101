"""The delivery ledger is read and written set-based: the held content of a batch's names in one query, the renamed
files recorded in one INSERT per `RECORD_BATCH`, each with its own rename time."""
from cc_reporting.delivery import delivery_ledger
from cc_reporting_tests.sftp_server import sftp_server  # noqa: F401
from cc_reporting_tests.test_sftp_delivery import ledger, sftp_for, write_day


class CountingConnection:
    """The warehouse connection, counting the ledger INSERT statements that go through it."""

    def __init__(self, con):
        self.con, self.inserts = con, 0

    def execute(self, sql, *args):
        self.inserts += "INSERT INTO teleopti_delivery_ledger" in sql
        return self.con.execute(sql, *args)


def test_a_days_deliveries_are_recorded_in_one_insert_per_batch_each_with_its_rename_time(
        sftp_server, tmp_path, warehouse):
    files = write_day(tmp_path / "outbox")  # 96 files
    with warehouse.connect() as con:
        counting = CountingConnection(con)
        report = delivery_ledger.deliver(counting, sftp_for(sftp_server, tmp_path), files)
        times = [r[0] for r in con.execute("SELECT delivered_at FROM teleopti_delivery_ledger").fetchall()]
    assert len(report.sent) == 96 and len(ledger(warehouse)) == 96
    assert counting.inserts == -(-96 // delivery_ledger.RECORD_BATCH) == 2
    assert len(set(times)) > 1  # each file's own time, not the batch's
    assert [r[2] for r in ledger(warehouse)] == [f.remote_name for f in report.sent]  # in rename order


def test_latest_sha256_reads_only_the_names_asked_for(sftp_server, tmp_path, warehouse):
    files = write_day(tmp_path / "outbox", intervals=2)
    sftp = sftp_for(sftp_server, tmp_path)
    with warehouse.connect() as con:
        delivery_ledger.deliver(con, sftp, files)
        asked = [files[0].remote_name, "queue_stats/never_delivered.csv"]
        assert delivery_ledger.latest_sha256(con, sftp.target, asked) == {files[0].remote_name: ledger(warehouse)[0][3]}
        assert len(delivery_ledger.latest_sha256(con, sftp.target)) == 4
