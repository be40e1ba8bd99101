"""Teleopti SFTP delivery (teleopti-feed.md "Delivery") against a real asyncssh server on 127.0.0.1."""
from __future__ import annotations

import hashlib
import logging
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncssh
import dagster as dg
import pytest

from cc_reporting.delivery.delivery_ledger import OUTBOX_ONLY, DeliveryFile, deliver
from cc_reporting.delivery.sftp import DeliveryError, HostKeyRefused, TeleoptiSftp, teleopti_sftp_from_env
from cc_reporting.resources.warehouse import Warehouse
from cc_reporting_tests.conftest import free_port
from cc_reporting_tests.sftp_server import USER, SftpTestServer, sftp_server, write_client_key  # noqa: F401

PASSWORD = "s3cret-pw"  # the sftp_server fixture's
DAY = datetime(2026, 1, 5, tzinfo=timezone.utc)
KINDS = ("queue_stats", "agent_performance")


def sftp_for(server: SftpTestServer, tmp_path: Path, **kwargs) -> TeleoptiSftp:
    """The resource pointed at `server`, its host key pinned, tiny backoff."""
    known_hosts = tmp_path / "known_hosts"
    if not known_hosts.exists():
        known_hosts.write_text(server.known_hosts())
    fields = dict(host=server.host, port=server.port, user=USER, password=PASSWORD, known_hosts=str(known_hosts),
                  attempts=3, backoff_seconds=0.01, timeout_seconds=5)
    return TeleoptiSftp(**(fields | kwargs))


def write_day(outbox: Path, intervals: int = 48) -> list[DeliveryFile]:
    """`intervals` quarter-hours × 2 kinds of small files in <outbox>/<kind>/, as the Files section names them."""
    files = []
    for i in range(intervals):
        start = DAY + timedelta(minutes=15 * i)
        for kind in KINDS:
            name = f"{kind}/{kind}_{start:%Y%m%d_%H%M}.csv"
            path = outbox / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f"{start:%Y-%m-%d;%H:%M};queue-{i};{i * 7};{i % 5}\n".encode() * (1 + i % 3))
            files.append(DeliveryFile(start, kind, path, name))
    return files


def ledger(warehouse) -> list[tuple]:
    with warehouse.connect() as con:
        return con.execute("""SELECT interval_start, kind, file_name, sha256, bytes, target
                              FROM teleopti_delivery_ledger ORDER BY delivered_at""").fetchall()


def run(warehouse, sftp, files, **kwargs):
    with warehouse.connect() as con:
        return deliver(con, sftp, files, **kwargs)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(key: asyncssh.SSHKey) -> str:
    return key.get_fingerprint("sha256")  # OpenSSH's SHA256:… form, as `ssh-keygen -lf` shows it


def test_a_day_is_delivered_once_over_one_connection(sftp_server, tmp_path, warehouse):
    files = write_day(tmp_path / "outbox")
    sftp = sftp_for(sftp_server, tmp_path)

    report = run(warehouse, sftp, files)

    assert len(files) == 96 and len(report.sent) == 96 and not report.failed and not report.skipped_identical
    assert report.destination == f"sftp://{USER}@127.0.0.1:{sftp_server.port}/."
    assert sftp_server.files() == {f.remote_name: f.path.read_bytes() for f in files}  # no temp files left
    assert sftp_server.connections == 1
    rows = ledger(warehouse)
    assert sorted(rows) == sorted(
        (f.interval_start, f.kind, f.remote_name, sha(f.path), f.path.stat().st_size, report.destination)
        for f in files
    )

    again = run(warehouse, sftp, files)  # nothing changed: nothing sent, no connection at all
    assert again.sent == [] and len(again.skipped_identical) == 96
    assert sftp_server.connections == 1 and len(ledger(warehouse)) == 96


