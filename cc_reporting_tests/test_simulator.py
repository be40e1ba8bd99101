"""The simulator: deterministic, and its outputs are shaped and consistent like real Amazon Connect data.

One small run (20 agents, 6 daytime hours) is shared by most tests; they decode what landed with
independent readers (streaming JSON decoder, csv) and reconcile it with the run's summary.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cc_reporting.resources.landing import LandingZone
from cc_reporting.simulate import SimulationSummary, simulate

from .conftest import fixture_bytes

START = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TS_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
CTR_KEY = re.compile(r"^ctr/(\d{4})/(\d\d)/(\d\d)/(\d\d)/cc-ctr-stream-1-(\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)-"
                     + UUID + "$")
ARN = re.compile(r"^arn:aws:connect:eu-west-1:111122223333:instance/" + UUID
                 + r"/(agent|queue|queue/agent|routing-profile|agent-group|agent-state)/" + UUID + "$")
REPORT_HEADER = ("Agent,StartInterval,EndInterval,Agent Name,Agent on contact time,Agent idle time,"
                 "Non-Productive Time,Online time,Occupancy")
CRM_HEADER = ("Cust_ID,Occupation,Age,MaritalStatus,Ethnicity,GrossAnnualIncome,EmploymentType,CountryName,Region,"
              "Tenure,OverallRevenue,Product 1,Product 2,Product 3,HighRiskCustomer,CustomerRestriction,BranchNumber,"
              "CustomerSegmentID,GlobalCustomerID,CustomerCountryRelationship,VVIP,PremierCustomer,"
              "CommercialorPersonal,IsDigitalEligible,BranchVisits,FinancialRiskCustomer,NumberofTotalProducts,"
              "PhoneNumber")
ATTRIBUTE_KEYS = {"universalSessionId", "customerId", "intentCategory", "intent", "isResolved", "digitalOffered",
                  "digitalAccepted", "exitReason", "wrapUpNotes", "surveyOffered", "csat", "device", "disposition"}
DUP, UPD = 0.08, 0.08


# -- readers (independent of the simulator's code) ------------------------------------------------------
def iter_json_values(text: str):
    dec, i, n = json.JSONDecoder(), 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return
        obj, i = dec.raw_decode(text, i)
        yield obj


def ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def ts_ms(text: str) -> int:
    d = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return int(round(d.timestamp() * 1000))


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


class Run:
    def __init__(self, root: Path, summary: SimulationSummary):
        self.root, self.summary = root, summary
        self.landing = root / "landing"
        self.events_dir = root / "events"
        self.objects = {k: v for k, v in tree(self.landing).items() if k.startswith("ctr/")}
        self.records = []  # (object key, index in object, record)
        for key, body in self.objects.items():
            for i, rec in enumerate(iter_json_values(body.decode("utf-8"))):
                self.records.append((key, i, rec))
        best: dict[str, dict] = {}
        for _k, _i, rec in self.records:
            cur = best.get(rec["ContactId"])
            if cur is None or rec["LastUpdateTimestamp"] >= cur["LastUpdateTimestamp"]:
                best[rec["ContactId"]] = rec
        self.legs = best
        self.events = []  # (shard, file, line number, event)
        for path in sorted(self.events_dir.rglob("*.jsonl")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
                self.events.append((path.parent.name, path.name, n, json.loads(line)))


def run_sim(root: Path, seed: int = 11, agents: int = 20, hours: float = 6, **kw) -> Run:
    summary = simulate(START, hours, agents, seed, LandingZone(uri=str(root / "landing")), str(root / "events"),
                       duplicate_rate=DUP, update_rate=UPD, **kw)
    return Run(root, summary)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    return run_sim(tmp_path_factory.mktemp("sim"))


def queued(leg):
    return leg["Queue"] is not None and leg["Queue"]["EnqueueTimestamp"] is not None


# -- determinism -------------------------------------------------------------------------------------
def test_same_seed_gives_identical_bytes_and_another_seed_differs(run, tmp_path):
    again = run_sim(tmp_path / "again")
    assert tree(again.landing) == tree(run.landing)
    assert tree(again.events_dir) == tree(run.events_dir)
    other = run_sim(tmp_path / "other", seed=12)
    assert tree(other.landing) != tree(run.landing)


# -- CTR objects -------------------------------------------------------------------------------------
def test_every_ctr_object_is_firehose_shaped_and_decodes(run):
    assert run.objects, "no CTR objects written"
    assert len(run.objects) == run.summary.ctr_objects
    for key, body in run.objects.items():
        m = CTR_KEY.match(key)
        assert m, key
        text = body.decode("utf-8")
        assert text.startswith("{") and text.endswith("}") and "\n" not in text
        recs = list(iter_json_values(text))
        assert len("".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in recs)) == len(text)
        folder = datetime(*map(int, m.groups()[:4]), tzinfo=timezone.utc)
        delivered = datetime.strptime(m.group(5), "%Y-%m-%d-%H-%M-%S").replace(tzinfo=timezone.utc)
        assert folder <= delivered
        updates = [ts(r["LastUpdateTimestamp"]) for r in recs]
        assert max(updates) <= delivered  # a record is in Firehose only after its last update
        assert min(updates) < folder + timedelta(hours=1)  # the oldest record arrived within the folder's hour
    assert len(run.records) == run.summary.ctr_records_written
    assert len(run.legs) == run.summary.contacts


def test_records_look_like_the_fixture_records(run):
    sample = list(iter_json_values(fixture_bytes("firehose_object_sample").decode()))[0]
    for _k, _i, rec in run.records:
        assert set(rec) == set(sample)
        assert rec["AWSContactTraceRecordFormatVersion"] == "2017-03-10"
        for field in ("InitiationTimestamp", "DisconnectTimestamp", "LastUpdateTimestamp"):
            assert TS.match(rec[field]), rec[field]
        if rec["Agent"]:
            assert set(rec["Agent"]) == set(sample["Agent"])
            assert ARN.match(rec["Agent"]["ARN"]) and rec["Agent"]["Username"].startswith("agent.")
            assert set(rec["Agent"]["HierarchyGroups"]["Level1"]) == {"ARN", "GroupName"}
        if rec["Queue"]:
            assert ARN.match(rec["Queue"]["ARN"])
            if "/queue/agent/" in rec["Queue"]["ARN"]:
                assert rec["Queue"]["Name"] is None
        if rec["CustomerEndpoint"]:
            assert re.match(r"^\+[1-9]\d{7,14}$", rec["CustomerEndpoint"]["Address"])
        assert set(rec["Attributes"]) <= ATTRIBUTE_KEYS
        assert all(isinstance(v, str) for v in rec["Attributes"].values())
    channels = Counter(leg["Channel"] for leg in run.legs.values())
    assert channels["VOICE"] > channels["CHAT"] > 0 and channels["TASK"] > 0
    methods = Counter(leg["InitiationMethod"] for leg in run.legs.values())
    assert {"INBOUND", "API", "TRANSFER", "OUTBOUND"} <= set(methods)


def test_durations_equal_timestamp_differences(run):
    for leg in run.legs.values():
        assert ts(leg["InitiationTimestamp"]) <= ts(leg["DisconnectTimestamp"])
        q, a = leg["Queue"], leg["Agent"]
        if queued(leg):
            enq, deq = ts(q["EnqueueTimestamp"]), ts(q["DequeueTimestamp"])
            assert q["Duration"] == (deq - enq).total_seconds() >= 0
            assert ts(leg["InitiationTimestamp"]) <= enq
        if a:
            conn, s, e = (ts(a[k]) for k in ("ConnectedToAgentTimestamp", "AfterContactWorkStartTimestamp",
                                            "AfterContactWorkEndTimestamp"))
            assert a["AfterContactWorkDuration"] == (e - s).total_seconds() >= 0
            assert (s - conn).total_seconds() == a["AgentInteractionDuration"] + a["CustomerHoldDuration"]
            assert a["LongestHoldDuration"] <= a["CustomerHoldDuration"]
            assert (a["NumberOfHolds"] == 0) == (a["CustomerHoldDuration"] == 0)
            if queued(leg):
                assert q["DequeueTimestamp"] == a["ConnectedToAgentTimestamp"]
        # a CTR is emitted only when the contact is over: disconnected and ACW done
        over = max([ts(leg["DisconnectTimestamp"])] + ([ts(a["AfterContactWorkEndTimestamp"])] if a else []))
        assert ts(leg["LastUpdateTimestamp"]) > over


def test_queued_legs_have_exactly_one_outcome_and_totals_reconcile(run):
    s = run.summary
    counts = Counter()
    for leg in run.legs.values():
        if not queued(leg):
            if leg["Channel"] == "VOICE" and leg["InitiationMethod"] == "INBOUND":
                assert leg["Agent"] is None and leg["Queue"] is None and leg["AgentConnectionAttempts"] == 0
                counts["ivr_only"] += 1
            continue
        answered = leg["Agent"] is not None
        left = not answered and (leg["NextContactId"] is not None or leg["TransferCompletedTimestamp"] is not None)
        abandoned = not answered and not left
        assert answered + left + abandoned == 1
        counts["queued"] += 1
        counts["answered"] += answered
        counts["abandoned"] += abandoned
        counts["left"] += left
        if abandoned:
            assert leg["AgentConnectionAttempts"] == 0
            assert leg["Queue"]["DequeueTimestamp"] == leg["DisconnectTimestamp"]
        if left:
            nxt = run.legs[leg["NextContactId"]]
            assert nxt["InitiationMethod"] in ("CALLBACK", "QUEUE_TRANSFER")
    assert counts["queued"] == s.queued and counts["answered"] == s.answered
    assert counts["abandoned"] == s.abandoned and counts["left"] == s.transferred_unanswered
    assert counts["ivr_only"] == s.ivr_only
    assert s.answered > 0.8 * s.queued and s.abandoned > 0 and s.ivr_only > 0
    short = [leg for leg in run.legs.values() if queued(leg) and leg["Agent"] is None
             and leg["NextContactId"] is None and leg["Queue"]["Duration"] < 5]
    assert short, "expected some short abandons"


def test_contact_chains_link_both_ways(run):
    legs = run.legs
    kinds = Counter()
    for cid, leg in legs.items():
        if leg["NextContactId"]:
            nxt = legs[leg["NextContactId"]]
            assert nxt["PreviousContactId"] == cid
            assert nxt["InitialContactId"] == (leg["InitialContactId"] or cid)
            assert ts(nxt["InitiationTimestamp"]) >= ts(leg["InitiationTimestamp"])
            kinds[nxt["InitiationMethod"]] += 1
        if leg["PreviousContactId"]:
            assert legs[leg["PreviousContactId"]]["NextContactId"] == cid
        if leg["InitiationMethod"] in ("TRANSFER", "QUEUE_TRANSFER", "CALLBACK"):
            assert leg["PreviousContactId"] in legs and leg["InitialContactId"]
        if leg["InitiationMethod"] == "CALLBACK":
            prev = legs[leg["PreviousContactId"]]
            assert queued(prev) and prev["Agent"] is None
            assert ts(leg["InitiationTimestamp"]) >= ts(prev["Queue"]["DequeueTimestamp"])
        if leg["TransferCompletedTimestamp"]:
            assert leg["NextContactId"] is None and leg["TransferredToEndpoint"]["Address"].startswith("+")
            assert leg["TransferCompletedTimestamp"] == leg["Agent"]["AfterContactWorkStartTimestamp"]
            assert ts(leg["DisconnectTimestamp"]) > ts(leg["TransferCompletedTimestamp"])
        if leg["InitiationMethod"] == "OUTBOUND":
            assert leg["Agent"] and not queued(leg) and leg["Queue"]["Name"] == "Outbound"
    assert kinds["TRANSFER"] > 0
    agent_queue_legs = [leg for leg in legs.values() if leg["Queue"] and "/queue/agent/" in leg["Queue"]["ARN"]]
    assert agent_queue_legs and all(leg["InitiationMethod"] == "TRANSFER" for leg in agent_queue_legs)


def test_duplicates_and_updates_at_the_configured_rates(run):
    by_id = defaultdict(list)
    for key, i, rec in run.records:
        by_id[rec["ContactId"]].append((key, i, rec))
    dups = upds = 0
    for copies in by_id.values():
        original = min(copies, key=lambda c: c[2]["LastUpdateTimestamp"])[2]
        for key, _i, rec in copies:
            if rec is original:
                continue
            if rec == original:
                dups += 1
                assert key != [c[0] for c in copies if c[2] is original][0]  # re-sent in another object
            else:
                upds += 1
                assert rec["LastUpdateTimestamp"] > original["LastUpdateTimestamp"]
                assert rec["Attributes"] != original["Attributes"]
                assert {k: v for k, v in rec.items() if k not in ("Attributes", "LastUpdateTimestamp")} == \
                       {k: v for k, v in original.items() if k not in ("Attributes", "LastUpdateTimestamp")}
    n = run.summary.contacts
    assert dups == run.summary.duplicates and upds == run.summary.updates
    assert 0.4 * DUP * n <= dups <= 1.8 * DUP * n
    assert 0.4 * UPD * n <= upds <= 1.8 * UPD * n


def test_contacts_land_after_they_are_over_and_some_in_a_later_hour(run):
    later = 0
    for key, _i, rec in run.records:
        folder = datetime(*map(int, CTR_KEY.match(key).groups()[:4]), tzinfo=timezone.utc)
        later += folder > ts(rec["InitiationTimestamp"]).replace(minute=0, second=0)
    assert later > 0


# -- agent events ------------------------------------------------------------------------------------
def test_agent_event_spool_layout_shards_and_order(run):
    assert run.summary.agent_events == len(run.events)
    shards = {}
    last = {}
    for shard, name, _n, ev in run.events:
        assert shard in ("shardId-000000000000", "shardId-000000000001")
        assert re.match(r"^\d{4}-\d\d-\d\d-\d\d\.jsonl$", name)
        arn = ev["AgentARN"]
        assert shard == f"shardId-00000000000{int(hashlib.md5(arn.encode()).hexdigest(), 16) % 2}"
        shards.setdefault(arn, shard)
        assert shards[arn] == shard
        assert TS_MS.match(ev["EventTimestamp"]) and name[:13] == ev["EventTimestamp"][:13].replace("T", "-")
        t = ts_ms(ev["EventTimestamp"])
        assert t > last.get(arn, 0)
        last[arn] = t
        assert ev["EventType"] in ("LOGIN", "LOGOUT", "STATE_CHANGE", "HEART_BEAT")
        cur = ev["CurrentAgentSnapshot"]
        assert cur["AgentStatus"]["Type"] in ("ROUTABLE", "CUSTOM", "OFFLINE")
        assert set(cur["Configuration"]) >= {"Username", "FirstName", "LastName", "AgentHierarchyGroups",
                                             "RoutingProfile"}
        assert cur["Configuration"]["RoutingProfile"]["InboundQueues"]
        if ev["EventType"] in ("LOGIN", "LOGOUT"):
            assert ev["PreviousAgentSnapshot"] is None
        for c in cur["Contacts"]:
            assert c["State"] in ("PENDING", "CONNECTING", "CONNECTED", "CONNECTED_ONHOLD", "ENDED")
    assert len(set(shards.values())) == 2


def _agent_streams(run):
    per_agent = defaultdict(list)
    for _s, _f, _n, ev in run.events:  # file order is sequence order
        per_agent[ev["CurrentAgentSnapshot"]["Configuration"]["Username"]].append(ev)
    return per_agent


def test_heartbeats_fill_every_gap_while_logged_in(run):
    for evs in _agent_streams(run).values():
        logged_in = False
        prev = None
        for ev in evs:
            t = ts_ms(ev["EventTimestamp"])
            if logged_in and prev is not None:
                assert t - prev <= 120_000
            logged_in = ev["EventType"] != "LOGOUT" and (logged_in or ev["EventType"] == "LOGIN")
            prev = t
    assert any(ev["EventType"] == "HEART_BEAT" for _s, _f, _n, ev in run.events)


def test_a_break_due_during_a_contact_waits_for_its_acw_to_end(run):
    deferred = 0
    for evs in _agent_streams(run).values():
        pending = None
        for ev in evs:
            snap = ev["CurrentAgentSnapshot"]
            nxt = snap.get("NextAgentStatus")
            if nxt and pending is None:
                assert snap["Contacts"], "a next status is only set while a contact is on"
                pending = nxt["Name"]
            elif pending is not None and not snap["Contacts"]:
                assert snap["AgentStatus"]["Name"] == pending and "NextAgentStatus" not in snap
                assert snap["AgentStatus"]["StartTimestamp"] == ev["EventTimestamp"]
                pending, deferred = None, deferred + 1
    assert deferred > 0


def test_a_full_day_has_realistic_volume_and_occupancy(tmp_path):
    s = simulate(datetime(2026, 1, 5, tzinfo=timezone.utc), 24, 30, 4, LandingZone(uri=str(tmp_path / "l")),
                 str(tmp_path / "e"))
    assert 45 <= s.contacts / 30 <= 75  # ≈ 60 legs per agent and day
    assert 0.6 <= s.occupancy <= 0.88
    assert s.abandoned < 0.15 * s.queued and s.outbound > 0 and s.callbacks > 0 and s.external_transfers > 0
    assert s.by_channel["VOICE"] > 0.6 * s.contacts
    assert len(s.agent_online_seconds) == 30  # shifts cover the whole day: every agent works
    assert s.report_files >= 48  # every half hour, plus one for work that ran past midnight


def _bucket(snapshot: dict, logged_out: bool) -> str:
    typ = snapshot["AgentStatus"]["Type"]
    states = {c["State"] for c in snapshot["Contacts"]}
    if logged_out or typ == "OFFLINE":
        return "offline"
    if typ == "CUSTOM":
        return "nonprod"
    if states & {"CONNECTED", "CONNECTED_ONHOLD", "ENDED"}:
        return "on_contact"
    if states & {"CONNECTING", "INCOMING", "PENDING"}:
        return "connecting"
    return "idle"


def _timeline_seconds(run) -> dict:
    """(username, interval start ms) → bucket → seconds, from the agent events by the spec's rules."""
    out = defaultdict(lambda: defaultdict(float))
    for user, evs in _agent_streams(run).items():
        for ev, nxt in zip(evs, evs[1:]):
            bucket = _bucket(ev["CurrentAgentSnapshot"], ev["EventType"] == "LOGOUT")
            if bucket == "offline":
                continue
            a, b = ts_ms(ev["EventTimestamp"]), ts_ms(nxt["EventTimestamp"])
            while a < b:
                start = a - a % 1_800_000
                end = min(b, start + 1_800_000)
                out[(user, start)][bucket] += (end - a) / 1000
                a = end
    return out


