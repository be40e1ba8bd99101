"""A generator of hostile landing input: good records of every source mixed with garbage.

Every generated object knows what it must stage (`good`: the ids that must end up in the warehouse) and whether
it is malformed (`bad`: it must be quarantined with a reason). Garbage kinds that currently crash or lose data
(real bugs, see KNOWN_BUGS) are tagged with the bug and left out of the default corpus; the regression tests in
test_hostile_input.py run them on their own (xfail until the fix lands; then drop the entry from KNOWN_BUGS).
"""
from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

# kind -> bug it triggers (the fix is described in test_hostile_input.py)
KNOWN_BUGS = {
    "ctr_invalid_utf8": "decode_ctr_object drops every record when any byte is not UTF-8",
    "ctr_deep_nesting": "decode_ctr_object lets RecursionError escape on deeply nested JSON",
    "ctr_ts_python_only": "a LastUpdateTimestamp Python accepts but DuckDB cannot cast is dropped, not quarantined",
    "report_inf_duration": "parse_agent_report lets OverflowError escape ('inf')",
    "report_bad_occupancy": "parse_agent_report lets decimal.InvalidOperation escape (Occupancy 'abc%')",
    "report_int_overflow": "a duration beyond INTEGER (1e20) passes the parser and fails the whole merge",
    "report_huge_field": "parse_agent_report lets csv.Error (field larger than field limit) escape",
    "channel_deep_nesting": "parse_channel_sessions lets RecursionError escape",
    "channel_year_one": "parse_channel_sessions lets OverflowError escape (0001-01-01T00:00:00+01:00)",
}


@dataclass
class Item:
    source: str  # ctr | agent_report | channel_session | crm
    key: str
    data: bytes
    kind: str
    bad: bool  # must be quarantined with a reason
    good: list[str] = field(default_factory=list)  # ids that must be staged
    malformed: int = -1  # malformed inputs inside (bad lines of a JSONL file); -1: 1 if bad else 0

    def __post_init__(self):
        if self.malformed < 0:
            self.malformed = int(self.bad)


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# -- CTR ------------------------------------------------------------------------------------------------------
def good_ctr(contact_id: str, rng: random.Random, attributes: int = 2) -> dict:
    minute = rng.randrange(60)
    ts = f"2026-01-05T09:{minute:02d}:{rng.randrange(60):02d}Z"
    return {
        "AWSAccountId": "123456789012", "ContactId": contact_id, "Channel": rng.choice(["VOICE", "CHAT"]),
        "InitiationMethod": "INBOUND", "InitiationTimestamp": ts, "LastUpdateTimestamp": ts,
        "DisconnectTimestamp": ts, "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": "+15550100"},
        "Queue": {"Name": "Sales}{\"", "ARN": "arn:aws:connect:eu-west-1:1:instance/i/queue/q1",
                  "EnqueueTimestamp": ts, "Duration": rng.randrange(100)},
        # `}{` and quotes inside strings must never split a record
        "Attributes": {f"k{i}": rng.choice(['}{', '"}{"', "x}{y", "ünï", "\\", "{}"]) for i in range(attributes)},
    }


CTR_GARBAGE = ("truncated", "wrong_key_types", "not_a_record", "nul_byte", "bom_mid", "brace_soup",
               "huge_attributes_truncated", "nested_shallow", "control_chars", "trailing_comma", "nan_literal")
CTR_TOLERATED = ("wrong_other_types", "huge_attributes", "bom_start", "brace_in_strings", "deep_but_legal")