def test_changed_file_is_delivered_again_under_the_same_name(sftp_server, tmp_path, warehouse):
    files = write_day(tmp_path / "outbox", intervals=2)
    sftp = sftp_for(sftp_server, tmp_path)
    run(warehouse, sftp, files)
    changed = files[1]
    old = changed.path.read_bytes()
    changed.path.write_bytes(old + b"late;contact;1;0\n")  # a late contact record updates the interval

    report = run(warehouse, sftp, files)

    assert [f.remote_name for f in report.sent] == [changed.remote_name] and len(report.skipped_identical) == 3
    assert sftp_server.files()[changed.remote_name] == changed.path.read_bytes()
    shas = [r[3] for r in ledger(warehouse) if r[2] == changed.remote_name]
    assert shas == [hashlib.sha256(old).hexdigest(), sha(changed.path)]

    # Back to the first content: the receiver holds the second, so it is sent again (latest delivery decides).
    changed.path.write_bytes(old)
    assert [f.remote_name for f in run(warehouse, sftp, files).sent] == [changed.remote_name]
    assert sftp_server.files()[changed.remote_name] == old


def test_without_posix_rename_an_existing_file_is_still_replaced(tmp_path, warehouse):
    with SftpTestServer(tmp_path / "root", password=PASSWORD, posix_rename=False) as server:
        files = write_day(tmp_path / "outbox", intervals=1)
        sftp = sftp_for(server, tmp_path)
        run(warehouse, sftp, files)
        files[0].path.write_bytes(b"new content\n")
        assert len(run(warehouse, sftp, files).sent) == 1
        assert server.files() == {f.remote_name: f.path.read_bytes() for f in files}


@pytest.mark.parametrize("alg, passphrase", [
    ("ssh-ed25519", None), ("ecdsa-sha2-nistp256", None), ("ssh-rsa", None), ("ecdsa-sha2-nistp384", "key pass"),
])
def test_key_authentication(tmp_path, alg, passphrase):
    key = write_client_key(tmp_path / "id_teleopti", alg, passphrase)
    local = tmp_path / "f.csv"
    local.write_bytes(b"1;2;3\n")
    with SftpTestServer(tmp_path / "root", client_keys=(key,)) as server:  # no password auth at all
        sftp = sftp_for(server, tmp_path, password=passphrase, key_file=str(tmp_path / "id_teleopti"))
        assert sftp.upload([(local, "f.csv")]) == ["f.csv"]
        assert server.files() == {"f.csv": b"1;2;3\n"}


def test_encrypted_key_without_passphrase_fails_at_once(tmp_path):
    key = write_client_key(tmp_path / "id_teleopti", "ssh-ed25519", "key pass")
    with SftpTestServer(tmp_path / "root", client_keys=(key,)) as server:
        sftp = sftp_for(server, tmp_path, password=None, key_file=str(tmp_path / "id_teleopti"))
        with pytest.raises(DeliveryError, match="encrypted") as err:
            sftp.upload([(tmp_path / "unused.csv", "f.csv")])
        assert err.value.permanent and server.connections == 0


def test_password_authentication_and_remote_dir(tmp_path):
    local = tmp_path / "f.csv"
    local.write_bytes(b"x\n")
    with SftpTestServer(tmp_path / "root", password=PASSWORD) as server:
        (server.root / "inbound").mkdir()
        sftp = sftp_for(server, tmp_path, remote_dir="inbound")
        assert sftp.upload([(local, "contacts/f.csv")]) == ["contacts/f.csv"]
        assert server.files() == {"inbound/contacts/f.csv": b"x\n"}


def test_unknown_host_key_is_refused(sftp_server, tmp_path, monkeypatch):
    local = tmp_path / "f.csv"
    local.write_bytes(b"x\n")
    (tmp_path / "known_hosts").write_text("")  # nothing pinned
    sftp = sftp_for(sftp_server, tmp_path)
    with pytest.raises(HostKeyRefused) as err:
        sftp.upload([(local, "f.csv")])
    message = str(err.value)
    assert f"[127.0.0.1]:{sftp_server.port}" in message and fingerprint(sftp_server.host_key) in message
    assert err.value.permanent and sftp_server.connections == 1 and sftp_server.files() == {}

    # known_hosts unset → ~/.ssh/known_hosts, like OpenSSH; never trust on first use.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(HostKeyRefused, match="not pinned"):
        sftp_for(sftp_server, tmp_path, known_hosts=None).upload([(local, "f.csv")])
    assert sftp_server.files() == {}


