"""How CTR objects are parsed for the shared ingestion loop."""
from __future__ import annotations

from cc_reporting.ingest.batch import Parsed
from cc_reporting.ingest.firehose import decode_ctr_object
from cc_reporting.resources.landing import LandingObject

CTR_PREFIX = "ctr/"


def parse_ctr_object(obj: LandingObject, data: bytes) -> Parsed:
    decoded = decode_ctr_object(data, as_bytes=True)
    return Parsed([(obj.key, raw) for raw in decoded.records], decoded.error)
