"""Agent time per 15-minute interval, from the agent event stream (docs/connect-inputs.md §4; docs/kpis.md §5).

Input: the temp table `agent_state_events` (see `state_log.load_state_log`). Every builder replaces the rows of a UTC
window [start, end) (15-minute aligned, naive UTC or tz-aware) inside the caller's transaction: delete the window,
insert; rerunning a window gives the same rows. Nothing here begins or commits a transaction.

Timeline rules
- An event's snapshot holds from its `event_ts` until the agent's next event (ordered by (event_ts,
  sequence_number)); the last loaded event of an agent holds until `end`.
- Bucket, first matching line of the table: 1 status type OFFLINE, or the latest LOGIN/LOGOUT event so far is a
  LOGOUT → `offline`; 2 CUSTOM → `non_productive` (whatever the contacts); 3 a contact CONNECTED / CONNECTED_ONHOLD
  → `on_contact`; 4 a contact ENDED → `acw` (on contact: ACW); 5 a contact CONNECTING / INCOMING / PENDING →
  `connecting`; 6 otherwise (no contacts, only MISSED / REJECTED / ERROR, or any other state) → `idle`
  (available-idle). A snapshot without a status (no AgentStatus) is `unknown`: counted nowhere, not covered.
- If an agent's first loaded event is a LOGIN, the agent was logged out before it: the time from `start` to that
  LOGIN is `offline` (covered). A LOGIN without snapshot (real streams send `CurrentAgentSnapshot: null`) is
  normalised to the status "Logged in" (CUSTOM → `non_productive`) until the next event; it names nobody, so its
  username / first / last name come from the agent's previous event, else its next (read up to the gap limit
  past `end`, so a run per interval and a run over the day agree).
- The gap rule (`agent_event_record.known_until_sql`, the same as the live RTA state's stale flag): a state other
  than `offline` / `unknown` holds for at most `agent_state_max_gap_seconds` (CC_AGENT_STATE_MAX_GAP_SECONDS, 900 s)
  after its event; the rest of a longer gap is `unknown` and counted in `stale_s` (not online, not covered). A gap of
  exactly the limit is bridged. Offline holds until the next event whatever the gap.
- Stretches are split at the 15-minute boundaries; seconds keep millisecond precision (DECIMAL(18,3)).

Tables (interval_start = TIMESTAMP, naive UTC)
- `agent_state_pieces`: one row per (stretch × interval): interval_start, agent_id, agent_arn, username, first_name,
  last_name, routing_profile_id, inbound_queue_ids VARCHAR[], event_id (NULL for the inferred pre-LOGIN offline
  stretch), piece_start, piece_end, bucket, seconds, stale_s.
- `agent_state_intervals`: one row per agent and interval touched by any stretch: interval_start, agent_id,
  agent_arn, username, first_name, last_name, routing_profile_id, inbound_queue_ids (latest in the interval),
  online_s, idle_s, on_contact_s (talk/hold + ACW), acw_s, connecting_s, non_productive_s, offline_s, stale_s
  (seconds past the gap limit), covered_s (seconds of known state = online_s + offline_s). Invariant:
  online_s = idle_s + on_contact_s + connecting_s + non_productive_s.
- `agent_state_queue_intervals`: one row per interval and queue served (routing profile's inbound queues at that
  moment) by at least one online agent: interval_start, queue_id, on_contact_s BIGINT, idle_s BIGINT (both summed
  over the queue's agents, then rounded), agents BIGINT (distinct agents online serving it), avg_avail_member_cnt
  DOUBLE (exact idle seconds / 900, 2 decimals), wait_dur BIGINT (= idle_s). kpi marts read the first four columns.

Views for the Teleopti feed (always current, join them in set-based SQL)
- `agent_state_teleopti_queue(interval_start, queue_id, avg_avail_member_cnt, wait_dur)`.
- `agent_state_teleopti_agent(interval_start, agent_id = username, agent_name, tot_work_dur, pause_dur, avail_dur,
  wait_dur, covered)`: tot_work_dur = round(online_s), pause_dur = round(non_productive_s), avail_dur = tot_work_dur
  − pause_dur, wait_dur = round(idle_s), covered = the events cover the whole interval (covered_s = 900).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from cc_reporting.realtime.agent_event_record import bucket_sql, known_until_sql
from cc_reporting.realtime.state_log import EVENTS_TABLE, load_state_log, utc_naive
from cc_reporting.settings import load_settings

INTERVAL = timedelta(minutes=15)
INTERVAL_S = 900
BUCKETS = ("offline", "non_productive", "on_contact", "acw", "connecting", "idle", "unknown")

PIECES_TABLE = "agent_state_pieces"
INTERVALS_TABLE = "agent_state_intervals"
QUEUE_TABLE = "agent_state_queue_intervals"
TELEOPTI_QUEUE_VIEW = "agent_state_teleopti_queue"
TELEOPTI_AGENT_VIEW = "agent_state_teleopti_agent"

_SECONDS = "DECIMAL(18,3)"
_IDENTITY = ("agent_id VARCHAR, agent_arn VARCHAR, username VARCHAR, first_name VARCHAR, last_name VARCHAR, "
             "routing_profile_id VARCHAR, inbound_queue_ids VARCHAR[]")
DDL = {
    PIECES_TABLE: f"""CREATE TABLE IF NOT EXISTS {PIECES_TABLE} (
        interval_start TIMESTAMP NOT NULL, {_IDENTITY}, event_id VARCHAR, piece_start TIMESTAMP,
        piece_end TIMESTAMP, bucket VARCHAR, seconds {_SECONDS}, stale_s {_SECONDS})""",
    INTERVALS_TABLE: f"""CREATE TABLE IF NOT EXISTS {INTERVALS_TABLE} (
        interval_start TIMESTAMP NOT NULL, {_IDENTITY}, online_s {_SECONDS}, idle_s {_SECONDS},
        on_contact_s {_SECONDS}, acw_s {_SECONDS}, connecting_s {_SECONDS}, non_productive_s {_SECONDS},
        offline_s {_SECONDS}, stale_s {_SECONDS}, covered_s {_SECONDS})""",
    QUEUE_TABLE: f"""CREATE TABLE IF NOT EXISTS {QUEUE_TABLE} (
        interval_start TIMESTAMP NOT NULL, queue_id VARCHAR, on_contact_s BIGINT, idle_s BIGINT, agents BIGINT,
        avg_avail_member_cnt DOUBLE, wait_dur BIGINT)""",
}
VIEWS = {
    TELEOPTI_QUEUE_VIEW: f"""CREATE OR REPLACE VIEW {TELEOPTI_QUEUE_VIEW} AS
        SELECT interval_start, queue_id, avg_avail_member_cnt, wait_dur FROM {QUEUE_TABLE}""",
    TELEOPTI_AGENT_VIEW: f"""CREATE OR REPLACE VIEW {TELEOPTI_AGENT_VIEW} AS
        SELECT interval_start, username AS agent_id,
               coalesce(nullif(trim(concat_ws(' ', first_name, last_name)), ''), username) AS agent_name,
               CAST(round(online_s) AS BIGINT) AS tot_work_dur, CAST(round(non_productive_s) AS BIGINT) AS pause_dur,
               CAST(round(online_s) AS BIGINT) - CAST(round(non_productive_s) AS BIGINT) AS avail_dur,
               CAST(round(idle_s) AS BIGINT) AS wait_dur, covered_s >= {INTERVAL_S} AS covered
        FROM {INTERVALS_TABLE}""",
}


def ensure_tables(con) -> None:
    """Create the agent-state tables and views when missing."""
    for ddl in DDL.values():
        con.execute(ddl)
    for ddl in VIEWS.values():
        con.execute(ddl)


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = utc_naive(start), utc_naive(end)
    for t in (start, end):
        if t.minute % 15 or t.second or t.microsecond:
            raise ValueError(f"window bounds must be 15-minute aligned: {t}")
    if end <= start:
        raise ValueError(f"empty window: [{start}, {end})")
    return start, end


def _events_relation(con) -> str:
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary",
                         [EVENTS_TABLE]).fetchone()[0]
    if not exists:
        raise RuntimeError(f"{EVENTS_TABLE} is not loaded: call load_state_log(con, rta_dir, start, end) first")
    return EVENTS_TABLE


_BUCKET_SQL = bucket_sql("status_type", "contact_states", "session_mark = 'LOGOUT'")
_NAMES = ("username", "first_name", "last_name")


def max_gap_seconds() -> int:
    """How long the last known state is carried across a gap between an agent's events (the settings)."""
    return load_settings().agent_state_max_gap_seconds


