"""boto3 clients, made in one place so every S3 and Kinesis call shares one retry policy.

botocore's default ("standard", 3 attempts) fails a staging run when S3 answers 30 % of requests with
`503 SlowDown` ("reached max retries: 2"); the adaptive mode retries with backoff and slows the client down while
the service throttles. `CC_AWS_RETRY_MODE` and `CC_AWS_MAX_ATTEMPTS` (every attempt, the first included) set it.
"""
from __future__ import annotations

import functools
import threading

from cc_reporting.settings import load_settings

_LOCK = threading.Lock()  # boto3's default session is not thread-safe while it creates a client


def retry_config(max_attempts: int | None = None, mode: str | None = None, max_pool_connections: int = 10):
    from botocore.config import Config

    settings = load_settings()
    # botocore's `max_attempts` counts retries after the first attempt; `total_max_attempts` counts every attempt,
    # as AWS_MAX_ATTEMPTS does: CC_AWS_MAX_ATTEMPTS=1 means one attempt and no retry.
    attempts = max(1, max_attempts or settings.aws_max_attempts)
    return Config(retries={"total_max_attempts": attempts, "mode": mode or settings.aws_retry_mode},
                  max_pool_connections=max_pool_connections)


@functools.lru_cache(maxsize=16)
def _cached_client(service: str, endpoint_url: str | None, max_attempts: int, mode: str, max_pool_connections: int,
                   region_name: str | None = None):
    import boto3

    return boto3.client(service, endpoint_url=endpoint_url, region_name=region_name,
                        config=retry_config(max_attempts, mode, max_pool_connections))


def aws_client(service: str, endpoint_url: str | None = None, max_pool_connections: int = 10):
    """One client per service, endpoint and retry policy: creating a boto3 client costs more than a small GET.

    `max_pool_connections` bounds the client's open HTTP connections: at least the threads that share it."""
    settings = load_settings()
    with _LOCK:
        return _cached_client(service, endpoint_url, settings.aws_max_attempts, settings.aws_retry_mode,
                              max_pool_connections)


def connect_client(region_name: str, endpoint_url: str | None = None):
    """The Amazon Connect client of the reconciliation, with the same retry policy: GetMetricDataV2 answers bursts
    with 429 TooManyRequestsException / ThrottlingException, which botocore retries with backoff."""
    settings = load_settings()
    with _LOCK:
        return _cached_client("connect", endpoint_url, settings.aws_max_attempts, settings.aws_retry_mode, 10,
                              region_name)
