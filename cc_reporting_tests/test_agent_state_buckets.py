"""The bucket table of connect-formats.md ("Deriving agent time from snapshots"): one definition, two engines."""
import itertools

import pytest

from cc_reporting.realtime.agent_event_record import bucket_of, bucket_sql

STATUS_TYPES = (None, "ROUTABLE", "CUSTOM", "OFFLINE")
CONTACT_STATES = ("CONNECTED", "CONNECTED_ONHOLD", "ENDED", "CONNECTING", "INCOMING", "PENDING", "MISSED",
                  "REJECTED", "ERROR")


@pytest.mark.parametrize("status, states, logged_out, expected", [
    ("OFFLINE", ["CONNECTED"], False, "offline"),           # row 1 beats contacts
    ("ROUTABLE", [], True, "offline"),                       # row 1: between LOGOUT and LOGIN
    ("CUSTOM", ["CONNECTED"], False, "non_productive"),      # row 2 whatever the contacts
    ("ROUTABLE", ["ENDED", "CONNECTED_ONHOLD"], False, "on_contact"),  # row 3 beats row 4
    ("ROUTABLE", ["CONNECTING", "ENDED"], False, "acw"),     # row 4 beats row 5
    ("ROUTABLE", ["PENDING"], False, "connecting"),          # row 5
    ("ROUTABLE", ["MISSED", "ERROR"], False, "idle"),        # row 6
    ("ROUTABLE", [], False, "idle"),                         # row 6
    (None, [], False, "unknown"),
])
def test_bucket_table_first_matching_row_wins(status, states, logged_out, expected):
    assert bucket_of(status, states, logged_out) == expected


def test_sql_form_of_the_bucket_table_agrees_with_python_on_every_combination(con):
    """Every status type × every subset of up to two contact states × logged out or not."""
    cases = [(st, list(states), out) for st in STATUS_TYPES
             for n in (0, 1, 2) for states in itertools.combinations(CONTACT_STATES, n) for out in (False, True)]
    con.execute("CREATE TABLE cases (i INTEGER, status_type VARCHAR, contact_states VARCHAR[], logged_out BOOLEAN)")
    con.executemany("INSERT INTO cases VALUES (?, ?, ?, ?)", [(i, *c) for i, c in enumerate(cases)])
    sql = bucket_sql("status_type", "contact_states", "logged_out")
    got = dict(con.execute(f"SELECT i, {sql} FROM cases").fetchall())
    assert len(cases) > 300
    assert {i: got[i] for i in range(len(cases))} == {i: bucket_of(*c) for i, c in enumerate(cases)}