def _report_rows(run) -> tuple[dict, list]:
    rows, files = {}, []
    for path in sorted((run.landing / "reports").glob("*.csv")):
        text = path.read_text(encoding="utf-8")
        assert text.splitlines()[0] == REPORT_HEADER
        file_rows = list(csv.DictReader(io.StringIO(text)))
        files.append((path.name, file_rows))
        for r in file_rows:
            rows[(r["Agent"], ts_ms(r["StartInterval"]))] = r  # the file created last wins
    return rows, files


def test_agent_report_matches_the_agent_event_timeline(run):
    rows, _files = _report_rows(run)
    timeline = _timeline_seconds(run)
    num = lambda v: 0 if v == "-" else int(v)  # noqa: E731
    for key, b in timeline.items():
        online = sum(b.values())
        if online < 1:
            continue
        r = rows[key]
        assert abs(num(r["Online time"]) - online) <= 2, (key, r, dict(b))
        assert abs(num(r["Agent idle time"]) - b["idle"]) <= 2
        assert abs(num(r["Agent on contact time"]) - b["on_contact"]) <= 2
        assert abs(num(r["Non-Productive Time"]) - b["nonprod"]) <= 2
    for key, r in rows.items():
        assert sum(timeline[key].values()) > 0, key
    per_agent = defaultdict(float)
    for (user, _start), b in timeline.items():
        per_agent[user] += sum(b.values())
    for user, seconds in run.summary.agent_online_seconds.items():
        assert abs(per_agent[user] - seconds) <= 5
    onc = sum(b["on_contact"] for b in timeline.values())
    idle = sum(b["idle"] for b in timeline.values())
    assert 0.55 <= onc / (onc + idle) <= 0.92  # realistic occupancy
    assert any(b["nonprod"] > 0 for b in timeline.values())  # breaks and lunch


