"""The Teleopti SFTP target (docs/teleopti-feed.md §8): verified host key, credentials from the environment,
upload to a temporary name + size check + rename, transient errors retried with backoff.

Credentials come only from `CC_TELEOPTI_SFTP_*` (`teleopti_sftp_from_env`); the password is masked in `repr`
and scrubbed from every `DeliveryError` message.
"""
from __future__ import annotations

import errno
import io
import logging
import os
import posixpath
import re
import secrets
import socket
import stat
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import dagster as dg
import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

log = logging.getLogger(__name__)

ENV_PREFIX = "CC_TELEOPTI_SFTP"
# resource field -> variable suffix: `CC_TELEOPTI_SFTP_<suffix>`, or `CC_TELEOPTI_SFTP_<INSTANCE>_<suffix>`
_ENV_FIELDS = {"host": "HOST", "port": "PORT", "user": "USER", "key_file": "KEY_FILE", "password": "PASSWORD",
               "remote_dir": "DIR", "known_hosts": "KNOWN_HOSTS"}


class DeliveryError(Exception):
    """A delivery that failed: permanently (auth, host key, remote path) or after the last retry.

    `delivered` lists the remote names that did reach their final name before the failure; `deliver` adds
    its partial `report`."""

    report = None

    def __init__(self, message: str, *, permanent: bool, delivered: list[str] | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.delivered = list(delivered or [])


class HostKeyRefused(DeliveryError):
    """The server's host key is not the one pinned in known_hosts (unknown or changed)."""


class _RefuseUnknownHost(paramiko.MissingHostKeyPolicy):
    """Never trust on first use: an unpinned host is an error the operator resolves by pinning the key."""

    def __init__(self, known_hosts: str):
        self.known_hosts = known_hosts

    def missing_host_key(self, client, hostname, key):
        raise HostKeyRefused(
            f"host key of {hostname} is not pinned in {self.known_hosts}: server offered {key.get_name()} "
            f"{key.fingerprint}; verify it with the receiver, then add it to that known_hosts file",
            permanent=True,
        )


# Our temp names (`_Uploader.put`): `.<final name>.part-<8 hex>`; nothing else is ever swept.
_PART_NAME = re.compile(r"\..+\.part-[0-9a-f]{8}")

# Errno values that no retry can fix: the remote path is wrong or we may not write there.
_PERMANENT_ERRNOS = {errno.ENOENT, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EISDIR, errno.EROFS}


def _is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, DeliveryError):
        return exc.permanent
    if isinstance(exc, (paramiko.AuthenticationException, paramiko.BadHostKeyException,
                        paramiko.IncompatiblePeer)):
        return True
    if isinstance(exc, paramiko.SSHException) or isinstance(exc, EOFError):
        return False  # a dropped or reset session: reconnect and carry on
    if isinstance(exc, (socket.timeout, ConnectionError, socket.gaierror)):
        return False
    if isinstance(exc, OSError):
        return exc.errno in _PERMANENT_ERRNOS
    return True  # a bug, not the network: retrying would only hide it


