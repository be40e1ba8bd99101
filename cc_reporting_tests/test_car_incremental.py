"""Scoped CAR refresh (car-jar.md §8, "a refresh is a deterministic function of the latest CRM extract, jar and
as_of"): between rebuilds only the customers whose row can change are recomputed, and the table always equals a
rebuild from the same inputs. The JAR is built by the real refresh from staged records."""
import random
from datetime import timedelta
from types import SimpleNamespace

import duckdb
import pytest

from cc_reporting.models.analytics.car import refresh_car
from cc_reporting.models.analytics.jar import refresh_jar, refresh_jar_pending
from cc_reporting.staging.crm import ensure_crm_table

from .jar_journeys import CUSTOMER_PHONES, at, ensure, leg, random_journeys, stage, stage_mixed


def car_settings(window_days=90):
    return SimpleNamespace(fcr_days=7, sla_seconds=20, short_abandon_seconds=5, car_window_days=window_days,
                           jar_lookback_days=7)


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    ensure(c)
    ensure_crm_table(c)
    yield c
    c.close()


def crm(con, customers: dict, extract="crm/customers-2026-01-05.csv"):
    con.execute("DELETE FROM stg_crm_customer")
    for cust, phone in customers.items():
        con.execute("""INSERT INTO stg_crm_customer ("Cust_ID", phone_hash, extract_date, source_key, ingested_at)
                       VALUES (?, hash_phone(?), DATE '2026-01-05', ?, now())""", [cust, phone, extract])


def car_table(con) -> list:
    return con.execute('SELECT * FROM car ORDER BY "Cust_ID"').fetchall()


def refresh_both(con, settings, as_of) -> dict:
    refresh_jar_pending(con, settings, as_of)
    con.execute("BEGIN TRANSACTION")
    meta = refresh_car(con, settings, as_of)
    con.execute("COMMIT")
    return meta


def rebuilt(con, settings, as_of) -> list:
    """The table a rebuild gives from the same jar, CRM and as_of (rolled back: `con` is left as it was)."""
    con.execute("BEGIN TRANSACTION")
    try:
        refresh_car(con, settings, as_of, full=True)
        return car_table(con)
    finally:
        con.execute("ROLLBACK")


def test_scoped_refresh_recomputes_only_customers_whose_rows_changed_or_crossed_the_window_edge(con):
    """W = 4 days. C1 calls on day 0, C2 on day 5 (09:00), C4 is in the CRM only. As of day 6 the first refresh
    rebuilds. A new call of C3 on day 6 recomputes C3 alone. Moving as_of to day 9 12:00 without new data moves
    the window to (day 5 12:00, day 9 12:00]: C2's call leaves it, so C2 alone is recomputed (contacts 1 → 0)."""
    s = car_settings(window_days=4)
    crm(con, {c: CUSTOMER_PHONES[c] for c in ("C1", "C2", "C3", "C4")})
    stage(con, leg("a", "09:00:00", 0, phone=CUSTOMER_PHONES["C1"]),
          leg("b", "09:00:00", 5, phone=CUSTOMER_PHONES["C2"]))
    first = refresh_both(con, s, at("12:00:00", 6))
    assert (first["mode"], first["rebuild_reason"]) == ("rebuild", "first refresh")

    stage(con, leg("c", "10:00:00", 6, phone=CUSTOMER_PHONES["C3"]), batch="b2")
    second = refresh_both(con, s, at("13:00:00", 6))
    assert (second["mode"], second["customers_recomputed"]) == ("scoped", 1)
    assert car_table(con) == rebuilt(con, s, at("13:00:00", 6))
    contacts = dict(con.execute('SELECT "Cust_ID", contacts_90d FROM car').fetchall())
    assert contacts == {"C1": 0, "C2": 1, "C3": 1, "C4": 0}

    third = refresh_both(con, s, at("12:00:00", 9))
    assert (third["mode"], third["customers_recomputed"]) == ("scoped", 1)
    assert dict(con.execute('SELECT "Cust_ID", contacts_90d FROM car').fetchall())["C2"] == 0
    assert car_table(con) == rebuilt(con, s, at("12:00:00", 9))


def test_new_crm_extract_or_as_of_moving_back_rebuilds(con):
    s = car_settings()
    crm(con, {"C1": CUSTOMER_PHONES["C1"]})
    stage(con, leg("a", "09:00:00", 0, phone=CUSTOMER_PHONES["C1"]))
    refresh_both(con, s, at("12:00:00", 1))
    crm(con, {"C1": CUSTOMER_PHONES["C1"], "C2": CUSTOMER_PHONES["C2"]}, extract="crm/customers-2026-01-06.csv")
    assert refresh_both(con, s, at("12:00:00", 2))["rebuild_reason"] == "new CRM extract"
    assert refresh_both(con, s, at("12:00:00", 1))["rebuild_reason"] == "as_of moved back"
    assert refresh_both(con, s, at("13:00:00", 1))["mode"] == "scoped"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_journeys_scoped_refresh_equals_rebuild(con, seed):
    """Random journeys over 13 days land in 4 shuffled batches while as_of slides 3 days a batch through a
    4-day window (rows enter and leave it); a CRM extract changes half-way. After every refresh the CAR equals
    a rebuild of the same jar, CRM and as_of."""
    rng = random.Random(seed)
    items = random_journeys(rng)
    rng.shuffle(items)
    s = car_settings(window_days=4)
    crm(con, {c: p for c, p in CUSTOMER_PHONES.items() if c != "C3"})
    refresh_jar(con, s, at("00:00:00"), None)
    modes = []
    for n in range(4):
        stage_mixed(con, items[n::4], batch=f"b{n}")
        if n == 2:
            crm(con, {**CUSTOMER_PHONES, "C1": "+12065550111"}, extract="crm/customers-2026-01-08.csv")
        as_of = at("00:00:00", 3 * n + 2) + timedelta(hours=rng.randint(0, 23))
        modes.append(refresh_both(con, s, as_of)["mode"])
        assert car_table(con) == rebuilt(con, s, as_of), f"batch {n}"
    assert modes == ["rebuild", "scoped", "rebuild", "scoped"]  # first refresh, ..., new CRM extract, ...