def test_changed_host_key_is_refused(sftp_server, tmp_path):
    local = tmp_path / "f.csv"
    local.write_bytes(b"x\n")
    pinned = asyncssh.generate_private_key("ssh-ed25519")  # what the host used to present
    (tmp_path / "known_hosts").write_text(sftp_server.known_hosts(pinned))
    with pytest.raises(HostKeyRefused) as err:
        sftp_for(sftp_server, tmp_path).upload([(local, "f.csv")])
    message = str(err.value)
    assert "CHANGED" in message and f"127.0.0.1:{sftp_server.port}" in message
    assert fingerprint(sftp_server.host_key) in message and fingerprint(pinned) in message
    assert sftp_server.connections == 1 and sftp_server.files() == {}


@pytest.mark.parametrize("setup, expected", [
    ({"password": "wrong-password"}, "Authentication failed"),
    ({"remote_dir": "missing"}, "remote folder 'missing' does not exist"),
])
def test_permanent_errors_fail_at_once(sftp_server, tmp_path, setup, expected):
    local = tmp_path / "f.csv"
    local.write_bytes(b"x\n")
    sftp = sftp_for(sftp_server, tmp_path, attempts=5, backoff_seconds=1.0, **setup)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match=expected) as err:
        sftp.upload([(local, "f.csv")])
    assert time.monotonic() - started < 1.0 and sftp_server.connections == 1  # no retry, no backoff
    assert err.value.permanent and "wrong-password" not in str(err.value) and PASSWORD not in str(err.value)


def test_permission_denied_fails_at_once(tmp_path):
    local = tmp_path / "f.csv"
    local.write_bytes(b"x\n")
    with SftpTestServer(tmp_path / "root", password=PASSWORD, read_only=True) as server:
        with pytest.raises(DeliveryError, match="PermissionError") as err:
            sftp_for(server, tmp_path, attempts=5, backoff_seconds=1.0).upload([(local, "f.csv")])
        assert err.value.permanent and server.connections == 1


def test_unreachable_server_is_retried_with_backoff_then_fails(tmp_path):
    local = tmp_path / "f.csv"
    local.write_bytes(b"x\n")
    (tmp_path / "known_hosts").write_text("")
    sftp = TeleoptiSftp(host="127.0.0.1", port=free_port(), user=USER, password=PASSWORD,
                        known_hosts=str(tmp_path / "known_hosts"), attempts=3, backoff_seconds=0.05)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="gave up after 3 attempts") as err:
        sftp.upload([(local, "f.csv")])
    assert time.monotonic() - started >= 0.05 + 0.1  # two waits: 0.05, then 0.1
    assert not err.value.permanent and PASSWORD not in str(err.value)


def test_connection_cut_mid_upload_is_resumed_without_partial_files(tmp_path, warehouse, caplog):
    files = write_day(tmp_path / "outbox", intervals=3)
    for f in files:
        f.path.write_bytes(f.path.read_bytes() * 400)  # ~10-20 KB each, so the cut lands inside a file
    sizes = [f.path.stat().st_size for f in files]
    cut_at = sum(sizes[:2]) + sizes[2] // 2  # halfway through the third file
    with SftpTestServer(tmp_path / "root", password=PASSWORD, cut_after_bytes=cut_at) as server:
        with caplog.at_level(logging.WARNING):
            report = run(warehouse, sftp_for(server, tmp_path), files)

        # At the cut the receiver saw two complete files and a partial one under a temporary dot name only.
        snapshot = server.cut_snapshot
        assert {n: s for n, s in snapshot.items() if not n.rsplit("/", 1)[-1].startswith(".")} == {
            f.remote_name: f.path.stat().st_size for f in files[:2]}
        (partial, partial_size), = [(n, s) for n, s in snapshot.items() if n.rsplit("/", 1)[-1].startswith(".")]
        assert partial.startswith(f"{files[2].kind}/.{Path(files[2].remote_name).name}.part-")
        assert 0 < partial_size < sizes[2]

        # The retry reconnected once, finished the rest and removed the orphaned temp file.
        assert len(report.sent) == 6 and server.connections == 2
        assert server.files() == {f.remote_name: f.path.read_bytes() for f in files}
        assert len(ledger(warehouse)) == 6
        assert "attempt 2/3" in caplog.text and PASSWORD not in caplog.text  # the retry is logged