def test_agent_reports_every_half_hour_overlapping(run):
    rows, files = _report_rows(run)
    assert len(files) == run.summary.report_files and sum(len(r) for _n, r in files) == run.summary.report_rows
    created = []
    for name, file_rows in files:
        m = re.match(r"^TeleoptiAgentPerformance-(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)\.csv$", name)
        assert m, name
        when = datetime.strptime(m.group(1), "%Y-%m-%dT%H-%M-%SZ").replace(tzinfo=timezone.utc)
        created.append(when)
        assert when.minute in (15, 45)
        for r in file_rows:
            start = ts_ms(r["StartInterval"])
            assert ts_ms(r["EndInterval"]) - start == 1_800_000
            assert when.timestamp() * 1000 - 9_000_000 <= start <= when.timestamp() * 1000 - 2_700_000
            assert r["Occupancy"] == "-" or re.match(r"^\d+\.\d\d%$", r["Occupancy"])
    schedules = [c.replace(second=0) - timedelta(minutes=15) for c in created]
    assert len(schedules) >= 12 and all(b - a == timedelta(minutes=30) for a, b in zip(schedules, schedules[1:]))
    assert schedules[0] == START + timedelta(minutes=30) and schedules[-1] >= START + timedelta(hours=6)
    seen = Counter((r["Agent"], r["StartInterval"]) for _n, file_rows in files for r in file_rows)
    assert max(seen.values()) >= 3  # the 2-hour window repeats each interval in several files


