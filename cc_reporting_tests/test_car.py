"""The Customer Analytics Record (car-jar.md §8), over a hand-made `jar` holding only the columns CAR reads.

as_of = 2026-04-01 00:00 UTC, W = 90 days → window (2026-01-01 00:00, 2026-04-01 00:00]; CC_FCR_DAYS = 7.
"""
import dataclasses
from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from cc_reporting.models.analytics.car import (
    CAR_COLUMNS,
    SENSITIVE_COLUMNS,
    car_export_columns,
    refresh_car,
)
from cc_reporting.settings import load_settings
from cc_reporting.staging.crm import ensure_crm_table

AS_OF = datetime(2026, 4, 1)
DAY = timedelta(days=1)
MIN = timedelta(minutes=1)

JAR_DDL = """CREATE TABLE jar (
    "CUST_ID" VARCHAR, "ChannelType" VARCHAR, device VARCHAR, is_outbound INTEGER,
    "SessionStartTime" TIMESTAMP, "SessionEndTime" TIMESTAMP, "UniversalSessionId" VARCHAR, "JourneyStep" INTEGER,
    "IsResolved" BOOLEAN, "InteractionStartTime" TIMESTAMP, "IsTransferred" BOOLEAN, "CSATScore" INTEGER,
    "IsDigitalOffered" BOOLEAN, "IsDigitalAccepted" BOOLEAN, is_abandoned INTEGER)"""


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(JAR_DDL)
    ensure_crm_table(con)
    yield con
    con.close()


@pytest.fixture
def settings():
    return dataclasses.replace(load_settings(), car_window_days=90, fcr_days=7)


def crm(con, cust_id, age=None, branch=None):
    con.execute("""INSERT INTO stg_crm_customer ("Cust_ID", "Age", "BranchNumber", extract_date, source_key,
                   ingested_at) VALUES (?, ?, ?, DATE '2026-03-31', 'crm/customers-2026-03-31.csv', now())""",
                [cust_id, age, branch])


_seq = iter(range(1_000_000))


def contact(con, cust, start, channel="VOICE", *, end=None, device="auto", outbound=0, usid=None, step=1,
            resolved=None, agent=False, transferred=False, csat=None, offered=None, accepted=None, abandoned=0):
    """One jar row as the JAR builds it: VOICE/IVR rows carry device PHONE unless the test says otherwise."""
    if device == "auto":
        device = "PHONE" if channel in ("IVR", "VOICE") else None
    con.execute("INSERT INTO jar VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        cust, channel, device, outbound, start, end or start + 5 * MIN, usid or f"us-{next(_seq)}", step,
        resolved, start + MIN if agent else None, transferred, csat, offered, accepted, abandoned])


def car(con, *columns):
    cols = ", ".join(f'"{c}"' for c in columns)
    return {r[0]: r[1:] for r in con.execute(f'SELECT "Cust_ID", {cols} FROM car ORDER BY "Cust_ID"').fetchall()}


def refresh(con, settings, as_of=AS_OF):
    con.execute("BEGIN TRANSACTION")
    meta = refresh_car(con, settings, as_of)
    con.execute("COMMIT")
    return meta


def test_table_holds_29_seed_variables_in_seed_order_then_the_extras(con, settings):
    refresh(con, settings)
    columns = [r[0] for r in con.execute("DESCRIBE car").fetchall()]
    assert columns == list(CAR_COLUMNS) and len(columns) == 29 + 9
    assert columns[10:14] == ["OverallRevenue", "CommonChannels", "Device", "Product 1"]
    assert columns[28:] == ["NumberofTotalProducts", "in_crm", "contacts_90d", "sessions_90d", "last_contact_at",
                            "fcr_rate_90d", "avg_csat_90d", "digital_offer_accept_rate", "repeat_contact_rate",
                            "abandoned_90d"]


def test_customer_in_crm_without_contacts_has_null_behaviour_and_zero_counts(con, settings):
    """C1 is in the CRM (Age 40, branch 007) and never contacted: in_crm true, CRM values kept; counts 0
    (contacts, sessions, abandoned); CommonChannels, Device, last_contact_at and every ratio null."""
    crm(con, "C1", age=40, branch="007")
    refresh(con, settings)
    assert car(con, "Age", "BranchNumber", "in_crm", "CommonChannels", "Device", "contacts_90d", "sessions_90d",
               "last_contact_at", "fcr_rate_90d", "avg_csat_90d", "digital_offer_accept_rate",
               "repeat_contact_rate", "abandoned_90d") == {
        "C1": (40, "007", True, None, None, 0, 0, None, None, None, None, None, 0)}


