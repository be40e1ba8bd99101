"""The landing zone: one interface over a local folder and an S3 prefix.

Every ingest asset, sensor and the simulator read and write through it, so the same code runs on a laptop
and on AWS. Keys are always relative to the zone's root (`ctr/2026/01/05/09/...`), with `/` separators.
"""
from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional

import dagster as dg


@dataclass(frozen=True)
class LandingObject:
    key: str
    etag: str
    size: int
    last_modified: datetime  # UTC, whole seconds (S3's resolution; local mtimes are truncated to match)


def _is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


@functools.lru_cache(maxsize=8)
def s3_client(endpoint_url: str | None):
    """One client per endpoint: creating a boto3 client costs more than a small GET."""
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url)


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
        base = Path(self.uri)
        start = base / prefix if prefix else base
        if not start.exists():
            return
        paths = sorted(p for p in start.rglob("*") if p.is_file() and not p.name.startswith("."))
        for path in paths:
            stat = path.stat()
            yield LandingObject(
                key=path.relative_to(base).as_posix(),
                etag=f"{stat.st_size:x}-{stat.st_mtime_ns:x}",
                size=stat.st_size,
                last_modified=datetime.fromtimestamp(int(stat.st_mtime), tz=timezone.utc),
            )

    def read(self, key: str) -> bytes:
        if _is_s3(self.uri):
            bucket, root = self._bucket_prefix()
            return self._client().get_object(Bucket=bucket, Key=root + key)["Body"].read()
        return self._local(key).read_bytes()

    def write(self, key: str, data: bytes) -> None:
        """Write an object; a local write is atomic (temp file + rename) so readers never see half a file."""
        if _is_s3(self.uri):
            bucket, root = self._bucket_prefix()
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id} if self.kms_key_id else {}
            self._client().put_object(Bucket=bucket, Key=root + key, Body=data, **extra)
            return
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
        self._local(key).unlink(missing_ok=True)

    def quarantine(self, key: str, data: bytes, reason: str) -> str:
        """Copy a bad object under `quarantine/` with its reason beside it; the original stays (raw is kept)."""
        target = f"quarantine/{key}"
        self.write(target, data)
        self.write(target + ".reason.txt", reason.encode("utf-8"))
        return target
