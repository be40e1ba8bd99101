"""The agent state timeline: every agent-state change the engine makes, one row per change.

A row is the agent's full snapshot after the change (status, next status, current contact and its state),
so the agent event stream and the scheduled agent report are both derived from the same rows.
Rows are stored column-wise (`array('q')`); times are epoch milliseconds, strictly increasing per agent.
"""
from __future__ import annotations

from array import array

import numpy as np

from .world import OFFLINE, STATUSES

# Event types of rows (heartbeats are added later, between rows)
LOGIN, STATE_CHANGE, LOGOUT, HEART_BEAT = range(4)
EVENT_TYPES = ("LOGIN", "STATE_CHANGE", "LOGOUT", "HEART_BEAT")
# Contact states in agent snapshots
NO_CONTACT, PENDING, CONNECTING, CONNECTED, ONHOLD, ENDED = range(6)
CONTACT_STATES = (None, "PENDING", "CONNECTING", "CONNECTED", "CONNECTED_ONHOLD", "ENDED")
# Buckets of docs/connect-inputs.md §4 (agent time from the event stream)
OFFLINE_B, NONPROD_B, ON_CONTACT_B, CONNECTING_B, IDLE_B = range(5)

COLUMNS = ("agent", "ms", "etype", "status", "status_ms", "next_status", "next_ms", "leg", "cstate",
           "cstate_ms", "conn_ms")


class AgentState:
    __slots__ = ("idx", "profile", "status", "status_ms", "next_status", "next_ms", "leg", "cstate", "cstate_ms",
                 "conn_ms", "pending", "token", "idle", "on_shift", "last_ms", "breaks", "pending_break",
                 "pending_off", "gen", "routable_pos")

    def __init__(self, idx: int, profile: int):
        self.idx, self.profile = idx, profile
        self.status, self.status_ms, self.next_status, self.next_ms = OFFLINE, 0, -1, 0
        self.leg, self.cstate, self.cstate_ms, self.conn_ms = None, NO_CONTACT, 0, 0
        self.pending: list = []  # future (t, contact state) of the current contact
        self.token = 0
        self.idle = False
        self.on_shift = False
        self.last_ms = 0
        self.breaks: list = []  # breaks due while already paused: taken next
        self.pending_break = None
        self.pending_off = False
        self.gen = 0
        self.routable_pos = -1


class Timeline:
    def __init__(self, jitter: np.ndarray):
        self.cols = {c: array("q") for c in COLUMNS}
        self._jitter = jitter.tolist()
        self._j = 0

    def record(self, st: AgentState, t: int, etype: int = STATE_CHANGE, *, status: int | None = None,
               next_status: int | None = None, cstate: int | None = None) -> int:
        """Apply a change at `t` (seconds) and append the resulting snapshot; returns its time in ms."""
        self._j = (self._j + 1) % len(self._jitter)
        ms = t * 1000 + self._jitter[self._j]
        if ms <= st.last_ms:
            ms = st.last_ms + 1
        st.last_ms = ms
        if status is not None:
            st.status, st.status_ms = status, ms
        if next_status is not None:
            st.next_status, st.next_ms = next_status, ms
        if cstate is not None:
            st.cstate, st.cstate_ms = cstate, ms
            if cstate == CONNECTED and st.conn_ms == 0:
                st.conn_ms = ms
            if cstate == NO_CONTACT:
                st.conn_ms = 0
        c = self.cols
        c["agent"].append(st.idx)
        c["ms"].append(ms)
        c["etype"].append(etype)
        c["status"].append(st.status)
        c["status_ms"].append(st.status_ms)
        c["next_status"].append(st.next_status)
        c["next_ms"].append(st.next_ms)
        c["leg"].append(st.leg.idx if st.cstate != NO_CONTACT and st.leg is not None else -1)
        c["cstate"].append(st.cstate)
        c["cstate_ms"].append(st.cstate_ms)
        c["conn_ms"].append(st.conn_ms)
        return ms

    def flush(self, st: AgentState, upto: int) -> None:
        """Record the current contact's state changes due by `upto` (seconds)."""
        pending = st.pending
        while pending and pending[0][0] <= upto:
            t, cs = pending.pop(0)
            self.record(st, t, cstate=cs)

    def arrays(self) -> dict:
        """Columns as numpy arrays, sorted by (agent, time)."""
        cols = {k: np.frombuffer(v, dtype=np.int64) if len(v) else np.zeros(0, np.int64) for k, v in self.cols.items()}
        order = np.lexsort((cols["ms"], cols["agent"]))
        return {k: v[order] for k, v in cols.items()}


def buckets(status: np.ndarray, cstate: np.ndarray, etype: np.ndarray) -> np.ndarray:
    """The time bucket of each snapshot (first matching rule of docs/connect-inputs.md §4)."""
    types = np.array([t for _n, t in STATUSES])[status]
    b = np.full(status.shape, IDLE_B, dtype=np.int64)
    b[(cstate == PENDING) | (cstate == CONNECTING)] = CONNECTING_B
    b[(cstate == CONNECTED) | (cstate == ONHOLD) | (cstate == ENDED)] = ON_CONTACT_B
    b[types == "CUSTOM"] = NONPROD_B
    b[(types == "OFFLINE") | (etype == LOGOUT)] = OFFLINE_B
    return b