def test_contacts_match_the_agents_who_handled_them(run):
    connected = defaultdict(set)
    for _s, _f, _n, ev in run.events:
        for c in ev["CurrentAgentSnapshot"]["Contacts"]:
            if c["State"] == "CONNECTED":
                connected[c["ContactId"]].add(ev["CurrentAgentSnapshot"]["Configuration"]["Username"])
    for cid, leg in run.legs.items():
        if leg["Agent"]:
            assert connected[cid] == {leg["Agent"]["Username"]}


# -- CRM and chatbot sessions -------------------------------------------------------------------------
def _crm(run):
    (path,) = list((run.landing / "crm").glob("customers-*.csv"))
    assert path.name == "customers-2026-01-05.csv"
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == CRM_HEADER
    return list(csv.DictReader(io.StringIO(text)))


def test_crm_extract_is_realistic_and_matches_the_callers(run):
    rows = _crm(run)
    assert len(rows) == run.summary.crm_customers
    for r in rows:
        assert re.match(r"^C\d{7}$", r["Cust_ID"])
        assert re.match(r"^\d{4}$", r["BranchNumber"])
        for col in ("HighRiskCustomer", "VVIP", "PremierCustomer", "IsDigitalEligible", "FinancialRiskCustomer"):
            assert r[col] in ("true", "false")
        assert r["CommercialorPersonal"] in ("COMMERCIAL", "PERSONAL")
        assert r["PhoneNumber"] == "" or re.match(r"^\+[1-9]\d{7,14}$", r["PhoneNumber"])
    ids = {r["Cust_ID"] for r in rows}
    phones = {r["PhoneNumber"] for r in rows if r["PhoneNumber"]}
    with_id = [leg for leg in run.legs.values() if "customerId" in leg["Attributes"]]
    known = [leg for leg in with_id if leg["Attributes"]["customerId"] in ids]
    assert len(known) > 0.8 * len(with_id) and len(known) < len(with_id)  # some unknown customers
    lookups = [leg for leg in run.legs.values() if leg["Channel"] == "VOICE" and "customerId" not in leg["Attributes"]
               and leg["CustomerEndpoint"]["Address"] in phones]
    assert lookups, "some contacts need the phone lookup"
    by_phone = {r["PhoneNumber"]: r["Cust_ID"] for r in rows}
    for leg in known:
        inbound = leg["CustomerEndpoint"] and leg["InitiationMethod"] == "INBOUND"
        if inbound and leg["CustomerEndpoint"]["Address"] in by_phone:
            assert leg["Attributes"]["customerId"] in ids
    repeat = Counter(leg["Attributes"]["customerId"] for leg in known if not leg["PreviousContactId"])
    assert max(repeat.values()) >= 2  # repeat customers


