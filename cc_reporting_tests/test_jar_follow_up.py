"""The follow-up rule (FCR, repeat_contact_rate) answered by an ASOF join in time linear in a customer's sessions
must equal its definition, the pairwise join of every target with every session of its customer."""
import random
from datetime import datetime, timedelta

import duckdb
import pytest

from cc_reporting.models.analytics.follow_up import followed_sql

PAIRWISE = """
SELECT t.id, count(s.usid) > 0 AS followed
FROM targets t LEFT JOIN sessions s
  ON s.cust = t.cust AND s.usid <> t.usid AND s.start > t.ended AND s.start <= t.ended + INTERVAL (3) DAY
GROUP BY t.id"""


@pytest.mark.parametrize("seed", range(6))
def test_the_asof_follow_up_equals_the_pairwise_definition_with_ties_nulls_and_own_sessions(seed):
    """Random customers' sessions on a coarse clock (many equal starts), a target's own session starting after
    its end, null ends, starts, customers and session ids."""
    rng = random.Random(seed)
    base = datetime(2026, 1, 1)
    moment = lambda: None if rng.random() < 0.05 else base + timedelta(hours=12 * rng.randrange(40))  # noqa: E731
    pick = lambda values: None if rng.random() < 0.03 else rng.choice(values)  # noqa: E731
    custs, usids = [f"c{i}" for i in range(6)], [f"u{i}" for i in range(25)]
    sessions = [(pick(custs), pick(usids), moment()) for _ in range(120)]
    targets = [(f"t{i}", pick(custs), pick(usids), moment()) for i in range(300)]
    con = duckdb.connect()
    con.execute("CREATE TABLE sessions (cust VARCHAR, usid VARCHAR, start TIMESTAMP)")
    con.execute("CREATE TABLE targets (id VARCHAR, cust VARCHAR, usid VARCHAR, ended TIMESTAMP)")
    con.executemany("INSERT INTO sessions VALUES (?, ?, ?)", sessions)
    con.executemany("INSERT INTO targets VALUES (?, ?, ?, ?)", targets)
    fast = con.execute(f"""SELECT id, followed FROM ({followed_sql('SELECT * FROM targets', 'SELECT * FROM sessions',
                                                                   'INTERVAL (3) DAY')}) ORDER BY id""").fetchall()
    assert fast == con.execute(f"SELECT * FROM ({PAIRWISE}) ORDER BY id").fetchall()
    assert {followed for _, followed in fast} == {True, False}