def _named(column: str) -> str:
    """A LOGIN without snapshot names nobody: take the name from the agent's previous event, else its next."""
    pick = f"CASE WHEN username IS NOT NULL THEN {column} END"
    return (f"CASE WHEN username IS NOT NULL THEN {column} ELSE coalesce("
            f"last_value({pick} IGNORE NULLS) OVER before, first_value({pick} IGNORE NULLS) OVER after) END")


def _pieces_sql(events: str, max_gap_s: int) -> str:
    """SELECT of the pieces of [start, end); parameters: end, end, start, end, start, end."""
    ident = "agent_id, agent_arn, username, first_name, last_name, routing_profile_id, inbound_queue_ids"
    names = ", ".join(f"{_named(c)} AS {c}" for c in _NAMES)
    return f"""
        WITH ev AS (
            SELECT * REPLACE ({names}),
                lead(event_ts) OVER (PARTITION BY agent_id ORDER BY event_ts, sequence_number) AS next_ts,
                row_number() OVER (PARTITION BY agent_id ORDER BY event_ts, sequence_number) AS rn,
                last_value(CASE WHEN event_type IN ('LOGIN', 'LOGOUT') THEN event_type END IGNORE NULLS) OVER (
                    PARTITION BY agent_id ORDER BY event_ts, sequence_number
                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_mark
            FROM {events}
            WINDOW before AS (PARTITION BY agent_id ORDER BY event_ts, sequence_number
                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                   after AS (PARTITION BY agent_id ORDER BY event_ts, sequence_number
                             ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)),
        st AS (
            SELECT {ident}, event_id, event_ts AS s, coalesce(next_ts, CAST(? AS TIMESTAMP)) AS e,
                   {_BUCKET_SQL} AS bucket
            FROM ev WHERE event_ts < CAST(? AS TIMESTAMP)  -- later events only lend names
            UNION ALL  -- before an agent's first loaded event, a LOGIN: logged out
            SELECT {ident}, NULL, CAST(? AS TIMESTAMP), event_ts, 'offline'
            FROM ev WHERE rn = 1 AND event_type = 'LOGIN' AND event_ts < CAST(? AS TIMESTAMP)),
        known AS (SELECT *, {known_until_sql("bucket", "s", max_gap_s)} AS known_until FROM st WHERE e > s),
        stretches AS (  -- the gap rule: the state holds up to the limit, the rest of the gap is unknown (stale)
            SELECT * EXCLUDE (known_until) REPLACE (least(e, coalesce(known_until, e)) AS e), false AS stale
            FROM known
            UNION ALL
            SELECT * EXCLUDE (known_until) REPLACE (known_until AS s, 'unknown' AS bucket), true AS stale
            FROM known WHERE known_until < e),
        b AS (SELECT range AS interval_start, range + INTERVAL 15 MINUTE AS interval_end
              FROM range(CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), INTERVAL 15 MINUTE)),
        p AS (
            SELECT b.interval_start, x.*, greatest(x.s, b.interval_start) AS ps, least(x.e, b.interval_end) AS pe
            FROM stretches x JOIN b ON x.s < b.interval_end AND x.e > b.interval_start)
        SELECT interval_start, {ident}, event_id, ps AS piece_start, pe AS piece_end, bucket,
               CAST(date_diff('millisecond', ps, pe) / 1000 AS {_SECONDS}) AS seconds,
               CAST(CASE WHEN stale THEN date_diff('millisecond', ps, pe) ELSE 0 END / 1000 AS {_SECONDS})
                   AS stale_s
        FROM p WHERE pe > ps"""


