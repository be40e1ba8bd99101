"""boto3 clients, made in one place so every S3 and Kinesis call shares one retry policy.

botocore's default ("legacy", 5 attempts for S3 reads, 3 for most calls) fails a run when S3 answers a burst
with `503 SlowDown`; the adaptive mode retries with backoff and slows the client down while the service throttles.
`CC_AWS_RETRY_MODE` and `CC_AWS_MAX_ATTEMPTS` set it (settings.py).
"""
from __future__ import annotations

import functools

from cc_reporting.settings import load_settings


def retry_config(max_attempts: int | None = None, mode: str | None = None):
    from botocore.config import Config

    settings = load_settings()
    return Config(retries={"max_attempts": max_attempts or settings.aws_max_attempts,
                           "mode": mode or settings.aws_retry_mode})


@functools.lru_cache(maxsize=16)
def _cached_client(service: str, endpoint_url: str | None, max_attempts: int, mode: str):
    import boto3

    return boto3.client(service, endpoint_url=endpoint_url, config=retry_config(max_attempts, mode))


def aws_client(service: str, endpoint_url: str | None = None):
    """One client per service, endpoint and retry policy: creating a boto3 client costs more than a small GET."""
    settings = load_settings()
    return _cached_client(service, endpoint_url, settings.aws_max_attempts, settings.aws_retry_mode)