def test_chatbot_sessions_are_valid_and_hand_offs_reach_connect(run):
    sessions = []
    for path in sorted((run.landing / "channels" / "webchat").rglob("*.jsonl")):
        assert re.match(r"^channels/webchat/\d{4}/\d\d/\d\d/[^/]+\.jsonl$", path.relative_to(run.landing).as_posix())
        for line in path.read_text(encoding="utf-8").splitlines():
            sessions.append(json.loads(line))
    assert len(sessions) == run.summary.chat_sessions > 0
    for s in sessions:
        assert {"session_id", "channel", "started_at", "ended_at"} <= set(s)
        assert s["channel"] == "WEBCHAT_BOT" and s["channel"] == s["channel"].upper()
        assert ts(s["ended_at"]) >= ts(s["started_at"])
        assert s.get("device") in (None, "MOBILE", "DESKTOP", "TABLET")
    assert len({s["session_id"] for s in sessions}) == len(sessions)
    by_usid = defaultdict(list)
    for leg in run.legs.values():
        if "universalSessionId" in leg["Attributes"]:
            by_usid[leg["Attributes"]["universalSessionId"]].append(leg)
    handed = [s for s in sessions if s.get("handed_off_to")]
    assert handed
    for s in handed:
        legs = [leg for leg in by_usid[s["universal_session_id"]] if not leg["PreviousContactId"]]
        assert len(legs) == 1 and legs[0]["Channel"] == s["handed_off_to"]
        assert ts(legs[0]["InitiationTimestamp"]) >= ts(s["ended_at"])
        assert legs[0]["Attributes"].get("customerId") == s.get("customer_id")