def _sum(bucket_condition: str) -> str:
    return f"coalesce(sum(seconds) FILTER (WHERE {bucket_condition}), 0)"


def _delete_window(con, table: str, start: datetime, end: datetime) -> None:
    con.execute(f"DELETE FROM {table} WHERE interval_start >= ? AND interval_start < ?", [start, end])


def _count(con, table: str, start: datetime, end: datetime) -> int:
    return con.execute(f"SELECT count(*) FROM {table} WHERE interval_start >= ? AND interval_start < ?",
                       [start, end]).fetchone()[0]


def build_agent_state_intervals(con, start: datetime, end: datetime, max_gap_s: int | None = None) -> int:
    """Replace the window's rows of `agent_state_pieces` and `agent_state_intervals` from `agent_state_events`.

    Call `load_state_log(con, rta_dir, start, end)` first (its lookback supplies each agent's state at `start`).
    `max_gap_s`: the gap rule's limit (default: the setting `agent_state_max_gap_seconds`).
    Returns the number of `agent_state_intervals` rows in the window.
    """
    start, end = _window(start, end)
    ensure_tables(con)
    events = _events_relation(con)
    _delete_window(con, PIECES_TABLE, start, end)
    max_gap_s = max_gap_seconds() if max_gap_s is None else max_gap_s
    con.execute(f"INSERT INTO {PIECES_TABLE} BY NAME {_pieces_sql(events, max_gap_s)}",
                [end, end, start, end, start, end])
    _delete_window(con, INTERVALS_TABLE, start, end)
    con.execute(f"""
        INSERT INTO {INTERVALS_TABLE} BY NAME
        SELECT interval_start, agent_id,
               arg_max(agent_arn, piece_start) AS agent_arn, arg_max(username, piece_start) AS username,
               arg_max(first_name, piece_start) AS first_name, arg_max(last_name, piece_start) AS last_name,
               arg_max(routing_profile_id, piece_start) AS routing_profile_id,
               arg_max(inbound_queue_ids, piece_start) AS inbound_queue_ids,
               {_sum("bucket NOT IN ('offline', 'unknown')")} AS online_s,
               {_sum("bucket = 'idle'")} AS idle_s,
               {_sum("bucket IN ('on_contact', 'acw')")} AS on_contact_s,
               {_sum("bucket = 'acw'")} AS acw_s,
               {_sum("bucket = 'connecting'")} AS connecting_s,
               {_sum("bucket = 'non_productive'")} AS non_productive_s,
               {_sum("bucket = 'offline'")} AS offline_s,
               coalesce(sum(stale_s), 0) AS stale_s,
               {_sum("bucket <> 'unknown'")} AS covered_s
        FROM {PIECES_TABLE} WHERE interval_start >= ? AND interval_start < ?
        GROUP BY interval_start, agent_id""", [start, end])
    return _count(con, INTERVALS_TABLE, start, end)