def test_customer_missing_from_crm_is_flagged_with_null_crm_columns(con, settings):
    """CRM holds C1; jar also has C9 (one VOICE contact 10 days ago) and a row without CUST_ID (no customer).
    → two rows: C9 with in_crm false, every CRM column null, contacts 1. Metadata: 2 customers, 1 in CRM,
    1 missing, as_of and W recorded."""
    crm(con, "C1", age=40)
    contact(con, "C9", AS_OF - 10 * DAY)
    contact(con, None, AS_OF - 10 * DAY)
    meta = refresh(con, settings)
    rows = con.execute('SELECT * FROM car WHERE "Cust_ID" = \'C9\'').fetchall()[0]
    row = dict(zip(CAR_COLUMNS, rows))
    crm_columns = [c for c in CAR_COLUMNS[:29] if c not in ("Cust_ID", "CommonChannels", "Device")]
    assert all(row[c] is None for c in crm_columns)
    assert (row["in_crm"], row["contacts_90d"], row["CommonChannels"], row["Device"]) == (False, 1, "VOICE", "PHONE")
    assert car(con, "in_crm") == {"C1": (True,), "C9": (False,)}
    assert meta["customers"] == 2 and meta["in_crm"] == 1 and meta["missing_from_crm"] == 1
    assert meta["as_of"] == "2026-04-01 00:00:00" and meta["window_days"] == 90


def test_window_is_as_of_minus_w_exclusive_to_as_of_inclusive(con, settings):
    """C1 rows (each its own session, each abandoned): exactly as_of − 90 d (out), as_of − 90 d + 1 s (in),
    exactly as_of (in), as_of + 1 s (out). → contacts_90d 2, sessions_90d 2, abandoned_90d 2."""
    for start in (AS_OF - 90 * DAY, AS_OF - 90 * DAY + timedelta(seconds=1), AS_OF, AS_OF + timedelta(seconds=1)):
        contact(con, "C1", start, abandoned=1)
    refresh(con, settings)
    assert car(con, "contacts_90d", "sessions_90d", "abandoned_90d") == {"C1": (2, 2, 2)}


def test_sessions_count_distinct_universal_sessions_among_window_rows(con, settings):
    """C1: a session of 3 rows (bot, IVR, VOICE) and a single-row chat → contacts 4, sessions 2."""
    for step, channel in enumerate(("WEBCHAT_BOT", "IVR", "VOICE"), start=1):
        contact(con, "C1", AS_OF - 3 * DAY + step * MIN, channel, usid="us-a", step=step)
    contact(con, "C1", AS_OF - 2 * DAY, "CHAT")
    refresh(con, settings)
    assert car(con, "contacts_90d", "sessions_90d") == {"C1": (4, 2)}


def test_common_channels_top_three_ties_alphabetical_outbound_ignored(con, settings):
    """C1 window rows: VOICE 3, WEBCHAT_BOT 2, IVR 2, CHAT 2, EMAIL 1; outbound TASK 5 (ignored); EMAIL 10 before
    the window (ignored). Ranking: VOICE (3), then the 2s alphabetically CHAT, IVR (WEBCHAT_BOT is 4th)
    → "VOICE,CHAT,IVR". C2 has outbound rows only → null."""
    counts = {"VOICE": 3, "WEBCHAT_BOT": 2, "IVR": 2, "CHAT": 2, "EMAIL": 1}
    for channel, n in counts.items():
        for i in range(n):
            contact(con, "C1", AS_OF - (i + 1) * DAY, channel)
    for i in range(5):
        contact(con, "C1", AS_OF - (i + 1) * DAY, "TASK", outbound=1)
        contact(con, "C2", AS_OF - (i + 1) * DAY, "VOICE", outbound=1)
    for i in range(10):
        contact(con, "C1", AS_OF - (100 + i) * DAY, "EMAIL")
    refresh(con, settings)
    assert car(con, "CommonChannels") == {"C1": ("VOICE,CHAT,IVR",), "C2": (None,)}