def ctr_garbage(kind: str, rng: random.Random, uid: str) -> bytes:
    """A piece of CTR garbage (never a readable contact record)."""
    record = _dumps(good_ctr(f"garbage-{uid}", rng))
    if kind == "truncated":
        return record[: rng.randrange(1, len(record) - 1)].encode()
    if kind == "wrong_key_types":
        bad = rng.choice([{"ContactId": 42}, {"ContactId": ["a"]}, {"ContactId": None}, {"ContactId": ""},
                          {"LastUpdateTimestamp": 1736067600}, {"LastUpdateTimestamp": "yesterday"},
                          {"LastUpdateTimestamp": None}, {"LastUpdateTimestamp": {"$date": 1}}])
        return _dumps({**json.loads(record), **bad}).encode()
    if kind == "not_a_record":
        return rng.choice([b"42", b'"text"', b"[1,2,3]", b"null", b"true", b"{}", b'[{"ContactId":"x"}]'])
    if kind == "nul_byte":
        cut = rng.randrange(1, len(record) - 1)
        return record[:cut].encode() + b"\x00" + record[cut:].encode()
    if kind == "bom_mid":
        return (record + "\ufeff" + record).encode()  # a BOM between values (at the very start it is fine)
    if kind == "brace_soup":
        return rng.choice([b"}{", b"}{}{", b'"}{"', b"}{\"ContactId\":", b"{{}}", b"]["])
    if kind == "huge_attributes_truncated":
        big = good_ctr(f"garbage-{uid}", rng, attributes=3000)
        text = _dumps(big)
        return text[: len(text) - rng.randrange(2, 50)].encode()
    if kind == "nested_shallow":
        depth = rng.randrange(50, 400)  # below the recursion limit: a normal decoding error
        return ("[" * depth + "1" + "]" * (depth - 1)).encode()
    if kind == "control_chars":
        return record.replace("Sales", "Sa\tl\x01es").encode()
    if kind == "trailing_comma":
        return (record[:-1] + ",}").encode()
    if kind == "nan_literal":
        return rng.choice([b"NaN", b"Infinity", b"-Infinity", b"undefined", b"None"])
    # kinds of KNOWN_BUGS
    if kind == "ctr_invalid_utf8":
        return rng.choice([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", record.encode()[:20] + b"\x80\x81"])
    if kind == "ctr_deep_nesting":
        return rng.choice([b"[" * 100_000, b'{"a":' * 50_000])
    raise ValueError(kind)


def ctr_tolerated(kind: str, rng: random.Random, contact_id: str) -> str:
    """A record that looks odd but IS a contact record (must be staged)."""
    record = good_ctr(contact_id, rng)
    if kind == "wrong_other_types":
        for name in list(record):
            if name not in ("ContactId", "LastUpdateTimestamp"):
                record[name] = rng.choice([42, -1.5, None, True, [1, "a"], {"x": {"y": []}}, "", "}{", "\u0000"])
        record["Agent"] = rng.choice(["str", 5, [], {"ARN": 7, "Username": {"a": 1}, "NumberOfHolds": "many"}])
    elif kind == "huge_attributes":
        record["Attributes"] = {f"attr{i}": "v" * rng.randrange(1, 40) for i in range(rng.randrange(500, 3000))}
    elif kind == "brace_in_strings":
        record["DisconnectReason"] = '}{"ContactId":"fake"}{'
    elif kind == "deep_but_legal":
        depth = rng.randrange(10, 200)
        record["Attributes"] = {"deep": json.loads("[" * depth + "1" + "]" * depth)}
    return _dumps(record)


def ctr_object(rng: random.Random, uid: str, garbage: str | None, key: str | None = None) -> Item:
    """0-3 good records (and maybe a tolerated one), then garbage (if any), then maybe more good records when the
    garbage is a complete JSON value (the decoder goes on past it)."""
    good, texts = [], []
    # A BOM is tolerated, not garbage: such an object still needs a record (an empty object is rightly quarantined).
    for i in range(rng.randrange(0 if garbage and garbage != "bom_start" else 1, 4)):
        cid = f"ctr-{uid}-{i}"
        good.append(cid)
        texts.append(_dumps(good_ctr(cid, rng)))
    if rng.random() < 0.3 or garbage is None:
        kind = rng.choice(CTR_TOLERATED)
        cid = f"ctr-{uid}-t"
        good.append(cid)
        texts.append(ctr_tolerated(kind, rng, cid))
    body = "".join(texts).encode()
    if garbage == "bom_start" or (garbage is None and rng.random() < 0.2):
        body = "\ufeff".encode() + body
    if garbage and garbage not in ("bom_start", "ctr_ts_python_only"):
        body += rng.choice([b"", b"\n", b" \r\n\t"]) + ctr_garbage(garbage, rng, uid)
        if garbage in ("wrong_key_types", "not_a_record") and rng.random() < 0.5:
            cid = f"ctr-{uid}-after"
            good.append(cid)
            body += _dumps(good_ctr(cid, rng)).encode()
    if garbage == "ctr_ts_python_only":  # a record that only Python's fromisoformat reads
        record = good_ctr(f"ctr-{uid}-pyts", rng)
        record["LastUpdateTimestamp"] = "20260105T0900Z"
        body += _dumps(record).encode()
    if garbage is None and rng.random() < 0.1:
        body = gzip.compress(body)
    return Item("ctr", key or f"ctr/2026/01/05/09/hostile-{uid}", body, garbage or "clean",
                garbage not in (None, "bom_start"), good)


# -- agent report ---------------------------------------------------------------------------------------------
REPORT_HEADER = ["Agent", "Agent First Name", "Agent Last Name", "StartInterval", "EndInterval", "Online time",
                 "Non-Productive Time", "Agent idle time", "Agent on contact time", "Occupancy"]
REPORT_GARBAGE = ("missing_header", "bad_number", "empty_agent", "bad_interval", "broken_quote_last",
                  "short_row", "invalid_utf8_only", "no_header_at_all")


def _report_row(agent: str, slot: int, rng: random.Random) -> list[str]:
    start = date(2026, 1, 5).isoformat() + f"T{slot // 2:02d}:{30 * (slot % 2):02d}:00Z"
    end_slot = slot + 1
    end = (date(2026, 1, 5) + timedelta(days=end_slot // 48)).isoformat() + \
        f"T{(end_slot % 48) // 2:02d}:{30 * (end_slot % 2):02d}:00Z"
    return [agent, "Ann", "O'Neil, \"Jr\"", start, end, str(rng.randrange(1800)), rng.choice(["0", "-", "", "12.5"]),
            str(rng.randrange(900)), rng.choice(["1", "-"]), rng.choice(["83.33%", "-", "", "0%"])]


def _csv(rows: list[list[str]]) -> bytes:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


def report_object(rng: random.Random, uid: str, garbage: str | None) -> Item:
    header = list(REPORT_HEADER)
    if rng.random() < 0.3:
        header.insert(rng.randrange(len(header)), "Unknown Metric ✓")  # unknown headers are ignored
    good, rows = [], []
    for i in range(rng.randrange(1, 3)):
        agent = f"agent-{uid}-{i}"
        row = _report_row(agent, rng.randrange(47), rng)
        if "Unknown Metric ✓" in header:
            row.insert(header.index("Unknown Metric ✓"), "whatever")
        good.append(agent)
        rows.append(row)
    bad_row = None
    if garbage == "missing_header":
        drop = rng.choice(["Agent", "StartInterval", "EndInterval", "Online time", "Non-Productive Time",
                           "Agent idle time"])
        index = header.index(drop)
        header.pop(index)
        for row in rows:
            row.pop(index)
        good = []
    elif garbage == "no_header_at_all":
        header, good = None, []
    elif garbage in ("bad_number", "report_inf_duration", "report_int_overflow", "report_bad_occupancy"):
        bad_row = _report_row(f"bad-{uid}", 0, rng)
        column, value = {
            "bad_number": (rng.choice([5, 6, 7, 8]), rng.choice(["abc", "1,5", "--", "1e", "0x10", "nan", "1 2"])),
            "report_inf_duration": (5, rng.choice(["inf", "-inf", "Infinity"])),
            "report_int_overflow": (5, rng.choice(["1e20", "99999999999", "-3000000000"])),
            "report_bad_occupancy": (9, rng.choice(["abc%", "%", "1.2.3%"])),
        }[garbage]
        bad_row[column] = value
    elif garbage == "empty_agent":
        bad_row = _report_row(rng.choice(["", "  ", "-"]), 0, rng)
    elif garbage == "bad_interval":
        bad_row = _report_row(f"bad-{uid}", 0, rng)
        bad_row[3] = rng.choice(["", "yesterday", "2026-13-01T00:00:00Z", "2026-01-05 25:00"])
    elif garbage == "short_row":
        bad_row = [f"bad-{uid}", "x"]
    if "Unknown Metric ✓" in (header or []) and bad_row and len(bad_row) == len(REPORT_HEADER):
        bad_row.insert(header.index("Unknown Metric ✓"), "?")
    data = _csv(([header] if header else []) + rows + ([bad_row] if bad_row else []))
    if garbage == "broken_quote_last":  # an unterminated quote in the last row swallows only that row
        data += f'bad-{uid},"Ann,unterminated\r\n2026-01-05T09:00:00Z'.encode()
    elif garbage == "invalid_utf8_only":
        data, good = b"Agent,StartInterval\r\n\xff\xfe\xfd,\x80\r\n", []
    elif garbage == "report_huge_field":
        data += b'bad,"' + b"x" * 200_000 + b'"\r\n'
    if rng.random() < 0.2:
        data = b"\xef\xbb\xbf" + data
    return Item("agent_report", f"reports/TeleoptiAgentPerformance-{uid}.csv", data, garbage or "clean",
                garbage is not None, good)


# -- channel sessions ----------------------------------------------------------------------------------------
CHANNEL_GARBAGE = ("not_json", "truncated", "not_object", "missing_field", "reserved_channel", "ended_before",
                   "naive_time", "invalid_utf8_line", "nul_line", "bad_time", "nested_shallow")


CHANNEL_BAD_LINES = 2


def _session(session_id: str, rng: random.Random) -> dict:
    start = f"2026-01-05T09:{rng.randrange(30):02d}:00Z"
    return {"session_id": session_id, "channel": rng.choice(["web_chat", "NLU_BOT", "whatsapp"]),
            "started_at": start, "ended_at": "2026-01-05T09:45:00+00:00", "customer_id": rng.choice([None, 123, "C1"]),
            "intent": rng.choice(["}{", "billing", ""]), "resolved": rng.choice([True, "false", None, "maybe"]),
            "unknown_field": {"deep": [1, 2]}}


def channel_garbage(kind: str, rng: random.Random, uid: str) -> bytes:
    line = _dumps(_session(f"garbage-{uid}", rng))
    if kind == "not_json":
        return rng.choice([b"hello", b"{'single': 'quotes'}", b"}{", b"NaNx"])
    if kind == "truncated":
        return line[: rng.randrange(1, len(line) - 1)].encode()
    if kind == "not_object":
        return rng.choice([b"[]", b"42", b'"s"', b"null"])
    if kind == "missing_field":
        record = json.loads(line)
        record.pop(rng.choice(["session_id", "channel", "started_at", "ended_at"]))
        return _dumps(record).encode()
    if kind == "reserved_channel":
        return _dumps({**json.loads(line), "channel": rng.choice(["voice", "CHAT", " ivr "])}).encode()
    if kind == "ended_before":
        return _dumps({**json.loads(line), "ended_at": "2026-01-05T08:00:00Z"}).encode()
    if kind == "naive_time":
        return _dumps({**json.loads(line), "started_at": "2026-01-05T09:00:00"}).encode()
    if kind == "invalid_utf8_line":
        return b'{"session_id":"\xff\xfe","channel":"x"}'
    if kind == "nul_line":
        return line.encode().replace(b"Z", b"\x00", 1)
    if kind == "bad_time":
        return _dumps({**json.loads(line), "ended_at": rng.choice([12, "soon", "2026-02-30T00:00:00Z", []])}).encode()
    if kind == "nested_shallow":
        return ("[" * 300).encode()
    if kind == "channel_deep_nesting":
        return b"[" * 100_000
    if kind == "channel_year_one":
        return _dumps({**json.loads(line), "started_at": "0001-01-01T00:00:00+01:00"}).encode()
    raise ValueError(kind)


def channel_object(rng: random.Random, uid: str, garbage: str | None) -> Item:
    good, lines = [], []
    for i in range(rng.randrange(1, 4)):
        sid = f"session-{uid}-{i}"
        good.append(sid)
        lines.append(_dumps(_session(sid, rng)).encode())
    if garbage:  # bad lines anywhere: the good lines around them still load
        for _ in range(CHANNEL_BAD_LINES):
            lines.insert(rng.randrange(len(lines) + 1), channel_garbage(garbage, rng, uid))
    data = b"\n".join(lines) + rng.choice([b"", b"\n", b"\n\n"])
    if rng.random() < 0.2:
        data = b"\xef\xbb\xbf" + data
    return Item("channel_session", f"channels/web/2026/01/05/hostile-{uid}.jsonl", data, garbage or "clean",
                garbage is not None, good, CHANNEL_BAD_LINES if garbage else 0)


# -- CRM ------------------------------------------------------------------------------------------------------
CRM_GARBAGE = ("invalid_utf8", "unterminated_quote", "no_cust_id", "header_only", "empty", "blank_cust_ids")
CRM_HEADER = ["Cust_ID", "Age", "GrossAnnualIncome", "HighRiskCustomer", "CommercialorPersonal", "PhoneNumber",
              "Tenure"]


def _crm_row(cust_id: str, rng: random.Random) -> list[str]:
    # bad numbers and enums become null; the customer stays
    return [cust_id, rng.choice(["42", "abc", "-1", "4.0", ""]), rng.choice(["1000.50", "1e400", "x"]),
            rng.choice(["true", "maybe", "0"]), rng.choice(["personal", "alien"]), "+15550100",
            rng.choice(["12", "99999999999"])]


def crm_object(rng: random.Random, uid: str, garbage: str | None, day: date) -> Item:
    key = f"crm/customers-{day.isoformat()}.csv"
    header = list(CRM_HEADER) + (["Brand New Column"] if rng.random() < 0.5 else [])
    rows = [_crm_row(f"cust-{uid}-{i}", rng) + (["x"] if len(header) > len(CRM_HEADER) else [])
            for i in range(rng.randrange(1, 5))]
    good = [r[0] for r in rows]
    if garbage is None:
        return Item("crm", key, _csv([header] + rows), "clean", False, good)
    data = {
        "invalid_utf8": lambda: _csv([header] + rows) + b"\xff\xfe,\x80\r\n",
        "unterminated_quote": lambda: _csv([header] + rows) + b'cust-x,"42\r\n',
        "no_cust_id": lambda: _csv([["Customer"] + header[1:]] + rows),
        "header_only": lambda: _csv([header]),
        "empty": lambda: rng.choice([b"", b"\xef\xbb\xbf", b"\r\n"]),
        "blank_cust_ids": lambda: _csv([header] + [[""] + r[1:] for r in rows]),
    }[garbage]()
    return Item("crm", key, data, garbage, True, [])


# -- the corpus -----------------------------------------------------------------------------------------------
PLAN = {  # source: (malformed objects, clean objects); a malformed channel file holds CHANNEL_BAD_LINES bad lines
    "ctr": (5000, 250),
    "agent_report": (2000, 100),
    "channel_session": (1250, 100),
    "crm": (600, 0),
}


def build_corpus(seed: int, batches: int = 2, plan: dict = PLAN) -> list[list[Item]]:
    """`batches` lists of items; every source's malformed and clean objects spread over them. The newest CRM
    extract (a clean one, so the master it leaves is known) lands in the last batch."""
    rng = random.Random(seed)
    items: list[Item] = []
    n = 0
    for source, (bad, clean) in plan.items():
        for i in range(bad + clean):
            uid = f"{seed}-{n}"
            n += 1
            is_bad = i < bad
            if source == "ctr":
                items.append(ctr_object(rng, uid, CTR_GARBAGE[i % len(CTR_GARBAGE)] if is_bad else None))
            elif source == "agent_report":
                items.append(report_object(rng, uid, REPORT_GARBAGE[i % len(REPORT_GARBAGE)] if is_bad else None))
            elif source == "channel_session":
                items.append(channel_object(rng, uid, CHANNEL_GARBAGE[i % len(CHANNEL_GARBAGE)] if is_bad else None))
            else:
                items.append(crm_object(rng, uid, CRM_GARBAGE[i % len(CRM_GARBAGE)], date(2020, 1, 1) + timedelta(i)))
    rng.shuffle(items)
    out = [items[b::batches] for b in range(batches)]
    out[0].append(crm_object(rng, f"{seed}-crm-first", None, date(2029, 1, 1)))
    out[-1].append(crm_object(rng, f"{seed}-crm-master", None, date(2030, 1, 1)))
    return out


def big_ctr_object(size: int, rng: random.Random) -> tuple[bytes, list[str]]:
    """At least `size` bytes of good records, then garbage at the end (a truncated record)."""
    parts, ids, total, i = [], [], 0, 0
    while total < size:
        cid = f"big-{i}"
        text = _dumps(good_ctr(cid, rng, attributes=20)).encode()
        parts.append(text)
        ids.append(cid)
        total += len(text)
        i += 1
    parts.append(ctr_garbage("truncated", rng, "big"))
    return b"".join(parts), ids