def agent_state_queue_intervals(con, start: datetime, end: datetime) -> int:
    """Replace the window's rows of `agent_state_queue_intervals` from `agent_state_pieces` (built first).

    An agent counts in every inbound queue of the routing profile its snapshot holds at that moment, only while
    online. on_contact_s / idle_s feed kpi occupancy; avg_avail_member_cnt / wait_dur feed Teleopti queue stats.
    Returns the number of rows in the window.
    """
    start, end = _window(start, end)
    ensure_tables(con)
    _delete_window(con, QUEUE_TABLE, start, end)
    con.execute(f"""
        INSERT INTO {QUEUE_TABLE} BY NAME
        WITH q AS (
            SELECT interval_start, agent_id, bucket, seconds,
                   unnest(list_distinct(inbound_queue_ids)) AS queue_id
            FROM {PIECES_TABLE}
            WHERE interval_start >= ? AND interval_start < ? AND bucket NOT IN ('offline', 'unknown'))
        SELECT interval_start, queue_id,
               CAST(round({_sum("bucket IN ('on_contact', 'acw')")}) AS BIGINT) AS on_contact_s,
               CAST(round({_sum("bucket = 'idle'")}) AS BIGINT) AS idle_s,
               count(DISTINCT agent_id) AS agents,
               round(CAST({_sum("bucket = 'idle'")} AS DOUBLE) / {INTERVAL_S}, 2) AS avg_avail_member_cnt,
               CAST(round({_sum("bucket = 'idle'")}) AS BIGINT) AS wait_dur
        FROM q WHERE queue_id IS NOT NULL GROUP BY interval_start, queue_id""", [start, end])
    return _count(con, QUEUE_TABLE, start, end)


def _rows(con, sql: str, params: list) -> list[dict]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def teleopti_queue_availability(con, start: datetime, end: datetime) -> list[dict]:
    """Per interval and queue: {interval_start, queue_id, avg_avail_member_cnt, wait_dur}, sorted.

    From `agent_state_queue_intervals` (build it first). A queue missing here has no agent-state data: 0 in the feed.
    """
    start, end = _window(start, end)
    return _rows(con, f"SELECT * FROM {TELEOPTI_QUEUE_VIEW} WHERE interval_start >= ? AND interval_start < ? "
                      "ORDER BY interval_start, queue_id", [start, end])


def teleopti_agent_durations(con, start: datetime, end: datetime) -> list[dict]:
    """Per agent (username) and 15-minute interval with online time: {interval_start, agent_id, agent_name,
    tot_work_dur, pause_dur, avail_dur, wait_dur, covered}, sorted. Use a row instead of the split report only
    where `covered` is true."""
    start, end = _window(start, end)
    return _rows(con, f"SELECT * FROM {TELEOPTI_AGENT_VIEW} WHERE interval_start >= ? AND interval_start < ? "
                      "AND tot_work_dur > 0 ORDER BY interval_start, agent_id", [start, end])


def rebuild_agent_state(con, rta_dir: str | Path, start: datetime, end: datetime,
                        lookback: timedelta | None = None, max_gap_s: int | None = None) -> dict:
    """Load the log and replace the window of all three tables (the whole job of the asset); returns counts.

    The lookback (default: 15 minutes, or the gap limit when longer) supplies each agent's state at `start`; events
    up to the gap limit after `end` are read too, only to name an agent whose LOGIN carried no snapshot, so one run
    over a day and one run per interval give the same rows.
    """
    max_gap_s = max_gap_seconds() if max_gap_s is None else max_gap_s
    reach = timedelta(seconds=max_gap_s)
    lookback = max(timedelta(minutes=15), reach) if lookback is None else lookback
    load_state_log(con, rta_dir, start, end, lookback, lookahead=reach)
    events = con.execute(f"SELECT count(*) FROM {EVENTS_TABLE} WHERE event_ts < ?", [utc_naive(end)]).fetchone()[0]
    intervals = build_agent_state_intervals(con, start, end, max_gap_s)
    queues = agent_state_queue_intervals(con, start, end)
    return {"events": events, "agent_intervals": intervals, "queue_intervals": queues}