def test_device_most_frequent_ties_to_most_recently_used_ivr_and_voice_count_as_phone(con, settings):
    """C1: MOBILE at −10 d and −5 d; an IVR row at −3 d and a VOICE row at −8 d → PHONE 2 (the IVR row counts as
    PHONE even with its device empty); outbound DESKTOP ×3 ignored; DESKTOP ×3 before the window ignored.
    Tie 2–2 → the most recently used: PHONE (−3 d) beats MOBILE (−5 d).
    C2: MOBILE ×2 (latest −2 d) and TABLET ×1 at −1 d → MOBILE: frequency first, recency only breaks ties.
    C3: MOBILE and TABLET once each at the very same time → alphabetical MOBILE (a rerun must agree)."""
    contact(con, "C1", AS_OF - 10 * DAY, "WEBCHAT_BOT", device="MOBILE")
    contact(con, "C1", AS_OF - 5 * DAY, "CHAT", device="MOBILE")
    contact(con, "C1", AS_OF - 3 * DAY, "IVR", device=None)
    contact(con, "C1", AS_OF - 8 * DAY, "VOICE")
    for i in range(3):
        contact(con, "C1", AS_OF - (i + 1) * DAY, "VOICE", device="DESKTOP", outbound=1)
        contact(con, "C1", AS_OF - (120 + i) * DAY, "CHAT", device="DESKTOP")
    contact(con, "C2", AS_OF - 4 * DAY, "CHAT", device="MOBILE")
    contact(con, "C2", AS_OF - 2 * DAY, "CHAT", device="MOBILE")
    contact(con, "C2", AS_OF - 1 * DAY, "CHAT", device="TABLET")
    contact(con, "C3", AS_OF - 1 * DAY, "CHAT", device="TABLET")
    contact(con, "C3", AS_OF - 1 * DAY, "CHAT", device="MOBILE")
    refresh(con, settings)
    assert car(con, "Device") == {"C1": ("PHONE",), "C2": ("MOBILE",), "C3": ("MOBILE",)}


def test_fcr_rate_counts_fcr_eligible_rows_with_a_verdict_only(con, settings):
    """C1 window rows: eligible (agent, inbound, not transferred) resolved T, T, F and one with IsResolved null
    (not in the denominator); not eligible, all resolved F: IVR self-service (no InteractionStartTime), a
    transferred row, an outbound row with an agent; an eligible F row before the window.
    → 2 / 3 = 0.6667. C2 has ineligible rows only → null (never 0)."""
    for verdict in (True, True, False, None):
        contact(con, "C1", AS_OF - 5 * DAY, agent=True, resolved=verdict)
    contact(con, "C1", AS_OF - 5 * DAY, "IVR", resolved=False)
    contact(con, "C1", AS_OF - 5 * DAY, agent=True, transferred=True, resolved=False)
    contact(con, "C1", AS_OF - 5 * DAY, agent=True, outbound=1, resolved=False)
    contact(con, "C1", AS_OF - 95 * DAY, agent=True, resolved=False)
    contact(con, "C2", AS_OF - 5 * DAY, "IVR", resolved=True)
    refresh(con, settings)
    assert car(con, "fcr_rate_90d") == {"C1": (pytest.approx(2 / 3),), "C2": (None,)}


def test_avg_csat_over_window_rows_with_a_score(con, settings):
    """C1 window CSAT 5, 4, null, 1 → (5 + 4 + 1) / 3 = 3.3333; a 1 before the window is ignored.
    C2 has contacts but no score → null."""
    for score in (5, 4, None, 1):
        contact(con, "C1", AS_OF - 5 * DAY, agent=True, csat=score)
    contact(con, "C1", AS_OF - 91 * DAY, agent=True, csat=1)
    contact(con, "C2", AS_OF - 5 * DAY, agent=True)
    refresh(con, settings)
    assert car(con, "avg_csat_90d") == {"C1": (pytest.approx(10 / 3),), "C2": (None,)}


def test_digital_offer_accept_rate_and_null_without_offers(con, settings):
    """C1 window IVR-stage rows (offered, accepted): (T, T), (T, F), (T, F), (F, F), (F, T) and a chat (null, null)
    → 1 accepted offer / 3 offered = 0.3333. The (F, T) row (acceptance without an offer, inconsistent attributes)
    is not counted, as in kpis.md `digital_accepted` ("of those [offered]"), so the rate stays in [0, 1].
    C2: rows never offered (F, F) and (null, null) → null, not 0."""
    for offered, accepted in ((True, True), (True, False), (True, False), (False, False), (False, True)):
        contact(con, "C1", AS_OF - 5 * DAY, "IVR", offered=offered, accepted=accepted)
    contact(con, "C1", AS_OF - 5 * DAY, "CHAT")
    contact(con, "C2", AS_OF - 5 * DAY, "IVR", offered=False, accepted=False)
    contact(con, "C2", AS_OF - 5 * DAY, "CHAT")
    refresh(con, settings)
    assert car(con, "digital_offer_accept_rate") == {"C1": (pytest.approx(1 / 3),), "C2": (None,)}


