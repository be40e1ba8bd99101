"""The queue-name rule, "latest, not max": a queue's name for an interval (or day) is the name on its latest named leg
by the time that attributes the leg, ties broken by the leg's id. One contact carrying another name (an old name,
a renamed queue) must not rename the queue because its name sorts last. Every place that names a queue uses
`cc_reporting.models.teleopti.rules.latest_queue_name`: Teleopti queue and agent-queue statistics, kpi_interval,
kpi_daily and the name of a KPI row that has agent-state time but no legs."""
from datetime import date

import duckdb

from cc_reporting.models.kpi import marts
from cc_reporting.models.teleopti import interval_stats

from . import kpi_rows
from .teleopti_legs import at, leg, stage


def teleopti_names(con):
    interval_stats.build_queue_stats(con, at("09:00:00"), at("09:15:00"), 20, 5, "UTC")
    interval_stats.build_agent_queue_stats(con, at("09:00:00"), at("09:15:00"), "UTC")
    return (con.execute("SELECT queue, queue_name FROM teleopti_queue_stats").fetchall(),
            con.execute("SELECT queue, queue_name FROM teleopti_agent_queue_stats").fetchall())


def test_teleopti_queue_name_is_the_latest_legs_name_not_the_max(con):
    """q1 in 09:00: 'Zeta' enqueued 09:01, 'Alpha' (the queue's current name) enqueued 09:07, a leg without a name
    at 09:10 → 'Alpha' (the latest named leg) in both files; max would say 'Zeta'."""
    stage(con, leg("c1", enqueue="09:01:00", queue="q1", queue_name="Zeta"),
          leg("c2", enqueue="09:07:00", queue="q1", queue_name="Alpha"),
          leg("c3", enqueue="09:10:00", queue="q1", queue_name=None))
    assert teleopti_names(con) == ([("q1", "Alpha")], [("q1", "Alpha")])


def test_teleopti_queue_name_tie_is_broken_by_contact_id(con):
    """Two legs enqueued at the same second: the one with the larger contact id ('c-b', 'Alpha') names the queue,
    whatever order they were staged in."""
    stage(con, leg("c-b", enqueue="09:05:00", queue="q1", queue_name="Alpha"),
          leg("c-a", enqueue="09:05:00", queue="q1", queue_name="Zeta"))
    assert teleopti_names(con) == ([("q1", "Alpha")], [("q1", "Alpha")])


def test_kpi_queue_name_is_the_latest_legs_name_not_the_max():
    """jar: queue Q, 'Zeta' enqueued 09:01, 'Alpha' 09:07; agent-state time for Q at 10:00 without legs.
    kpi_interval 09:00 and the 10:00 agent-state row, and kpi_daily's queue row, are all named 'Alpha'."""
    con = duckdb.connect()
    kpi_rows.create_jar(con, [kpi_rows.queued_leg("1", "09:01:00", queue_name="Zeta"),
                              kpi_rows.queued_leg("2", "09:07:00", queue_name="Alpha")])
    kpi_rows.create_agent_state(con, [(kpi_rows.at("10:00:00"), "Q", 100, 800)])
    settings = kpi_rows.settings()
    marts.build_kpi_interval(con, settings, kpi_rows.at("00:00:00"), kpi_rows.at("23:45:00"))
    marts.build_kpi_daily(con, settings, [date(2026, 1, 5)])
    assert con.execute("SELECT strftime(interval_start, '%H:%M'), queue_name FROM kpi_interval ORDER BY 1"
                       ).fetchall() == [("09:00", "Alpha"), ("10:00", "Alpha")]
    assert con.execute("SELECT queue_name FROM kpi_daily WHERE grain = 'queue'").fetchall() == [("Alpha",)]