def test_failure_mid_batch_leaves_the_ledger_with_what_completed(tmp_path, warehouse):
    files = write_day(tmp_path / "outbox", intervals=3)
    for f in files:
        f.path.write_bytes(f.path.read_bytes() * 400)
    cut_at = sum(f.path.stat().st_size for f in files[:3]) + 10  # just into the fourth file
    with SftpTestServer(tmp_path / "root", password=PASSWORD, cut_after_bytes=cut_at) as server:
        with pytest.raises(DeliveryError, match="gave up after 1 attempts") as err:
            run(warehouse, sftp_for(server, tmp_path, attempts=1), files)
    report = err.value.report
    assert [f.remote_name for f in report.sent] == [f.remote_name for f in files[:3]]
    assert [f.remote_name for f in report.failed] == [f.remote_name for f in files[3:]]
    assert err.value.delivered == [f.remote_name for f in files[:3]]
    assert [r[2] for r in ledger(warehouse)] == [f.remote_name for f in files[:3]]


def test_without_sftp_the_outbox_is_the_destination(tmp_path, warehouse):
    files = write_day(tmp_path / "outbox", intervals=1)
    sftp = teleopti_sftp_from_env().process_config_and_initialize()  # no CC_TELEOPTI_SFTP_* set
    assert not sftp.configured
    report = run(warehouse, sftp, files)
    assert report.destination == OUTBOX_ONLY == "outbox only" and report.sent == [] and report.failed == []
    assert report.metadata()["destination"] == "outbox only"


def test_environment_credentials_in_a_dagster_run(sftp_server, tmp_path, warehouse, monkeypatch, capfd):
    (sftp_server.root / "in").mkdir()
    (tmp_path / "known_hosts").write_text(sftp_server.known_hosts())
    for suffix, value in {"HOST": "127.0.0.1", "PORT": str(sftp_server.port), "USER": USER, "PASSWORD": PASSWORD,
                          "DIR": "in", "KNOWN_HOSTS": str(tmp_path / "known_hosts")}.items():
        monkeypatch.setenv(f"CC_TELEOPTI_SFTP_{suffix}", value)
    files = write_day(tmp_path / "outbox", intervals=1)

    @dg.asset
    def teleopti_delivery(context, sftp: TeleoptiSftp, warehouse: Warehouse):
        context.log.info(f"delivering with {sftp!r}")
        with warehouse.connect() as con:
            report = deliver(con, sftp, files)
        context.add_output_metadata(report.metadata())
        return len(report.sent)

    resource = teleopti_sftp_from_env(backoff_seconds=0.01)
    result = dg.materialize([teleopti_delivery], resources={"sftp": resource, "warehouse": warehouse})
    assert result.success and result.output_for_node("teleopti_delivery") == 2
    assert set(sftp_server.files()) == {f"in/{f.remote_name}" for f in files}
    assert ledger(warehouse)[0][5] == f"sftp://{USER}@127.0.0.1:{sftp_server.port}/in"
    logs = capfd.readouterr().err  # Dagster's console log of the run
    assert "delivering with TeleoptiSftp(" in logs and "password='***'" in logs and PASSWORD not in logs


def test_password_never_shown(tmp_path):
    sftp = TeleoptiSftp(host="127.0.0.1", port=free_port(), user=USER, password=PASSWORD, attempts=1)
    assert PASSWORD not in repr(sftp) and PASSWORD not in str(sftp) and "password='***'" in repr(sftp)
    local = tmp_path / "f.csv"
    local.write_bytes(b"x\n")
    with pytest.raises(DeliveryError) as err:
        sftp.upload([(local, "f.csv")])
    assert PASSWORD not in str(err.value)
