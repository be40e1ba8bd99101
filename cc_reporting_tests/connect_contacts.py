"""Hand-built contact records and agent events for the Connect-metric tests (2026-01-05, UTC).

Queue Q1, agent A1 (routing profile R1, hierarchy North / Team 1). SLA threshold 20 s.

| contact | what | queued | in queue | agent connected | disconnected |
|---|---|---|---|---|---|
| sl | answered exactly at the threshold | 09:00:00 | 20 | 09:00:20 | 09:02:00 |
| xfer | answered at 21 s, two holds, agent transfer out | 09:01:00 | 21 | 09:01:21 | 09:06:00 |
| abandon | hung up in queue | 09:03:00 | 15 | – | 09:03:15 |
| cb_request | asks for a callback: leaves the queue for the callback leg | 09:04:00 | 30 | – | 09:04:30 |
| cb | the callback leg (InitiationMethod CALLBACK), answered | 09:05:00 | 300 | 09:10:00 | 09:11:00 |
| cb_unanswered | a callback leg that never reached an agent | 09:07:00 | 300 | – | 09:12:00 |
| hold_end | the customer hung up while on hold (agent events) | 09:06:00 | 5 | 09:06:05 | 09:07:15 |
| across | queued in 09:00, answered and ended in 09:15 | 09:14:50 | 20 | 09:15:10 | 09:17:00 |
| late | queued and answered in 09:15, ended in 09:30 | 09:29:30 | 20 | 09:29:50 | 09:31:00 |
"""
from __future__ import annotations

from datetime import datetime

from cc_reporting.realtime.state_log import write_state_log
from cc_reporting.staging.ctr_table import STG_CTR_DDL

DAY = "2026-01-05"


def at(hms: str, day: str = DAY) -> datetime:
    return datetime.fromisoformat(f"{day}T{hms}+00:00")


def naive(hms: str, day: str = DAY) -> datetime:
    return at(hms, day).replace(tzinfo=None)


AGENT = dict(agent_id="A1", agent_username="ann", routing_profile_id="R1", routing_profile_name="Sales profile",
             hierarchy_level1="North", hierarchy_level2="Team 1")


def contact(contact_id, enqueued, queue_s, connected, disconnected, talk=0, hold=0, holds=0, acw=0,
            method="INBOUND", next_contact=None, reason=None, day=DAY):
    row = dict(contact_id=contact_id, initiation_method=method, channel="VOICE", queue_id="Q1", queue_name="Queue 1",
               enqueue_ts=at(enqueued, day), queue_duration=queue_s, dequeue_ts=None,
               agent_connected_ts=at(connected, day) if connected else None, disconnect_ts=at(disconnected, day),
               next_contact_id=next_contact, disconnect_reason=reason, instance_id="I1")
    if connected:
        row.update(AGENT, agent_interaction_duration=talk, customer_hold_duration=hold, number_of_holds=holds,
                   acw_duration=acw)
    return row


def contacts(day: str = DAY) -> list[dict]:
    return [
        contact("sl", "09:00:00", 20, "09:00:20", "09:02:00", talk=100, acw=10, day=day),
        contact("xfer", "09:01:00", 21, "09:01:21", "09:06:00", talk=200, hold=60, holds=2, acw=30,
                next_contact="xfer2", day=day),
        contact("abandon", "09:03:00", 15, None, "09:03:15", day=day),
        contact("cb_request", "09:04:00", 30, None, "09:04:30", next_contact="cb", day=day),
        contact("cb", "09:05:00", 300, "09:10:00", "09:11:00", talk=60, method="CALLBACK", day=day),
        contact("cb_unanswered", "09:07:00", 300, None, "09:12:00", method="CALLBACK", day=day),
        contact("hold_end", "09:06:00", 5, "09:06:05", "09:07:15", talk=30, hold=40, holds=1,
                reason="CUSTOMER_DISCONNECT", day=day),
        contact("across", "09:14:50", 20, "09:15:10", "09:17:00", talk=100, acw=20, day=day),
        contact("late", "09:29:30", 20, "09:29:50", "09:31:00", talk=50, acw=20, day=day),
    ]


def create_stg_ctr(con, day: str = DAY) -> None:
    con.execute(STG_CTR_DDL)
    for row in contacts(day):
        row = {**row, "last_update_ts": row["disconnect_ts"], "record_hash": row["contact_id"],
               "source_key": "hand-built", "ingested_at": at("12:00:00", day)}
        cols = ", ".join(row)
        con.execute(f"INSERT INTO stg_ctr ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def _event(n: int, ts: str, states: list[str], ids: list[str], day: str) -> dict:
    return dict(event_id=f"e{n}", event_type="STATE_CHANGE", event_ts=f"{day}T{ts}Z", agent_arn="arn:agent/A1",
                agent_id="A1", username="ann", status_name="Available", status_type="ROUTABLE",
                contact_states=states, contact_ids=ids, routing_profile_id="R1", inbound_queue_ids=["Q1"],
                shard_id="s0", sequence_number=f"{n:09d}")


# The xfer contact goes on hold and back before it ends; hold_end ends while on hold.
AGENT_TIMELINE = [("09:01:21", ["CONNECTED"], ["xfer"]), ("09:02:00", ["CONNECTED_ONHOLD"], ["xfer"]),
                  ("09:03:00", ["CONNECTED"], ["xfer"]), ("09:06:00", ["ENDED"], ["xfer"]),
                  ("09:06:05", ["CONNECTED"], ["hold_end"]), ("09:06:35", ["CONNECTED_ONHOLD"], ["hold_end"]),
                  ("09:07:15", ["ENDED"], ["hold_end"]), ("09:07:20", [], [])]


def write_agent_events(rta_dir, day: str = DAY) -> None:
    events = [_event(n, ts, states, ids, day) for n, (ts, states, ids) in enumerate(AGENT_TIMELINE, start=1)]
    write_state_log(events, rta_dir, name="hand-built")


def create_agent_state(con, rows) -> None:
    """agent_state_intervals rows: (interval hms, agent, profile, online, idle, on_contact, non_productive)."""
    from cc_reporting.realtime.intervals import ensure_tables

    ensure_tables(con)
    for hms, agent, profile, online, idle, on_contact, non_productive in rows:
        con.execute("""INSERT INTO agent_state_intervals (interval_start, agent_id, username, routing_profile_id,
                           online_s, idle_s, on_contact_s, non_productive_s)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    [naive(hms), agent, agent.lower(), profile, online, idle, on_contact, non_productive])
