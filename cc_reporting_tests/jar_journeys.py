"""Hand-made customer journeys for the JAR tests, staged through the real staging code.

`leg(...)` builds one contact record whose timestamps agree with its durations: the caller spends `ivr`
seconds in the IVR, then (if `queue`) `queue_s` seconds queued, then (if `agent`) `talk` + `hold` seconds with
the agent, who does `acw` seconds of after-contact work. The customer disconnects when the talk ends.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from cc_reporting.resources.landing import LandingObject
from cc_reporting.staging.channel_sessions import merge_channel_sessions, parse_channel_sessions
from cc_reporting.staging.ctr_table import merge_ctr_records
from cc_reporting.staging.schema import ensure_staging_tables

DAY = datetime(2026, 1, 5, tzinfo=timezone.utc)
ARN = "arn:aws:connect:eu-west-1:111122223333:instance/inst-1"
SALT = "jar-test-salt"
PHONE = "+12065550142"


def settings(fcr_days=7, sla=20, short=5, lookback_days=7):
    return SimpleNamespace(fcr_days=fcr_days, sla_seconds=sla, short_abandon_seconds=short,
                           jar_lookback_days=lookback_days)


def at(hhmmss: str, day: int = 0) -> datetime:
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return DAY + timedelta(days=day, hours=h, minutes=m, seconds=s)


def naive(t: datetime) -> datetime:
    """How `jar` stores an instant: TIMESTAMP in UTC."""
    return t.astimezone(timezone.utc).replace(tzinfo=None)


def iso(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def leg(contact_id, start="09:00:00", day=0, *, channel="VOICE", method="INBOUND", initial=None, previous=None,
        next_contact=None, ivr=30, queue=None, queue_s=10, agent=None, talk=100, hold=0, acw=20,
        attributes=None, phone=PHONE, external_transfer=False, disconnect_reason="CUSTOMER_DISCONNECT",
        updated_s=3600, agent_fields=None, hierarchy=("Sales", "Team A")):
    t0 = at(start, day)
    enq = t0 + timedelta(seconds=ivr)
    deq = enq + timedelta(seconds=queue_s) if queue else enq
    end = deq + timedelta(seconds=talk + hold) if agent else deq
    record = {
        "AWSContactTraceRecordFormatVersion": "2017-03-10", "AWSAccountId": "111122223333", "InstanceARN": ARN,
        "ContactId": contact_id, "InitialContactId": initial, "PreviousContactId": previous,
        "NextContactId": next_contact, "Channel": channel, "InitiationMethod": method,
        "InitiationTimestamp": iso(t0), "ConnectedToSystemTimestamp": iso(t0),
        "DisconnectTimestamp": iso(end), "DisconnectReason": disconnect_reason,
        "LastUpdateTimestamp": iso(end + timedelta(seconds=updated_s)),
        "Attributes": attributes or {}, "Agent": None, "Queue": None,
        "CustomerEndpoint": {"Address": phone, "Type": "TELEPHONE_NUMBER"} if phone else None,
        "SystemEndpoint": {"Address": "+12065550100", "Type": "TELEPHONE_NUMBER"},
        "TransferCompletedTimestamp": None, "TransferredToEndpoint": None,
    }
    if queue:
        record["Queue"] = {"ARN": f"{ARN}/queue/{queue}", "Name": queue.title(), "EnqueueTimestamp": iso(enq),
                           "DequeueTimestamp": iso(deq), "Duration": queue_s}
    if agent:
        acw_start = deq + timedelta(seconds=talk + hold)
        record["Agent"] = {
            "ARN": f"{ARN}/agent/{agent}-id", "Username": agent, "ConnectedToAgentTimestamp": iso(deq),
            "AgentInteractionDuration": talk, "CustomerHoldDuration": hold, "AfterContactWorkDuration": acw,
            "AfterContactWorkStartTimestamp": iso(acw_start),
            "AfterContactWorkEndTimestamp": iso(acw_start + timedelta(seconds=acw)),
            "HierarchyGroups": {"Level1": {"GroupName": hierarchy[0]}, "Level2": {"GroupName": hierarchy[1]}},
        }
        record["Agent"].update(agent_fields or {})
    if external_transfer:
        record["TransferCompletedTimestamp"] = iso(deq + timedelta(seconds=talk))
        record["TransferredToEndpoint"] = {"Address": "+18002430000", "Type": "TELEPHONE_NUMBER"}
        record["DisconnectTimestamp"] = iso(deq + timedelta(seconds=talk + 600))  # the external call goes on
    return record


def bot_session(session_id, start="08:55:00", end="09:00:00", day=0, **fields):
    """An external chatbot session line (car-jar.md §1); `fields` override or add (None removes)."""
    s = {"session_id": session_id, "channel": "WEBCHAT_BOT", "device": "MOBILE",
         "started_at": iso(at(start, day)), "ended_at": iso(at(end, day)),
         "bot_started_at": iso(at(start, day) + timedelta(seconds=3))}
    s.update(fields)
    return {k: v for k, v in s.items() if v is not None}


def ensure(con):
    ensure_staging_tables(con, SALT)


def stage(con, *records, batch="b1"):
    ensure(con)
    merge_ctr_records(con, [("ctr/test", json.dumps(r)) for r in records], batch, datetime.now(timezone.utc))


def jsonl(*lines) -> bytes:
    return "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines).encode()


def channel_object(key="channels/webchat/2026/01/05/s1.jsonl", modified=None, size=0) -> LandingObject:
    return LandingObject(key=key, etag="e", size=size,
                         last_modified=modified or datetime(2026, 1, 5, 10, tzinfo=timezone.utc))


def stage_sessions(con, *sessions, key="channels/webchat/2026/01/05/s1.jsonl", modified=None):
    ensure(con)
    parsed = parse_channel_sessions(channel_object(key, modified), jsonl(*sessions))
    assert parsed.error is None, parsed.error
    return merge_channel_sessions(con, parsed.items, "b1", datetime.now(timezone.utc))


def crm(con, customers: dict):
    """A tiny latest CRM extract: {Cust_ID: phone}; phones hashed with the staging macro."""
    ensure(con)
    con.execute("CREATE OR REPLACE TABLE stg_crm_customer (Cust_ID VARCHAR, phone_hash VARCHAR)")
    for cust, phone in customers.items():
        con.execute("INSERT INTO stg_crm_customer VALUES (?, hash_phone(?))", [cust, phone])


def jar_rows(con) -> dict:
    cur = con.execute('SELECT * FROM jar ORDER BY "SessionId"')
    names = [d[0] for d in cur.description]
    return {row[names.index("SessionId")]: dict(zip(names, row)) for row in cur.fetchall()}


def jar_table(con) -> list:
    """The whole table, ordered, for comparing two builds."""
    return con.execute('SELECT * FROM jar ORDER BY "SessionId"').fetchall()


# -- random journeys for the incremental == full property ---------------------------------------------------------
CUSTOMER_PHONES = {"C1": "+12065550101", "C2": "+12065550102", "C3": "+12065550103", "C4": "+12065550104",
                   "C5": "+12065550105", "C6": "+12065550105"}  # C5 and C6 share a number: ambiguous


def random_journeys(rng, journeys=30) -> list:
    """[("ctr", record) | ("session", line)] covering transfers, callbacks (also of callbacks), chatbot
    hand-offs, outbound calls, repeat contacts of the same customers and updated copies of records."""
    out = []
    for j in range(journeys):
        customer = rng.choice(list(CUSTOMER_PHONES) + [None])
        phone = CUSTOMER_PHONES.get(customer) if customer and rng.random() < 0.8 else "+12065559999"
        day, start = rng.randint(0, 12), f"{rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}:00"
        attrs = {}
        if customer and rng.random() < 0.4:
            attrs["customerId"] = customer
        if rng.random() < 0.2:
            attrs["isResolved"] = rng.choice(["true", "FALSE", "maybe"])
        if rng.random() < 0.3:
            attrs["csat"] = rng.choice(["1", "5", " 3 ", "4.0", "9"])
        kind = rng.choice(["ivr", "answered", "transfer", "callback", "bot", "outbound"])
        root = f"j{j}"
        if kind == "bot":
            usid = f"us-{j}"
            out.append(("session", bot_session(f"wb-{j}", "07:00:00", "07:05:00", day=day, universal_session_id=usid,
                                               customer_id=customer if rng.random() < 0.5 else None,
                                               handed_off_to="VOICE")))
            attrs["universalSessionId"] = usid
        method = "OUTBOUND" if kind == "outbound" else "INBOUND"
        answered_first = kind in ("answered", "transfer", "outbound", "bot") or rng.random() < 0.3
        nxt = f"{root}-n" if kind in ("transfer", "callback") else None
        first = leg(root, start, day, method=method, queue=None if kind == "ivr" else "billing",
                    agent="jane" if answered_first and kind != "ivr" else None, next_contact=nxt,
                    attributes=attrs, phone=phone)
        out.append(("ctr", first))
        if kind == "transfer":
            back_link = root if rng.random() < 0.7 else None  # some records lack PreviousContactId
            out.append(("ctr", leg(nxt, start, day, method="TRANSFER", initial=root, previous=back_link, ivr=200,
                                   queue="tech", agent=rng.choice(["bob", None]), phone=phone,
                                   external_transfer=rng.random() < 0.3)))
        if kind == "callback":
            out.append(("ctr", leg(nxt, start, day, method="CALLBACK", previous=root, ivr=900, queue="billing",
                                   agent="bob", phone=phone, initial=rng.choice([None, root]),
                                   next_contact=f"{nxt}-n" if rng.random() < 0.5 else None)))
            if out[-1][1]["NextContactId"]:
                out.append(("ctr", leg(f"{nxt}-n", start, day, method="CALLBACK", previous=nxt, ivr=1800,
                                       queue="tech", agent="amy", phone=phone)))
        if rng.random() < 0.25:  # a later, updated copy: attributes changed by a flow afterwards
            update = dict(first, Attributes={**attrs, "csat": "2", "customerId": rng.choice(list(CUSTOMER_PHONES)),
                                             "universalSessionId": rng.choice([f"us-{j}", "us-shared"])})
            update["LastUpdateTimestamp"] = iso(at(start, day) + timedelta(days=1))
            out.append(("ctr", update))
    return out


def stage_mixed(con, items, batch):
    records = [r for kind, r in items if kind == "ctr"]
    sessions = [s for kind, s in items if kind == "session"]
    ensure(con)
    if records:
        stage(con, *records, batch=batch)
    if sessions:
        stage_sessions(con, *sessions, key=f"channels/webchat/2026/01/05/{batch}.jsonl")


def synthetic_legs(con, n: int, start_id: int = 0):
    """`n` plain legs written straight into stg_ctr (set-based, fast): every 10th is a TRANSFER of the one
    before, every 50th (offset 7) a CALLBACK; half carry a customerId. For volume tests, not for rules."""
    ensure(con)
    con.execute(f"""
        INSERT INTO stg_ctr BY NAME
        WITH b AS (SELECT i, TIMESTAMPTZ '2026-01-05 00:00:00+00' + to_seconds(i % 86400) AS t0, hash(i) AS h
                   FROM range({start_id}, {start_id + n}) r(i))
        SELECT 'c' || i AS contact_id,
               CASE WHEN i % 10 = 1 THEN 'c' || (i - 1) END AS initial_contact_id,
               CASE WHEN i % 10 = 1 OR i % 50 = 7 THEN 'c' || (i - 1) END AS previous_contact_id,
               CASE WHEN i % 10 = 0 OR i % 50 = 6 THEN 'c' || (i + 1) END AS next_contact_id,
               CASE WHEN i % 10 = 1 THEN 'c' || (i - 1) ELSE 'c' || i END AS root_contact_id,
               'VOICE' AS channel,
               CASE WHEN i % 10 = 1 THEN 'TRANSFER' WHEN i % 50 = 7 THEN 'CALLBACK' ELSE 'INBOUND' END
                   AS initiation_method,
               t0 AS initiation_ts, t0 + INTERVAL 200 SECOND AS disconnect_ts, t0 + INTERVAL 1 HOUR AS last_update_ts,
               'q' || (h % 9) AS queue_id, t0 + INTERVAL 30 SECOND AS enqueue_ts,
               CAST(h % 60 AS INTEGER) AS queue_duration,
               CASE WHEN h % 3 > 0 THEN t0 + INTERVAL 90 SECOND END AS agent_connected_ts,
               CASE WHEN h % 3 > 0 THEN 'agent' || (h % 500) END AS agent_username,
               sha256('p' || (h % 50000)) AS customer_phone_hash,
               CASE WHEN h % 2 = 0 THEN json_object('customerId', 'C' || (h % 40000)) END AS attributes,
               md5(i::VARCHAR) AS record_hash, 'ctr/synthetic' AS source_key, now() AS ingested_at
        FROM b""")