class TeleoptiSftp(dg.ConfigurableResource):
    """The SFTP target; with `host` unset nothing is sent and the local outbox is the destination."""

    host: Optional[str] = None
    port: int = 22
    user: Optional[str] = None
    key_file: Optional[str] = None
    password: Optional[str] = None  # or the passphrase of an encrypted key_file
    remote_dir: str = "."
    known_hosts: Optional[str] = None  # OpenSSH format; unset → ~/.ssh/known_hosts
    attempts: int = 5
    backoff_seconds: float = 2.0
    timeout_seconds: float = 30
    # A `.part-` temp file untouched this long (server clock) is a killed upload's leftover, not a live one: a live
    # upload writes or renames it within timeout_seconds.
    stale_part_seconds: float = 600

    def __repr_args__(self):  # pydantic repr/str: never show the secret
        for name, value in super().__repr_args__():
            yield name, ("***" if name == "password" and value else value)

    @classmethod
    def from_env(cls, **overrides) -> "TeleoptiSftp":
        return teleopti_sftp_from_env(**overrides)

    def for_instance(self, name: str) -> "TeleoptiSftp":
        """This target as one Connect instance sees it: every `CC_TELEOPTI_SFTP_<NAME>_*` variable that is set
        replaces the shared value (read at run time, like the shared ones; never stored in run config). Host-key
        checking is the same for every instance."""
        values = {field: getattr(self, field) for field in type(self).model_fields}
        for field, suffix in _ENV_FIELDS.items():
            value = dg.EnvVar(f"{ENV_PREFIX}_{name.upper()}_{suffix}").get_value()
            if value:
                values[field] = int(value) if field == "port" else value
        return TeleoptiSftp(**values)

    @property
    def configured(self) -> bool:
        return bool(self.host)

    @property
    def target(self) -> str:
        """The ledger's name for this destination."""
        return f"sftp://{self.user}@{self.host}:{self.port}/{self.remote_dir}"

    def _scrub(self, text: str) -> str:
        return text.replace(self.password, "***") if self.password else text

    def _fail(self, exc: BaseException, message: str, delivered: list[str]) -> DeliveryError:
        cls = type(exc) if isinstance(exc, DeliveryError) else DeliveryError  # keep HostKeyRefused
        return cls(self._scrub(f"{self.target}: {message}"), permanent=_is_permanent(exc), delivered=delivered)

    def _load_key(self) -> Optional[paramiko.PKey]:
        if not self.key_file:
            return None
        try:
            return load_private_key(self.key_file, self.password)
        except FileNotFoundError:
            raise DeliveryError(f"{self.target}: key file {self.key_file} not found", permanent=True) from None
        except (TypeError, ValueError, paramiko.SSHException) as exc:  # wrong passphrase, unsupported format
            raise DeliveryError(self._scrub(f"{self.target}: cannot load key file {self.key_file}: {exc}"),
                                permanent=True) from None

    @contextmanager
    def _session(self, pkey) -> Iterator[paramiko.SFTPClient]:
        known_hosts = self.known_hosts or os.path.expanduser("~/.ssh/known_hosts")
        client = paramiko.SSHClient()
        try:
            if os.path.exists(known_hosts):
                client.get_host_keys().load(known_hosts)
            elif self.known_hosts:
                raise DeliveryError(f"known_hosts file {known_hosts} not found", permanent=True)
            client.set_missing_host_key_policy(_RefuseUnknownHost(known_hosts))
            try:
                client.connect(
                    self.host, port=self.port, username=self.user, password=self.password, pkey=pkey,
                    timeout=self.timeout_seconds, banner_timeout=self.timeout_seconds,
                    auth_timeout=self.timeout_seconds,
                    allow_agent=False, look_for_keys=False,  # only the configured credentials, nothing ambient
                )
            except paramiko.BadHostKeyException as exc:
                raise HostKeyRefused(
                    f"host key of {self.host}:{self.port} CHANGED: server offered {exc.key.get_name()} "
                    f"{exc.key.fingerprint}, {known_hosts} pins {exc.expected_key.get_name()} "
                    f"{exc.expected_key.fingerprint}; refusing (a man-in-the-middle, or the receiver rotated its key)",
                    permanent=True,
                ) from None
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(self.timeout_seconds)  # a hung server becomes a (transient) timeout
            yield sftp
        finally:
            client.close()

    def upload(self, files: list[tuple[Path, str]]) -> list[str]:
        """Upload (local path, name relative to remote_dir) pairs over one connection; the names delivered."""
        return [name for _, name in self.iter_upload(files)]

    def iter_upload(self, files: list[tuple[Path, str]]) -> Iterator[tuple[Path, str]]:
        """Yield each (local path, name) right after it reaches its final name, so the caller can record it.

        Transient errors reconnect and resume with the files not yet done; `attempts` bounds the consecutive
        failures without progress, waiting `backoff_seconds * 2**n` between them. Raises `DeliveryError`."""
        if not self.configured:
            raise DeliveryError("no SFTP host configured (CC_TELEOPTI_SFTP_HOST)", permanent=True)
        pkey = self._load_key()
        pending, done = list(files), []
        leftovers: set[str] = set()  # temp files of interrupted uploads, removed once reconnected
        failures = 0
        while pending:
            try:
                with self._session(pkey) as sftp:
                    _check_remote_dir(sftp, self.remote_dir)
                    _remove_quietly(sftp, leftovers)
                    uploader = _Uploader(sftp, self.remote_dir, self.stale_part_seconds)
                    while pending:
                        local, name = pending[0]
                        uploader.put(local, name, leftovers)
                        done.append(name)
                        pending.pop(0)
                        failures = 0
                        yield local, name  # the caller's own errors are raised in its frame, not here
                    _remove_quietly(sftp, leftovers)
            except Exception as exc:
                reason = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
                if _is_permanent(exc):
                    raise self._fail(exc, reason, done) from None
                failures += 1
                if failures >= self.attempts:
                    raise self._fail(exc, f"gave up after {failures} attempts, {len(pending)} file(s) not "
                                          f"delivered: {reason}", done) from None
                delay = self.backoff_seconds * 2 ** (failures - 1)
                log.warning("SFTP %s: %s; attempt %d/%d in %.2fs", self.target, self._scrub(reason),
                            failures + 1, self.attempts, delay)
                time.sleep(delay)


