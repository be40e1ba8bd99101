"""Scoped CAR refresh: a customer whose own rows did not change is still recomputed when a universal session it
shares crossed a window edge (found in the same scan as the known customers' rows, its own rows in a second)."""
from .jar_journeys import at, leg, stage
from .test_car_incremental import car_settings, car_table, con, rebuilt, refresh_both  # noqa: F401 (fixture)


def test_a_customer_reached_only_through_a_session_that_left_the_window_is_recomputed(con):  # noqa: F811
    """W = 4 days. Universal session us-X: x1 of C1 (day 2 09:00), x2 of C2 (day 2 10:00). As of day 5 12:00 both are
    in the window and us-X is a window session of both (repeat rate 0.0). As of day 6 09:30 x1 leaves the window:
    us-X now starts before it, so C2's rate becomes null although none of C2's rows moved."""
    s = car_settings(window_days=4)
    stage(con, leg("x1", "09:00:00", 2, attributes={"universalSessionId": "us-X", "customerId": "C1"}),
          leg("x2", "10:00:00", 2, attributes={"universalSessionId": "us-X", "customerId": "C2"}))
    refresh_both(con, s, at("12:00:00", 5))
    rates = dict(con.execute('SELECT "Cust_ID", repeat_contact_rate FROM car').fetchall())
    assert rates == {"C1": 0.0, "C2": 0.0}
    meta = refresh_both(con, s, at("09:30:00", 6))
    assert (meta["mode"], meta["customers_recomputed"]) == ("scoped", 2)
    assert dict(con.execute('SELECT "Cust_ID", repeat_contact_rate FROM car').fetchall()) == {"C1": None, "C2": None}
    assert car_table(con) == rebuilt(con, s, at("09:30:00", 6))
