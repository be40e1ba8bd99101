"""The landing zone: one interface over a local folder and an S3 prefix.

Every ingest asset, sensor and the simulator read and write through it, so the same code runs on a laptop
and on AWS. Keys are always relative to the zone's root (`ctr/2026/01/05/09/...`), with `/` separators.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional

import dagster as dg

from cc_reporting.resources.aws import aws_client


@dataclass(frozen=True)
class LandingObject:
    key: str
    etag: str
    size: int
    last_modified: datetime  # UTC, whole seconds (S3's resolution; local mtimes are truncated to match)


@dataclass(frozen=True)
class RefusedKey:
    """A local landing entry that is not read: a symlink (file or folder), a non-regular file, or a key outside."""

    key: str
    reason: str


class LandingKeyRefused(ValueError):
    """A key a local landing zone will not read or write (its message is one line, without file contents)."""


def _is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def s3_client(endpoint_url: str | None):
    """The S3 client of an endpoint, with the project's retry policy (resources/aws.py)."""
    return aws_client("s3", endpoint_url)


class LandingZone(dg.ConfigurableResource):
    """`uri` is a folder or `s3://bucket/prefix`; `endpoint_url` points boto3 at moto/LocalStack/MinIO."""

    uri: str
    endpoint_url: Optional[str] = None
    kms_key_id: Optional[str] = None

    # -- S3 plumbing -------------------------------------------------------------------------------
    def _bucket_prefix(self) -> tuple[str, str]:
        rest = self.uri[len("s3://"):]
        bucket, _, prefix = rest.partition("/")
        return bucket, (prefix.strip("/") + "/") if prefix.strip("/") else ""

    def _client(self):
        return s3_client(self.endpoint_url)

    def _local(self, key: str) -> Path:
        return Path(self.uri) / key

    # -- interface ---------------------------------------------------------------------------------
    def list(self, prefix: str = "") -> Iterator[LandingObject]:
        """Every object under `prefix`, in key order, across all pages (S3 pages hold 1,000 keys)."""
        if _is_s3(self.uri):
            bucket, root = self._bucket_prefix()
            paginator = self._client().get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=root + prefix):
                for item in page.get("Contents", []):
                    yield LandingObject(
                        key=item["Key"][len(root):],
                        etag=item["ETag"].strip('"'),
                        size=item["Size"],
                        last_modified=item["LastModified"].astimezone(timezone.utc).replace(microsecond=0),
                    )
            return
        for path in self._walk_local(prefix, warn=True)[0]:
            stat_ = path.stat()
            yield LandingObject(
                key=path.relative_to(self.uri).as_posix(),
                etag=f"{stat_.st_size:x}-{stat_.st_mtime_ns:x}",
                size=stat_.st_size,
                last_modified=datetime.fromtimestamp(int(stat_.st_mtime), tz=timezone.utc),
            )

    def list_refused(self, prefix: str = "") -> list[RefusedKey]:
        """What `list(prefix)` leaves out of a local zone, with why (an S3 prefix has no symlinks: always empty)."""
        if _is_s3(self.uri):
            return []
        return self._walk_local(prefix, warn=False)[1]

    # -- local safety: a landing folder is written by others (Firehose sync, a report drop, an operator); a symlink
    # in it would make ingestion copy whatever it points at (a key, a config file) into quarantine/ or the
    # warehouse. Symlinks, non-regular files and keys leading out of the zone are refused, never followed.
    def _refusal(self, key: str) -> str | None:
        """Why `key` may not be used (a `..`/absolute key, or a symlink on its way), else None; lstat only."""
        parts = [p for p in key.split("/") if p]
        if key.startswith("/") or any(p in ("..", ".") for p in parts):
            return "resolves outside the landing zone"
        path = Path(self.uri)
        for i, part in enumerate(parts):
            path = path / part
            try:
                if stat.S_ISLNK(os.lstat(path).st_mode):
                    return "is a symlink" if i == len(parts) - 1 else \
                        f"passes through the symlink {'/'.join(parts[:i + 1])}"
            except FileNotFoundError:
                return None
        return None

    def _refuse(self, key: str, reason: str | None) -> None:
        if reason:
            raise LandingKeyRefused(f"landing key {key!r} refused: {reason}")

    def _walk_local(self, prefix: str, warn: bool) -> tuple[list[Path], list[RefusedKey]]:
        """Regular files under `prefix` in key order, and the entries refused there; symlinked folders are not
        descended into (os.walk does not follow them)."""
        base = Path(self.uri)
        reason = self._refusal(prefix)
        refused = [RefusedKey(prefix, reason)] if reason else []
        start = base / prefix if prefix else base
        files: list[Path] = []
        if not reason and start.is_dir():
            for folder, dirs, names in os.walk(start):
                here = Path(folder)
                for name in sorted(dirs):
                    if os.path.islink(here / name):
                        refused.append(RefusedKey((here / name).relative_to(base).as_posix(), "is a symlinked folder"))
                for name in names:
                    if name.startswith("."):
                        continue                      # temp files of an atomic write, editor droppings
                    mode = os.lstat(here / name).st_mode
                    if stat.S_ISREG(mode):
                        files.append(here / name)
                    else:
                        why = "is a symlink" if stat.S_ISLNK(mode) else "is not a regular file"
                        refused.append(RefusedKey((here / name).relative_to(base).as_posix(), why))
        refused.sort(key=lambda r: r.key)
        if warn:
            log = dg.get_dagster_logger("cc_reporting.landing")
            for item in refused:
                log.warning(f"landing zone {self.uri}: {item.key} {item.reason}: not ingested")
        return sorted(files), refused

    def _read_local(self, key: str) -> bytes:
        """Open component by component without following any symlink (O_NOFOLLOW): a file swapped for a link
        after listing is refused too."""
        self._refuse(key, self._refusal(key))
        parts = [p for p in key.split("/") if p]
        fd = os.open(self.uri, os.O_RDONLY | os.O_DIRECTORY)    # the zone's own root may be a link: set up by ops
        try:
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                flags = os.O_RDONLY | os.O_NOFOLLOW | (os.O_NONBLOCK if last else os.O_DIRECTORY)
                try:
                    child = os.open(part, flags, dir_fd=fd)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR) and os.path.islink(Path(self.uri, *parts[:i + 1])):
                        self._refuse(key, "is a symlink" if last else "passes through a symlink")
                    raise
                os.close(fd)
                fd = child
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                self._refuse(key, "is not a regular file")
            with os.fdopen(fd, "rb") as handle:
                fd = -1
                return handle.read()
        finally:
            if fd >= 0:
                os.close(fd)

    def read(self, key: str) -> bytes:
        if _is_s3(self.uri):
            bucket, root = self._bucket_prefix()
            return self._client().get_object(Bucket=bucket, Key=root + key)["Body"].read()
        return self._read_local(key)

    def write(self, key: str, data: bytes) -> None:
        """Write an object; a local write is atomic (temp file + rename) so readers never see half a file."""
        if _is_s3(self.uri):
            bucket, root = self._bucket_prefix()
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id} if self.kms_key_id else {}
            self._client().put_object(Bucket=bucket, Key=root + key, Body=data, **extra)
            return
        self._refuse(key, self._refusal(key))
        path = self._local(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)

    def delete(self, key: str) -> None:
        if _is_s3(self.uri):
            bucket, root = self._bucket_prefix()
            self._client().delete_object(Bucket=bucket, Key=root + key)
            return
        self._refuse(key, self._refusal(key))
        self._local(key).unlink(missing_ok=True)

    def quarantine(self, key: str, data: bytes, reason: str) -> str:
        """Copy a bad object under `quarantine/` with its reason beside it; the original stays (raw is kept)."""
        target = f"quarantine/{key}"
        self.write(target, data)
        self.write(target + ".reason.txt", reason.encode("utf-8"))
        return target
