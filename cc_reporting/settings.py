"""Every setting of the project, read from the environment in one place (README.md, "Settings").

Each has a local default so a laptop needs no configuration; AWS is reached by configuration alone.
Secrets (SFTP password, key file, the RTA push key) are not here: they are read through `dg.EnvVar` where they are
used, so they never sit in a settings object, run config or log. No other module reads `os.environ`.
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "y", "on"}


@dataclass(frozen=True)
class ConnectInstance:
    """One Amazon Connect instance: the name every report shows, and where its objects land in the landing zone."""

    name: str
    prefix: str      # '' (the zone's root) or a folder ending in '/': `<prefix>ctr/`, `<prefix>reports/`, ...
    subfolder: str   # its Teleopti files' folder in the outbox and on the SFTP target; '' only for the default


DEFAULT_INSTANCE = ConnectInstance("default", "", "")
# The folders of an instance at the zone's root (and what the project keeps there): another instance's prefix may
# sit beside them, not inside them or named like them.
_ROOT_FOLDERS = {"", "ctr", "reports", "channels", "crm", "quarantine", "archive", "agent-events"}
_INSTANCE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


def parse_connect_instances(value: str | None) -> tuple[ConnectInstance, ...]:
    """`CC_CONNECT_INSTANCES`: `name=prefix` items, comma-separated; unset or empty is today's single root layout.

    A name is lower-case (`[a-z][a-z0-9_]*`: it also names the instance's `CC_TELEOPTI_SFTP_<NAME>_*` variables);
    a prefix is a relative folder of the landing zone, and no prefix may lie inside another (an object belongs to
    exactly one instance); one instance may stay at the root beside instances in folders. Raises ValueError with a
    one-line message."""
    if not (value or "").strip():
        return (DEFAULT_INSTANCE,)
    instances: list[ConnectInstance] = []
    for item in value.split(","):
        name, sep, prefix = (part.strip() for part in item.partition("="))
        problem = None
        if not sep or not _INSTANCE_NAME.fullmatch(name):
            problem = "is not name=prefix with a lower-case name (e.g. emea=connect/emea/)"
        elif prefix.startswith(("/", "s3://")) or ".." in prefix.split("/") or "\\" in prefix:
            problem = "has a prefix that is not a folder inside the landing zone (CC_LANDING_URI)"
        if problem:
            raise ValueError(f"CC_CONNECT_INSTANCES: {item.strip()!r} {problem}")
        prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        for other in instances:
            if other.name == name:
                raise ValueError(f"CC_CONNECT_INSTANCES: instance {name!r} is named twice")
            nested = (prefix.startswith(other.prefix) or other.prefix.startswith(prefix)) if prefix and other.prefix \
                else (prefix or other.prefix).split("/")[0] in _ROOT_FOLDERS
            if nested:
                raise ValueError(f"CC_CONNECT_INSTANCES: the prefixes of {other.name!r} ({other.prefix or '(root)'})"
                                 f" and {name!r} ({prefix or '(root)'}) overlap")
        instances.append(ConnectInstance(name, prefix, name))
    return tuple(instances)


@dataclass(frozen=True)
class Settings:
    landing_uri: str
    connect_instances: tuple[ConnectInstance, ...]
    aws_endpoint_url: str | None
    agent_events: str
    warehouse_path: str
    duckdb_memory_limit: str
    export_dir: str
    teleopti_outbox: str
    sla_seconds: int
    short_abandon_seconds: int
    partitions_start: str
    report_timezone: str
    fcr_days: int
    jar_lookback_days: int
    car_window_days: int
    car_export_sensitive: bool
    late_data_days: int
    kms_key_id: str | None
    data_dir: str
    teleopti_lag_minutes: int
    agent_report_lag_minutes: int
    sl_target: float
    max_occupancy: float | None
    rta_dir: str
    rta_push_url: str | None
    rta_max_records: int
    dagster_home: str | None   # Dagster's own DAGSTER_HOME: where runs are recorded (None: an ephemeral instance)
    hot_retention_days: int
    archive_restore_hold_days: int
    archive_ia_days: int
    archive_glacier_days: int
    archive_deep_archive_days: int
    archive_expire_days: int | None
    aws_max_attempts: int
    aws_retry_mode: str
    max_decompressed_bytes: int
    max_record_bytes: int
    agent_state_max_gap_seconds: int
    delivery_retry_hours: int
    connect_instance_arn: str | None = None
    connect_region: str | None = None
    connect_endpoint_url: str | None = None
    reconcile_tolerance_pct: float = 1.0

    @property
    def pii_salt(self) -> str:
        """`CC_PII_SALT`, else a random salt created once and kept under `data/` (never logged)."""
        salt = os.environ.get("CC_PII_SALT")
        if salt:
            return salt
        path = Path(self.data_dir) / ".pii_salt"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(16))
            path.chmod(0o600)
        return path.read_text().strip()


def load_settings() -> Settings:
    env = os.environ.get
    return Settings(
        landing_uri=env("CC_LANDING_URI", "data/landing"),
        connect_instances=parse_connect_instances(env("CC_CONNECT_INSTANCES")),
        aws_endpoint_url=env("CC_AWS_ENDPOINT_URL") or None,
        agent_events=env("CC_AGENT_EVENTS", "data/landing/agent-events"),
        warehouse_path=env("CC_WAREHOUSE_PATH", "data/warehouse/cc_reporting.duckdb"),
        # DuckDB's own default is 80 % of RAM; a bounded buffer pool (spilling beyond it) keeps a worker's RSS
        # predictable next to Dagster and other runs.
        duckdb_memory_limit=env("CC_DUCKDB_MEMORY_LIMIT", "512MB"),
        export_dir=env("CC_EXPORT_DIR", "data/exports"),
        teleopti_outbox=env("CC_TELEOPTI_OUTBOX", "data/outbox/teleopti"),
        sla_seconds=int(env("CC_SLA_SECONDS", "20")),
        short_abandon_seconds=int(env("CC_SHORT_ABANDON_SECONDS", "5")),
        partitions_start=env("CC_PARTITIONS_START", "2026-01-01"),
        report_timezone=env("CC_REPORT_TIMEZONE", "UTC"),
        fcr_days=int(env("CC_FCR_DAYS", "7")),
        # The legs of one journey (transfers, callbacks, a chat handed to a call, a task) lie within this many days
        # of each other (tasks live up to 7 days, callbacks are dialled hours later; docs/analytics.md §5): an
        # incremental JAR refresh looks that far back for a changed leg's relatives instead of through all history.
        jar_lookback_days=int(env("CC_JAR_LOOKBACK_DAYS", "7")),
        car_window_days=int(env("CC_CAR_WINDOW_DAYS", "90")),
        car_export_sensitive=_bool(env("CC_CAR_EXPORT_SENSITIVE", "false")),
        late_data_days=int(env("CC_LATE_DATA_DAYS", "7")),
        kms_key_id=env("CC_KMS_KEY_ID") or None,
        data_dir=env("CC_DATA_DIR", "data"),
        teleopti_lag_minutes=int(env("CC_TELEOPTI_LAG_MINUTES", "5")),
        agent_report_lag_minutes=int(env("CC_AGENT_REPORT_LAG_MINUTES", "20")),
        sl_target=float(env("CC_SL_TARGET", "0.80")),
        max_occupancy=float(env("CC_MAX_OCCUPANCY")) if env("CC_MAX_OCCUPANCY") else None,
        rta_dir=env("CC_RTA_DIR", "data/rta"),
        rta_push_url=env("CC_RTA_PUSH_URL") or None,
        rta_max_records=int(env("CC_RTA_MAX_RECORDS", "20000")),
        dagster_home=env("DAGSTER_HOME") or None,
        hot_retention_days=int(env("CC_HOT_RETENTION_DAYS", "30")),
        archive_restore_hold_days=int(env("CC_ARCHIVE_RESTORE_HOLD_DAYS", "7")),
        archive_ia_days=int(env("CC_ARCHIVE_IA_DAYS") or "0"),
        archive_glacier_days=int(env("CC_ARCHIVE_GLACIER_DAYS") or "90"),
        archive_deep_archive_days=int(env("CC_ARCHIVE_DEEP_ARCHIVE_DAYS") or "180"),
        archive_expire_days=(int(env("CC_ARCHIVE_EXPIRE_DAYS"))
                             if (env("CC_ARCHIVE_EXPIRE_DAYS") or "").strip() else None),
        # S3 answers bursts with 503 SlowDown and Kinesis with ProvisionedThroughputExceeded: botocore's
        # adaptive mode backs off and rate-limits the client instead of failing the run after 2 retries.
        # Attempts count every try, the first included (botocore's `total_max_attempts`).
        aws_max_attempts=int(env("CC_AWS_MAX_ATTEMPTS", "10")),
        aws_retry_mode=env("CC_AWS_RETRY_MODE", "adaptive"),
        # A landing object may be compressed: a few MB can expand to GBs (a gzip bomb). Decoders stop at this
        # many decompressed bytes and quarantine the object; a single record larger than the second bound is
        # quarantined too (a real CTR is a few KB; Connect caps contact attributes at 32 KB).
        max_decompressed_bytes=int(env("CC_MAX_DECOMPRESSED_BYTES", str(256 * 1024 * 1024))),
        max_record_bytes=int(env("CC_MAX_RECORD_BYTES", str(1024 * 1024))),
        # Real agent-event streams have minutes between events (204-376 s seen): the last known state is carried
        # across a gap up to this long; beyond it the rest of the gap is unknown (stale), not online.
        agent_state_max_gap_seconds=int(env("CC_AGENT_STATE_MAX_GAP_SECONDS", "900")),
        # A Teleopti interval whose files are missing or undelivered is asked for again by the system for this long.
        delivery_retry_hours=int(env("CC_DELIVERY_RETRY_HOURS", "24")),
        # Reconciliation with Connect's own numbers (GetMetricDataV2): off while no instance is named. The region
        # defaults to the one in the ARN; the endpoint is for a local stand-in of the API only.
        connect_instance_arn=env("CC_CONNECT_INSTANCE_ARN") or None,
        connect_region=env("CC_CONNECT_REGION") or None,
        connect_endpoint_url=env("CC_CONNECT_ENDPOINT_URL") or None,
        # A metric of an interval and queue whose value differs from Connect's by more than this percent warns.
        reconcile_tolerance_pct=float(env("CC_RECONCILE_TOLERANCE_PCT", "1.0")),
    )
