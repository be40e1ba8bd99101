"""Hand-made `jar` rows for the KPI tests: the columns the marts read, typed as car-jar.md says.

The flags are derived here exactly as car-jar.md section 5 defines them, so each test states outcomes (answered,
abandoned, left by transfer/callback) and times, never flags.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from cc_reporting.settings import load_settings

DAY = date(2026, 1, 5)
SLA, SHORT = 20, 5

JAR_COLUMNS = {
    "ChannelType": "VARCHAR", "UniversalSessionId": "VARCHAR", "SessionId": "VARCHAR", "CUST_ID": "VARCHAR",
    "SessionStartTime": "TIMESTAMP", "InteractionStartTime": "TIMESTAMP", "HoldTime": "INTEGER",
    "AgentSkillId": "VARCHAR", "Intent": "VARCHAR", "JourneyStep": "INTEGER", "IsResolved": "BOOLEAN",
    "IsResolvedFinal": "BOOLEAN", "IsTransferred": "BOOLEAN", "IsDigitalOffered": "BOOLEAN",
    "IsDigitalAccepted": "BOOLEAN", "CSATScore": "INTEGER", "IsCallBack": "BOOLEAN",
    "InteractionDuration": "INTEGER", "QueueTime": "INTEGER", "enqueued_at": "TIMESTAMP", "acw_duration": "INTEGER",
    "queue_name": "VARCHAR", "initiation_method": "VARCHAR", "previous_contact_id": "VARCHAR",
    "journey_path": "VARCHAR", "is_queued": "INTEGER", "is_answered": "INTEGER", "is_abandoned": "INTEGER",
    "is_short_abandon": "INTEGER", "answered_within_sla": "INTEGER", "abandoned_within_sla": "INTEGER",
    "is_outbound": "INTEGER", "is_transfer_in": "INTEGER",
}


def settings(tz: str = "UTC", sla: int = SLA, short: int = SHORT):
    return replace(load_settings(), report_timezone=tz, sla_seconds=sla, short_abandon_seconds=short)


def at(hhmmss: str, day: date = DAY) -> datetime:
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return datetime(day.year, day.month, day.day) + timedelta(hours=h, minutes=m, seconds=s)


def row(session_id: str, channel: str = "VOICE", start: datetime | None = None, **columns) -> dict:
    """A non-queued row (IVR call, chat, external session): every flag 0."""
    r = {c: None for c in JAR_COLUMNS}
    r.update({f: 0 for f in JAR_COLUMNS if JAR_COLUMNS[f] == "INTEGER" and (f.startswith("is_") or "within" in f)})
    r.update(ChannelType=channel, SessionId=session_id, UniversalSessionId=session_id, JourneyStep=1,
             SessionStartTime=start or at("09:00:00"), journey_path=channel, IsCallBack=False, IsTransferred=False)
    r.update(columns)
    return r


def queued_leg(session_id: str, enqueue: str | datetime = "09:05:00", queue: str = "Q", outcome: str = "answered",
               queue_time: int | None = 10, talk: int | None = 100, hold: int | None = 0, acw: int | None = 20,
               method: str = "INBOUND", transferred: bool = False, sla: int = SLA, short: int = SHORT,
               **columns) -> dict:
    """A queued VOICE leg. outcome: 'answered', 'abandoned' or 'left' (callback request or transfer from queue:
    NextContactId set, so `IsTransferred` is true and it is not an abandon)."""
    enq = at(enqueue) if isinstance(enqueue, str) else enqueue
    answered, abandoned = outcome == "answered", outcome == "abandoned"
    qt = queue_time
    r = row(session_id, "VOICE", enq - timedelta(seconds=30), AgentSkillId=queue, queue_name=f"{queue} name",
            enqueued_at=enq, QueueTime=qt, initiation_method=method, IsCallBack=method == "CALLBACK",
            IsTransferred=transferred or outcome == "left",
            IsDigitalOffered=False if method == "INBOUND" else None,
            IsDigitalAccepted=False if method == "INBOUND" else None,
            is_queued=1, is_answered=int(answered), is_abandoned=int(abandoned),
            is_short_abandon=int(abandoned and qt is not None and qt < short),
            answered_within_sla=int(answered and qt is not None and qt <= sla),
            abandoned_within_sla=int(abandoned and qt is not None and short <= qt <= sla),
            is_outbound=int(method == "OUTBOUND"), is_transfer_in=int(method in ("TRANSFER", "QUEUE_TRANSFER")))
    if answered:
        r.update(InteractionStartTime=enq + timedelta(seconds=qt or 0), InteractionDuration=talk, HoldTime=hold,
                 acw_duration=acw)
    r.update(columns)
    return r


def create_jar(con, rows: list[dict]) -> None:
    cols = ", ".join(f'"{c}" {t}' for c, t in JAR_COLUMNS.items())
    con.execute(f"CREATE OR REPLACE TABLE jar ({cols})")
    if rows:
        names = list(JAR_COLUMNS)
        marks = ", ".join("?" for _ in names)
        con.executemany(f"INSERT INTO jar VALUES ({marks})", [[r[c] for c in names] for r in rows])


def create_agent_state(con, rows: list[tuple]) -> None:
    """(interval_start, queue_id, on_contact_s, idle_s) rows, e.g. one per agent serving the queue."""
    con.execute("CREATE OR REPLACE TABLE agent_state_queue_intervals (interval_start TIMESTAMP, queue_id VARCHAR,"
                " on_contact_s BIGINT, idle_s BIGINT)")
    if rows:
        con.executemany("INSERT INTO agent_state_queue_intervals VALUES (?, ?, ?, ?)", rows)


def fetch(con, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def worked_example() -> list[dict]:
    """kpis.md section 6: queue Q, ten legs enqueued 09:00–09:15 UTC on DAY, SLA 20, SHORT 5.

    Each leg's session starts 30 s before its enqueue, so leg 1 (enqueued 09:00:10) starts in the 08:45 interval:
    only `enqueued_at` attributes it. IsResolved is what the FCR rule would give; legs 4 and 6 carry true to show
    that FCR eligibility (agent reached, not transferred) excludes them. Nothing has aged 7 days: all provisional.
    """
    fcr = dict(IsResolvedFinal=False, CUST_ID="C1")
    legs = [
        queued_leg("1", "09:00:10", queue_time=8, talk=200, hold=0, acw=30, CSATScore=5, IsResolved=True, **fcr),
        queued_leg("2", "09:01:10", queue_time=15, talk=300, hold=60, acw=40, CSATScore=4, IsResolved=True, **fcr),
        queued_leg("3", "09:02:10", queue_time=25, talk=100, hold=0, acw=20, CSATScore=2, IsResolved=False, **fcr),
        queued_leg("4", "09:03:10", queue_time=40, talk=250, hold=30, acw=50, transferred=True, IsResolved=True,
                   **fcr),
        queued_leg("5", "09:04:10", queue_time=10, talk=150, hold=0, acw=10, method="TRANSFER", IsResolved=True,
                   **fcr),
        queued_leg("6", "09:05:10", outcome="abandoned", queue_time=3, IsResolved=True, **fcr),
        queued_leg("7", "09:06:10", outcome="abandoned", queue_time=12),
        queued_leg("8", "09:07:10", outcome="abandoned", queue_time=60),
        queued_leg("9", "09:08:10", outcome="left", queue_time=30),
        # csat "9" is invalid, so the JAR holds null.
        queued_leg("10", "09:09:10", queue_time=5, talk=200, hold=10, acw=0, CSATScore=None, IsResolved=True, **fcr),
    ]
    callback = queued_leg("cb9", "11:00:00", method="CALLBACK", previous_contact_id="9")
    repeat_of_3 = queued_leg("3b", at("10:00:00", DAY + timedelta(days=2)), CUST_ID="C1")
    return legs + [callback, repeat_of_3]