class _Uploader:
    """One connection's uploads: subfolders created once, temp name + size check + rename per file, and each
    folder written swept once of stale temp files that killed uploads left."""

    def __init__(self, sftp: paramiko.SFTPClient, remote_dir: str, stale_part_seconds: float = 600):
        self.sftp, self.remote_dir = sftp, remote_dir
        self.stale_part_seconds = stale_part_seconds
        self.dirs: set[str] = set()
        self.swept: set[str] = set()
        self.posix_rename = True

    def put(self, local: Path, name: str, leftovers: set[str]) -> None:
        final = posixpath.join(self.remote_dir, name)
        folder, base = posixpath.split(final)
        self._ensure_dir(folder, posixpath.dirname(name))
        # Same folder as the final name, so the rename is atomic; a dot name the receiver ignores.
        temp = posixpath.join(folder, f".{base}.part-{secrets.token_hex(4)}")
        size = Path(local).stat().st_size
        leftovers.add(temp)
        self.sftp.put(str(local), temp, confirm=False)
        attrs = self.sftp.stat(temp)
        if attrs.st_size != size:
            _remove_quietly(self.sftp, {temp})
            leftovers.discard(temp)
            raise OSError(f"size check failed for {name}: sent {size} bytes, server has {attrs.st_size}")
        self._rename(temp, final)
        leftovers.discard(temp)
        if folder not in self.swept:
            self.swept.add(folder)
            self._sweep(folder, server_now=attrs.st_mtime)

    def _sweep(self, folder: str, server_now: Optional[int]) -> None:
        """Remove our stale `.part-` files in `folder`; `server_now` is the mtime of the file just written, so a
        skewed clock between us and the server cannot make a live upload of another process look stale."""
        if server_now is None:
            return  # the server reports no times: nothing can be proven stale
        try:
            entries = self.sftp.listdir_attr(folder)
        except OSError as exc:  # a write-only drop box may refuse listing: delivery matters more than tidying
            log.warning("SFTP: cannot list %s to remove stale temp files: %s", folder, exc)
            return
        stale = {posixpath.join(folder, e.filename) for e in entries
                 if _PART_NAME.fullmatch(e.filename) and stat.S_ISREG(e.st_mode or 0)
                 and e.st_mtime is not None and e.st_mtime < server_now - self.stale_part_seconds}
        _remove_quietly(self.sftp, stale)
        if stale:
            log.info("SFTP: removed %d stale temp file(s) of interrupted uploads in %s", len(stale), folder)

    def _rename(self, temp: str, final: str) -> None:
        if self.posix_rename:
            try:  # replaces an existing file atomically
                self.sftp.posix_rename(temp, final)
                return
            except OSError as exc:
                if exc.errno in _PERMANENT_ERRNOS:
                    raise
                self.posix_rename = False  # server lacks posix-rename@openssh.com
        # Plain SFTP rename fails on an existing target: remove it first (a brief gap, never a partial file).
        try:
            self.sftp.remove(final)
        except FileNotFoundError:
            pass
        self.sftp.rename(temp, final)

    def _ensure_dir(self, folder: str, relative: str) -> None:
        """Create the subfolders of `name` under remote_dir (never remote_dir itself: missing is an error)."""
        if not relative or folder in self.dirs:
            return
        parent = posixpath.dirname(folder)
        self._ensure_dir(parent, posixpath.dirname(relative))
        try:
            if not stat.S_ISDIR(self.sftp.stat(folder).st_mode or 0):
                raise NotADirectoryError(errno.ENOTDIR, f"{folder} is not a folder")
        except FileNotFoundError:
            self.sftp.mkdir(folder)
        self.dirs.add(folder)


