"""How CTR objects are parsed and merged by the shared ingestion loop."""
from __future__ import annotations

from cc_reporting.ingest.batch import Parsed
from cc_reporting.ingest.firehose import decode_ctr_object
from cc_reporting.resources.landing import LandingObject
from cc_reporting.staging.ctr_table import STG_CTR_DDL, TOUCHED_DDL, merge_ctr_records
from cc_reporting.staging.pii import install_pii_macros

CTR_PREFIX = "ctr/"


def parse_ctr_object(obj: LandingObject, data: bytes) -> Parsed:
    decoded = decode_ctr_object(data)
    return Parsed([(obj.key, raw) for raw in decoded.records], decoded.error)


def ensure_ctr_tables(con, salt: str) -> None:
    con.execute(STG_CTR_DDL)
    con.execute(TOUCHED_DDL)
    install_pii_macros(con, salt)


__all__ = ["CTR_PREFIX", "parse_ctr_object", "ensure_ctr_tables", "merge_ctr_records"]