def test_attributes_follow_the_mapping(run):
    legs = list(run.legs.values())
    ivr_stage = [leg for leg in legs if leg["Channel"] == "VOICE" and leg["InitiationMethod"] == "INBOUND"]
    assert all(leg["Attributes"].get("digitalOffered") in ("true", "false") for leg in ivr_stage)
    assert any(leg["Attributes"].get("digitalAccepted") == "true" for leg in ivr_stage)
    assert not any("digitalOffered" in leg["Attributes"] for leg in legs if leg not in ivr_stage)
    csat = [leg["Attributes"]["csat"] for leg in legs if "csat" in leg["Attributes"]]
    assert csat and sum(c in ("1", "2", "3", "4", "5") for c in csat) >= 0.9 * len(csat)
    assert any(leg["Attributes"].get("device") for leg in legs if leg["Channel"] == "CHAT")
    assert sum("intent" in leg["Attributes"] for leg in legs) > 0.7 * len(legs)


# -- other sinks and modes ---------------------------------------------------------------------------
def test_kinesis_and_s3_through_moto(moto_endpoint, tmp_path):
    import boto3

    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(
        Bucket="sim-landing", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    landing = LandingZone(uri="s3://sim-landing/raw", endpoint_url=moto_endpoint)
    summary = simulate(START, 1, 3, 5, landing, "kinesis://cc-agent-events")
    keys = [o.key for o in landing.list("ctr/")]
    assert len(keys) == summary.ctr_objects and all(CTR_KEY.match(k) for k in keys)
    kinesis = boto3.client("kinesis", endpoint_url=moto_endpoint)
    got = []
    for shard in kinesis.list_shards(StreamName="cc-agent-events")["Shards"]:
        it = kinesis.get_shard_iterator(StreamName="cc-agent-events", ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            page = kinesis.get_records(ShardIterator=it, Limit=1000)
            got += page["Records"]
            it = page.get("NextShardIterator") if page["Records"] else None
    assert len(got) == summary.agent_events > 0
    for rec in got:
        assert rec["PartitionKey"] == json.loads(rec["Data"])["AgentARN"]


def test_live_mode_writes_each_file_when_it_is_due(tmp_path, monkeypatch):
    from cc_reporting.simulate import delivery

    start = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
    clock = {"now": start.timestamp()}
    waits = []

    class FakeTime:
        @staticmethod
        def time():
            return clock["now"]

        @staticmethod
        def sleep(seconds):
            waits.append(seconds)
            clock["now"] += seconds

    monkeypatch.setattr(delivery, "time", FakeTime)
    landing = LandingZone(uri=str(tmp_path / "landing"))
    written = []
    real_write = LandingZone.write

    def spy(self, key, data):
        written.append((clock["now"], key))
        real_write(self, key, data)

    monkeypatch.setattr(LandingZone, "write", spy)
    summary = simulate(start, 1, 3, 3, landing, str(tmp_path / "events"), live=True)
    assert waits and all(w > 0 for w in waits)
    times = [t for t, _k in written]
    assert times == sorted(times) and times[0] >= start.timestamp()
    for t, key in written:
        m = CTR_KEY.match(key)
        if m:
            delivered = datetime.strptime(m.group(5), "%Y-%m-%d-%H-%M-%S").replace(tzinfo=timezone.utc)
            assert abs(delivered.timestamp() - t) <= 1
    assert summary.ctr_objects == sum(1 for _t, k in written if k.startswith("ctr/"))
