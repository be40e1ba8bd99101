"""The JAR's attribute mapping (`cc_reporting/jar_mapping.yaml`, docs/analytics.md §3) and its value rules as SQL.

Contact attributes are free-form strings set by contact flows. Every attribute the JAR reads is named in the
YAML file, so a deployment renames attributes there, never in SQL. Value rules: trimmed, empty = absent;
booleans are `true`/`false` in any case (anything else is null and counted invalid); `csat` is a base-10
integer 1..5.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

MAPPING_PATH = Path(__file__).resolve().parents[2] / "jar_mapping.yaml"

ATTRIBUTE_KEYS = ("universal_session_id", "customer_id", "intent_category", "intent", "is_resolved",
                  "digital_offered", "digital_accepted", "exit_reason", "wrap_up_notes", "survey_offered",
                  "csat", "device")
DEFAULT_ATTRIBUTES = {
    "universal_session_id": "universalSessionId", "customer_id": "customerId", "intent_category": "intentCategory",
    "intent": "intent", "is_resolved": "isResolved", "digital_offered": "digitalOffered",
    "digital_accepted": "digitalAccepted", "exit_reason": "exitReason", "wrap_up_notes": "wrapUpNotes",
    "survey_offered": "surveyOffered", "csat": "csat", "device": "device",
}
BOOLEAN_KEYS = ("is_resolved", "digital_offered", "digital_accepted", "survey_offered")
VALIDATED_KEYS = BOOLEAN_KEYS + ("csat",)  # attributes whose values can be invalid (counted in metadata)

# Bump when the JAR's derivation changes: a stored JAR built by another version is then rebuilt in full.
JAR_LOGIC_VERSION = "1"

_WHITESPACE = " \t\r\n"


@dataclass(frozen=True)
class JarMapping:
    attributes: dict  # logical key -> contact attribute name
    department_level: int = 1
    team_level: int = 2

    def index(self, key: str) -> int:
        """1-based position of `key` in the attribute list the SQL extracts once per row."""
        return ATTRIBUTE_KEYS.index(key) + 1


def load_jar_mapping(path: str | Path | None = None) -> JarMapping:
    """Read the mapping; keys left out keep their defaults, unknown keys and bad levels are errors."""
    raw = yaml.safe_load(Path(path or MAPPING_PATH).read_text()) or {}
    attributes = dict(DEFAULT_ATTRIBUTES)
    given = raw.get("attributes") or {}
    unknown = set(given) - set(ATTRIBUTE_KEYS)
    if unknown:
        raise ValueError(f"jar mapping: unknown attribute key(s) {sorted(unknown)}")
    for key, name in given.items():
        name = str(name).strip() if name is not None else ""
        if not name or '"' in name or "\\" in name:
            raise ValueError(f"jar mapping: attribute {key!r} needs a plain name, got {name!r}")
        attributes[key] = name
    hierarchy = raw.get("hierarchy") or {}
    levels = {}
    for key, default in (("department_level", 1), ("team_level", 2)):
        value = hierarchy.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise ValueError(f"jar mapping: hierarchy.{key} must be an integer 1..5, got {value!r}")
        levels[key] = value
    return JarMapping(attributes=attributes, **levels)


def config_hash(mapping: JarMapping, settings) -> str:
    """Everything besides the data that decides JAR values: a change forces a full rebuild."""
    parts = {
        "version": JAR_LOGIC_VERSION, "attributes": mapping.attributes, "department": mapping.department_level,
        "team": mapping.team_level, "fcr_days": int(settings.fcr_days), "sla": int(settings.sla_seconds),
        "short": int(settings.short_abandon_seconds),
    }
    return hashlib.md5(json.dumps(parts, sort_keys=True).encode()).hexdigest()


# -- SQL over stg_ctr.attributes ---------------------------------------------------------------------------
def attribute_list_sql(mapping: JarMapping, column: str = "attributes") -> str:
    """All mapped attributes of a row, trimmed, empty -> NULL, as one list (the JSON is parsed once per row)."""
    paths = ", ".join("'$.\"{}\"'".format(mapping.attributes[k].replace("'", "''")) for k in ATTRIBUTE_KEYS)
    return (f"list_transform(json_extract_string({column}, [{paths}]), "
            f"lambda x: nullif(trim(x, '{_WHITESPACE}'), ''))")


def attr(mapping: JarMapping, key: str, av: str = "av") -> str:
    return f"{av}[{mapping.index(key)}]"


def attr_bool(mapping: JarMapping, key: str, av: str = "av") -> str:
    value = attr(mapping, key, av)
    return f"(CASE lower({value}) WHEN 'true' THEN true WHEN 'false' THEN false END)"


def attr_csat(mapping: JarMapping, av: str = "av") -> str:
    value = attr(mapping, "csat", av)
    # TRY_CAST alone would accept '4.0'-like spellings in some versions and overflow on long digit strings.
    return (f"(CASE WHEN regexp_full_match({value}, '\\+?[0-9]+') "
            f"AND TRY_CAST({value} AS BIGINT) BETWEEN 1 AND 5 THEN TRY_CAST({value} AS INTEGER) END)")


def invalid_attributes_sql(mapping: JarMapping, av: str = "av") -> str:
    """The keys of the row's present-but-invalid attribute values, as a list (empty when all are fine)."""
    checks = [f"CASE WHEN {attr(mapping, k, av)} IS NOT NULL AND {attr_bool(mapping, k, av)} IS NULL "
              f"THEN '{k}' END" for k in BOOLEAN_KEYS]
    checks.append(f"CASE WHEN {attr(mapping, 'csat', av)} IS NOT NULL AND {attr_csat(mapping, av)} IS NULL "
                  f"THEN 'csat' END")
    return f"list_filter([{', '.join(checks)}], lambda x: x IS NOT NULL)"