def test_repeat_contact_rate_follow_up_within_fcr_days_vs_beyond(con, settings):
    """C1 customer-started sessions in the window:
    S1 = bot row (T1, T1+5 min) + VOICE row (T1+5 min, T1+10 min); the session ends at its latest end, T1+10 min.
    S2 starts exactly S1 end + 7 d → inside (end, end + 7 d]: S1 repeats.
    S3 starts S2 end + 7 d + 1 s → beyond: S2 does not repeat.
    S4 is started by an outbound call 1 d after S3 ends → not customer-started: S3 does not repeat, and S4 is not
    in the denominator. S0 (before the window, repeated by nothing in window) is not in it either.
    → 1 / 3 = 0.3333. C2 only has an outbound-started session → null."""
    t1 = AS_OF - 60 * DAY
    contact(con, "C1", AS_OF - 95 * DAY, "CHAT")
    contact(con, "C1", t1, "WEBCHAT_BOT", usid="S1", step=1, end=t1 + 5 * MIN)
    contact(con, "C1", t1 + 5 * MIN, "VOICE", usid="S1", step=2, end=t1 + 10 * MIN)
    s2 = t1 + 10 * MIN + 7 * DAY
    contact(con, "C1", s2, "CHAT", usid="S2", end=s2 + 10 * MIN)
    s3 = s2 + 10 * MIN + 7 * DAY + timedelta(seconds=1)
    contact(con, "C1", s3, "CHAT", usid="S3", end=s3 + 10 * MIN)
    s4 = s3 + 10 * MIN + DAY
    contact(con, "C1", s4, "VOICE", usid="S4", step=1, outbound=1)
    contact(con, "C1", s4 + 6 * MIN, "VOICE", usid="S4", step=2)  # the customer stays on an inbound leg
    contact(con, "C2", AS_OF - 5 * DAY, "VOICE", outbound=1)
    refresh(con, settings)
    assert car(con, "repeat_contact_rate", "sessions_90d") == {"C1": (pytest.approx(1 / 3), 4), "C2": (None, 1)}


def test_last_contact_at_reads_all_history(con, settings):
    """C1 (in CRM) was contacted 200 d and 120 d ago, nothing in the window → last_contact_at = as_of − 120 d,
    contacts_90d 0. C7, never in the CRM, was seen once 300 d ago → still a CAR row, last contact −300 d."""
    crm(con, "C1")
    contact(con, "C1", AS_OF - 200 * DAY)
    contact(con, "C1", AS_OF - 120 * DAY)
    contact(con, "C7", AS_OF - 300 * DAY)
    refresh(con, settings)
    assert car(con, "last_contact_at", "contacts_90d", "in_crm") == {
        "C1": (AS_OF - 120 * DAY, 0, True), "C7": (AS_OF - 300 * DAY, 0, False)}


def test_rerun_with_the_same_as_of_gives_identical_rows(con, settings):
    """A mixed data set; refresh, refresh again (same as_of, given tz-aware this time), refresh at another as_of and
    back: the rows are identical each time as_of is the same, and the other as_of really differs."""
    crm(con, "C1", age=33)
    for i in range(30):
        contact(con, f"C{i % 4}", AS_OF - i * 5 * DAY, ("VOICE", "CHAT", "IVR")[i % 3], agent=i % 2 == 0,
                resolved=(None, True, False)[i % 3], csat=(i % 5) + 1, offered=i % 2 == 0,
                accepted=i % 4 == 0, abandoned=i % 2, device=("MOBILE", "TABLET", None)[i % 3])
    dump = lambda: con.execute('SELECT * FROM car ORDER BY "Cust_ID"').fetchall()  # noqa: E731
    refresh(con, settings)
    first = dump()
    refresh(con, settings, AS_OF.replace(tzinfo=timezone.utc))
    assert dump() == first
    refresh(con, settings, AS_OF - 30 * DAY)
    assert dump() != first
    refresh(con, settings)
    assert dump() == first


def test_export_columns_leave_out_the_sensitive_four_unless_opted_in():
    """Without opt-in: all 38 columns but Age, Ethnicity, MaritalStatus, GrossAnnualIncome → 34, order kept."""
    without = car_export_columns(False)
    assert set(SENSITIVE_COLUMNS) == {"Age", "Ethnicity", "MaritalStatus", "GrossAnnualIncome"}
    assert not set(without) & set(SENSITIVE_COLUMNS)
    assert without == [c for c in CAR_COLUMNS if c not in SENSITIVE_COLUMNS] and len(without) == 34
    assert car_export_columns(True) == list(CAR_COLUMNS)