def _check_remote_dir(sftp: paramiko.SFTPClient, remote_dir: str) -> None:
    try:
        mode = sftp.stat(remote_dir).st_mode or 0
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, f"remote folder {remote_dir!r} does not exist") from None
    if not stat.S_ISDIR(mode):
        raise NotADirectoryError(errno.ENOTDIR, f"remote folder {remote_dir!r} is not a folder")


def _remove_quietly(sftp: paramiko.SFTPClient, paths: set[str]) -> None:
    for path in list(paths):
        try:
            sftp.remove(path)
        except FileNotFoundError:
            pass
        except OSError:
            continue  # keep it listed; the next connection tries again
        paths.discard(path)


def load_private_key(path: str, passphrase: Optional[str] = None) -> paramiko.PKey:
    """An ed25519, ECDSA or RSA private key (OpenSSH, PEM or PKCS#8; encrypted ones need `passphrase`).

    cryptography parses the file and paramiko gets the key object: paramiko's own OpenSSH parser misreads
    valid files whose private section has no padding (an ECDSA key with an empty comment, half the time)."""
    data = Path(path).expanduser().read_bytes()
    try:
        key = _parse_private_key(data, None)
    except TypeError:  # encrypted
        if not passphrase:
            raise TypeError("the key is encrypted and CC_TELEOPTI_SFTP_PASSWORD (its passphrase) is not set") from None
        key = _parse_private_key(data, passphrase.encode())
    if isinstance(key, ed25519.Ed25519PrivateKey):  # paramiko reads ed25519 only from OpenSSH text
        text = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                 serialization.NoEncryption()).decode()
        return paramiko.Ed25519Key(file_obj=io.StringIO(text))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return paramiko.ECDSAKey(vals=(key, key.public_key()))
    if isinstance(key, rsa.RSAPrivateKey):
        return paramiko.RSAKey(key=key)
    raise ValueError(f"unsupported key type {type(key).__name__} (use ed25519, ECDSA or RSA)")


def _parse_private_key(data: bytes, password: Optional[bytes]):
    if b"BEGIN OPENSSH PRIVATE KEY" in data:
        return serialization.load_ssh_private_key(data, password=password)
    return serialization.load_pem_private_key(data, password=password)  # PEM / PKCS#8


def teleopti_sftp_from_env(**overrides) -> TeleoptiSftp:
    """The resource from `CC_TELEOPTI_SFTP_{HOST,PORT,USER,KEY_FILE,PASSWORD,DIR,KNOWN_HOSTS}`.

    Set variables become `dg.EnvVar`s (resolved at run time, never stored in config); unset ones stay None,
    because an EnvVar for an unset variable fails resource initialisation."""
    def var(suffix: str):
        name = f"{ENV_PREFIX}_{suffix}"
        return dg.EnvVar(name) if dg.EnvVar(name).get_value() else None

    fields = {
        "host": var("HOST"), "user": var("USER"), "key_file": var("KEY_FILE"), "password": var("PASSWORD"),
        "known_hosts": var("KNOWN_HOSTS"),
    }
    if dg.EnvVar(f"{ENV_PREFIX}_PORT").get_value():
        fields["port"] = dg.EnvVar.int(f"{ENV_PREFIX}_PORT")
    if dg.EnvVar(f"{ENV_PREFIX}_DIR").get_value():
        fields["remote_dir"] = var("DIR")
    fields.update(overrides)
    return TeleoptiSftp(**fields)
