"""A real SFTP server for the delivery tests: asyncssh on 127.0.0.1, in a background thread with its own loop.

Rooted in a folder (asyncssh's chroot mapping), a fresh ed25519 host key per server, password and/or public
key auth, and a hook that cuts the connection mid-upload once, leaving a partial file behind as a real
network failure would.
"""
from __future__ import annotations

import asyncio
import threading
import warnings
from pathlib import Path

import asyncssh
import pytest

USER = "teleopti"


def write_client_key(path: Path, alg: str = "ssh-ed25519", passphrase: str | None = None) -> asyncssh.SSHKey:
    """A new private key in OpenSSH format at `path` (mode 0600); returns it (its public half authorises)."""
    key = asyncssh.generate_private_key(alg)
    with warnings.catch_warnings():  # few bcrypt rounds keep the tests fast; asyncssh warns about it
        warnings.simplefilter("ignore", UserWarning)
        path.write_bytes(key.export_private_key("openssh", passphrase, rounds=2))
    path.chmod(0o600)
    return key


def known_hosts_line(host: str, port: int, key: asyncssh.SSHKey) -> str:
    name = host if port == 22 else f"[{host}]:{port}"
    return f"{name} {key.export_public_key('openssh').decode().strip()}\n"


class SftpTestServer:
    def __init__(self, root: Path, *, user: str = USER, password: str | None = None,
                 client_keys: tuple[asyncssh.SSHKey, ...] = (), cut_after_bytes: int | None = None,
                 read_only: bool = False, posix_rename: bool = True):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.user, self.password = user, password
        self.client_keys = {k.export_public_key("openssh").split()[1] for k in client_keys}
        self.cut_after_bytes = cut_after_bytes  # cut the first connection that writes past this many bytes
        self.read_only = read_only  # every write is refused with "permission denied"
        self.posix_rename = posix_rename  # False: answer posix-rename@openssh.com with "unsupported"
        self.host, self.port = "127.0.0.1", 0
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.connections = 0  # SSH connections accepted (attempt counting)
        self.written = 0
        self.cut_snapshot: dict[str, int] | None = None  # root's files and sizes at the moment of the cut
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sftp-test-server", daemon=True)
        self._acceptor = None
        self._conns: list[asyncssh.SSHServerConnection] = []

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> "SftpTestServer":
        self._thread.start()
        self._acceptor = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)
        self.port = self._acceptor.get_port()
        return self

    def stop(self) -> None:
        async def close():
            self._acceptor.close()
            await self._acceptor.wait_closed()
            for conn in self._conns:  # sessions still open (a client that never said goodbye)
                conn.abort()
                await conn.wait_closed()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> "SftpTestServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    async def _listen(self):
        owner = self

        class Server(asyncssh.SSHServer):
            def connection_made(self, conn):
                owner.connections += 1
                owner._conns.append(conn)

            def begin_auth(self, username):
                return True  # always authenticate

            def password_auth_supported(self):
                return owner.password is not None

            def validate_password(self, username, password):
                return username == owner.user and password == owner.password

            def public_key_auth_supported(self):
                return bool(owner.client_keys)

            def validate_public_key(self, username, key):
                return username == owner.user and key.export_public_key("openssh").split()[1] in owner.client_keys

        return await asyncssh.listen(
            self.host, 0, server_host_keys=[self.host_key], server_factory=Server,
            sftp_factory=lambda chan: _RootedSFTP(chan, owner), allow_scp=False,
        )

    # -- helpers for tests -------------------------------------------------------------------------------
    def known_hosts(self, key: asyncssh.SSHKey | None = None) -> str:
        """A known_hosts line pinning this server (or `key` for it: a changed host key)."""
        return known_hosts_line(self.host, self.port, key or self.host_key)

    def files(self) -> dict[str, bytes]:
        """Every file under the root (dot files included), by path relative to it."""
        return {p.relative_to(self.root).as_posix(): p.read_bytes() for p in self.root.rglob("*") if p.is_file()}

    def _sizes(self) -> dict[str, int]:
        return {p.relative_to(self.root).as_posix(): p.stat().st_size for p in self.root.rglob("*") if p.is_file()}


class _RootedSFTP(asyncssh.SFTPServer):
    """Paths map under the server root (asyncssh's chroot); writes may be refused or cut."""

    def __init__(self, chan, owner: SftpTestServer):
        super().__init__(chan, chroot=str(owner.root).encode())
        self.owner = owner

    def open(self, path, pflags, attrs):
        if self.owner.read_only and pflags & asyncssh.FXF_WRITE:
            raise asyncssh.SFTPPermissionDenied("read-only test server")
        return super().open(path, pflags, attrs)

    def mkdir(self, path, attrs):
        if self.owner.read_only:
            raise asyncssh.SFTPPermissionDenied("read-only test server")
        return super().mkdir(path, attrs)

    def posix_rename(self, oldpath, newpath):
        if not self.owner.posix_rename:
            raise asyncssh.SFTPOpUnsupported("posix-rename not supported by this test server")
        return super().posix_rename(oldpath, newpath)

    def write(self, file_obj, offset, data):
        owner = self.owner
        limit = owner.cut_after_bytes
        if limit is not None and owner.cut_snapshot is None and owner.written + len(data) > limit:
            # Write only part of this chunk, then drop the connection: a network failure mid-upload.
            keep = max(limit - owner.written, 0)
            super().write(file_obj, offset, data[:keep])
            file_obj.flush()
            owner.written += keep
            owner.cut_snapshot = owner._sizes()
            self.connection.abort()
            return keep
        owner.written += len(data)
        return super().write(file_obj, offset, data)


@pytest.fixture
def sftp_server(tmp_path):
    """A password-auth server; tests needing keys, cuts or refusals build `SftpTestServer` themselves."""
    with SftpTestServer(tmp_path / "sftp-root", password="s3cret-pw") as server:
        yield server
