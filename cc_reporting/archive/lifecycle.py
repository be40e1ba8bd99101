"""S3 lifecycle of the archive prefix (Intelligent-Tiering → Glacier → Deep Archive, optional expiration) and
bucket versioning, applied idempotently: the current configuration is read and only a differing one is put."""
from __future__ import annotations

from dataclasses import dataclass

RULE_ID = "cc-reporting-archive"


@dataclass(frozen=True)
class LifecycleSettings:
    ia_days: int
    glacier_days: int
    deep_archive_days: int
    expire_days: int | None


def lifecycle_settings() -> LifecycleSettings:
    """`CC_ARCHIVE_IA_DAYS` (0), `CC_ARCHIVE_GLACIER_DAYS` (90), `CC_ARCHIVE_DEEP_ARCHIVE_DAYS` (180),
    `CC_ARCHIVE_EXPIRE_DAYS` (unset = keep forever); days since the archive object was written."""
    from cc_reporting.settings import load_settings

    s = load_settings()
    return LifecycleSettings(ia_days=s.archive_ia_days, glacier_days=s.archive_glacier_days,
                             deep_archive_days=s.archive_deep_archive_days, expire_days=s.archive_expire_days)


def _client(endpoint_url: str | None):
    from cc_reporting.resources.landing import s3_client

    return s3_client(endpoint_url)


def archive_rule(prefix: str, ia_days: int, glacier_days: int, deep_archive_days: int,
                 expire_days: int | None = None) -> dict:
    """The lifecycle rule of `prefix` (e.g. `connect/archive/`)."""
    if not 0 <= ia_days < glacier_days < deep_archive_days:
        raise ValueError(f"lifecycle days must increase: IT {ia_days} < GLACIER {glacier_days} "
                         f"< DEEP_ARCHIVE {deep_archive_days}")
    if expire_days is not None and expire_days <= deep_archive_days:
        raise ValueError(f"expiration ({expire_days} days) must come after DEEP_ARCHIVE ({deep_archive_days} days)")
    rule = {
        "ID": RULE_ID,
        "Filter": {"Prefix": prefix},
        "Status": "Enabled",
        "Transitions": [
            {"Days": ia_days, "StorageClass": "INTELLIGENT_TIERING"},
            {"Days": glacier_days, "StorageClass": "GLACIER"},
            {"Days": deep_archive_days, "StorageClass": "DEEP_ARCHIVE"},
        ],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }
    if expire_days is not None:
        rule["Expiration"] = {"Days": expire_days}
    return rule


def _normalise(rule: dict) -> dict:
    """The parts of a rule S3 may echo back differently (order of transitions, empty keys, `Prefix: ''`)."""
    out = {k: v for k, v in rule.items() if v not in (None, [], {})}
    if "Transitions" in out:
        out["Transitions"] = sorted(({"Days": t.get("Days"), "StorageClass": t["StorageClass"]}
                                     for t in out["Transitions"]), key=lambda t: (t["Days"] or 0, t["StorageClass"]))
    if "Filter" in out and set(out["Filter"]) == {"Prefix"}:
        out["Filter"] = {"Prefix": out["Filter"]["Prefix"]}
    if "Expiration" in out:
        out["Expiration"] = {k: v for k, v in out["Expiration"].items() if k == "Days" or v}
    return out


def current_rules(bucket: str, endpoint_url: str | None = None) -> list[dict]:
    from botocore.exceptions import ClientError

    try:
        return _client(endpoint_url).get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
            return []
        raise


def apply_bucket_lifecycle(bucket: str, prefix: str, endpoint_url: str | None, ia_days: int, glacier_days: int,
                           deep_archive_days: int, expire_days: int | None = None) -> bool:
    """Make the bucket's rule `cc-reporting-archive` for `prefix` the wanted one, keeping every other rule.
    Returns True when the configuration was put, False when it was already in place (no write)."""
    wanted = archive_rule(prefix, ia_days, glacier_days, deep_archive_days, expire_days)
    rules = current_rules(bucket, endpoint_url)
    mine = [r for r in rules if r.get("ID") == RULE_ID]
    if len(mine) == 1 and _normalise(mine[0]) == _normalise(wanted):
        return False
    others = [r for r in rules if r.get("ID") != RULE_ID]
    _client(endpoint_url).put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [*others, wanted]})
    return True


def check_versioning(bucket: str, endpoint_url: str | None = None, enable: bool = False) -> str:
    """The bucket's versioning status: 'Enabled', 'Suspended' or 'Disabled' (never enabled). With `enable`, a
    bucket that is not 'Enabled' is switched on and 'Enabled' is returned."""
    client = _client(endpoint_url)
    status = client.get_bucket_versioning(Bucket=bucket).get("Status") or "Disabled"
    if enable and status != "Enabled":
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        status = client.get_bucket_versioning(Bucket=bucket).get("Status") or "Disabled"
    return status
