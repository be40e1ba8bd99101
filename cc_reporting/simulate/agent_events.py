"""The agent event stream, rendered from the agent state timeline.

Every timeline row becomes a LOGIN, STATE_CHANGE or LOGOUT event whose `CurrentAgentSnapshot` is the
row's snapshot and whose `PreviousAgentSnapshot` is the row before it (null on LOGIN and LOGOUT).
HEART_BEAT events fill every 120 s without another event, and keep coming for up to an hour after
LOGOUT. Events are rendered lazily, in time chunks, so millions of them never sit in memory.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .clock import iso_ms
from .delivery import Delivery
from .ids import uuid_strings
from .legs import Leg
from .timeline import CONTACT_STATES, EVENT_TYPES, HEART_BEAT, LOGIN, LOGOUT
from .world import ACCOUNT, CHANNELS, STATUSES, World

HEARTBEAT_MS = 120_000


@dataclass
class EventTable:
    ms: np.ndarray  # event time, sorted
    agent: np.ndarray
    etype: np.ndarray
    row: np.ndarray  # timeline row holding the snapshot


def build_events(rng: np.random.Generator, tl: dict) -> EventTable:
    agent, ms, etype = tl["agent"], tl["ms"], tl["etype"]
    n = ms.size
    same_next = np.zeros(n, dtype=bool)
    same_next[:-1] = agent[1:] == agent[:-1]
    nxt = np.where(same_next, np.append(ms[1:], 0), np.iinfo(np.int64).max)
    tail = ms + rng.integers(0, 3_600_001, n)  # after LOGOUT: heartbeats for up to an hour
    end = np.where(etype == LOGOUT, np.minimum(nxt, tail), nxt)
    end = np.where(same_next | (etype == LOGOUT), end, ms)
    count = np.maximum(0, (end - ms - 1) // HEARTBEAT_MS)
    hb_row = np.repeat(np.arange(n), count)
    first = np.concatenate([[0], np.cumsum(count)[:-1]]) if n else np.zeros(0, np.int64)
    k = np.arange(hb_row.size) - np.repeat(first, count) + 1
    all_ms = np.concatenate([ms, ms[hb_row] + k * HEARTBEAT_MS])
    all_agent = np.concatenate([agent, agent[hb_row]])
    all_type = np.concatenate([etype, np.full(hb_row.size, HEART_BEAT)])
    all_row = np.concatenate([np.arange(n), hb_row])
    order = np.lexsort((all_agent, all_ms))
    return EventTable(all_ms[order], all_agent[order], all_type[order], all_row[order])


class SnapshotRenderer:
    def __init__(self, world: World, legs: list[Leg], tl: dict):
        self.w, self.legs, self.tl = world, legs, tl
        self.status_json = [(arn, name, typ) for arn, (name, typ) in zip(world.status_arns, STATUSES)]
        self._leg_static: dict[int, str] = {}

    def _contact_head(self, leg: Leg) -> str:
        text = self._leg_static.get(leg.idx)
        if text is None:
            w = self.w
            if leg.outbound:
                queue = f'{{"ARN":"{w.outbound_queue["ARN"]}","Name":"{w.outbound_queue["Name"]}"}}'
            elif leg.agent_queue is not None:
                queue = f'{{"ARN":"{w.agents[leg.agent_queue].queue_arn}","Name":null}}'
            else:
                q = w.queues[leg.queue]
                queue = f'{{"ARN":"{q.arn}","Name":"{q.name}"}}'
            initial = f'"{leg.initial}"' if leg.initial else "null"
            qts = f'"{iso_ms(leg.enq_t * 1000)}"' if leg.enq_t is not None else "null"
            text = (f'"ContactId":"{leg.cid}","InitialContactId":{initial},"InitiationMethod":"{leg.method}",'
                    f'"Queue":{queue},"QueueTimestamp":{qts}')
            self._leg_static[leg.idx] = text
            if len(self._leg_static) > 200_000:
                self._leg_static.clear()
        return text

    def snapshot(self, r: int) -> str:
        tl, w = self.tl, self.w
        status = int(tl["status"][r])
        arn, name, typ = self.status_json[status]
        leg_idx = int(tl["leg"][r])
        a = w.agents[int(tl["agent"][r])]
        contacts = ""
        if leg_idx >= 0:
            leg = self.legs[leg_idx]
            conn = int(tl["conn_ms"][r])
            conn_text = f'"{iso_ms(conn)}"' if conn else "null"
            contacts = (f'{{"Channel":"{CHANNELS[leg.channel]}","ConnectedToAgentTimestamp":{conn_text},'
                        f'{self._contact_head(leg)},"State":"{CONTACT_STATES[int(tl["cstate"][r])]}",'
                        f'"StateStartTimestamp":"{iso_ms(int(tl["cstate_ms"][r]))}"}}')
        nxt = int(tl["next_status"][r])
        next_text = ""
        if nxt >= 0:
            n_arn, n_name, _t = self.status_json[nxt]
            next_text = (f',"NextAgentStatus":{{"ARN":"{n_arn}","EnqueuedTimestamp":'
                         f'"{iso_ms(int(tl["next_ms"][r]))}","Name":"{n_name}"}}')
        return (f'{{"AgentStatus":{{"ARN":"{arn}","Name":"{name}","StartTimestamp":'
                f'"{iso_ms(int(tl["status_ms"][r]))}","Type":"{typ}"}},"Configuration":'
                f'{a.configs[1 if leg_idx >= 0 else 0]},"Contacts":[{contacts}]{next_text}}}')


def render_chunk(ev: EventTable, lo: int, hi: int, snaps: SnapshotRenderer, current: dict,
                 rng: np.random.Generator) -> list[tuple[int, str]]:
    """Events lo..hi-1 as (agent, JSON line); `current` keeps each agent's latest snapshot across chunks."""
    w = snaps.w
    ids = uuid_strings(rng, hi - lo)
    out = []
    head = f'{{"AWSAccountId":"{ACCOUNT}","AgentARN":"'
    tail = f'","InstanceARN":"{w.instance_arn}","PreviousAgentSnapshot":'
    ms, agent = ev.ms[lo:hi].tolist(), ev.agent[lo:hi].tolist()
    etype, row = ev.etype[lo:hi].tolist(), ev.row[lo:hi].tolist()
    for i in range(hi - lo):
        a, et = agent[i], etype[i]
        if et == HEART_BEAT:
            cur = prev = current[a]
        else:
            cur = snaps.snapshot(row[i])
            prev = "null" if et in (LOGIN, LOGOUT) else current.get(a, "null")
            current[a] = cur
        out.append((a, f'{head}{w.agents[a].arn}","CurrentAgentSnapshot":{cur},"EventId":"{ids[i]}",'
                       f'"EventTimestamp":"{iso_ms(ms[i])}","EventType":"{EVENT_TYPES[et]}{tail}{prev},'
                       f'"Version":"2017-10-01"}}'))
    return out


def deliveries(ev: EventTable, snaps: SnapshotRenderer, sink, rng: np.random.Generator, chunk_s: int,
               stream_id: int, counters: dict):
    """One Delivery per `chunk_s` seconds of events, delivered a second after the chunk ends."""
    if ev.ms.size == 0:
        return
    step = chunk_s * 1000
    first = int(ev.ms[0]) // step
    bounds = np.searchsorted(ev.ms, (np.arange(first, int(ev.ms[-1]) // step + 2) * step))
    current: dict = {}
    for seq in range(bounds.size - 1):
        lo, hi = int(bounds[seq]), int(bounds[seq + 1])
        if lo == hi:
            continue
        when = ((first + seq + 1) * step) / 1000 + 1

        def action(lo=lo, hi=hi):
            lines = render_chunk(ev, lo, hi, snaps, current, rng)
            sink.write(lines, ev.ms[lo:hi])
            counters["agent_events"] += len(lines)

        yield Delivery(when, stream_id, seq, action)


def count_chunks(ev: EventTable, chunk_s: int) -> int:
    if ev.ms.size == 0:
        return 0
    return int(np.unique(ev.ms // (chunk_s * 1000)).size)
