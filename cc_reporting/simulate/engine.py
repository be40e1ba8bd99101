"""The discrete-event simulation: contacts wait in queues until an agent whose routing profile serves the
queue and channel is free, or leave (abandon, callback, overflow); agents follow their shifts and breaks.

Routing: a new contact goes to the longest-idle agent of any profile serving its (queue, channel); a
freed agent takes its own agent queue first, then the oldest waiting contact it can serve. An agent
handles one contact at a time on every channel. A break or shift end that falls during a contact is set
as the agent's next status and starts when the contact's ACW ends.
"""
from __future__ import annotations

import heapq
import random
from collections import deque

from .contacts import LegFactory
from .customers import anonymous_phone
from .handling import leave_plan, start_contact
from .legs import ABANDON, ASSIGNED, CALLBACK, DONE, EXPIRE, OVERFLOW, TO_AGENT, TO_QUEUE, WAITING, Leg
from .names import INTENTS
from .timeline import LOGIN, LOGOUT, NO_CONTACT, AgentState, Timeline
from .world import AVAILABLE, OFFLINE, VOICE, World

ENQUEUE, LEAVE, FREE, SHIFT_LOGIN, BREAK_DUE, GO_AVAILABLE, SHIFT_END = range(7)
OUTBOUND_CALLER_ID = "+46101234599"


class Engine:
    def __init__(self, world: World, factory: LegFactory, timeline: Timeline, rnd: random.Random):
        self.w, self.f, self.tl, self.rnd = world, factory, timeline, rnd
        self.states = [AgentState(a.idx, a.profile) for a in world.agents]
        self.waiting = [deque() for _ in range(len(world.queues) * 3)]
        self.agent_waiting = [deque() for _ in world.agents]
        self.idle: list[list] = [[] for _ in world.profiles]
        self.routable: list[int] = []
        self.heap: list = []
        self.seq = 0

    def push(self, t: int, kind: int, x, y=None) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, x, y))

    def run(self, shifts, first_legs: list[Leg], on_progress=None) -> None:
        for leg in first_legs:
            if leg.enq_t is None:
                leg.state = DONE
            else:
                self.push(leg.enq_t, ENQUEUE, leg.idx)
        for sh in shifts:
            self.push(sh.login, SHIFT_LOGIN, sh)
        heap, n = self.heap, 0
        handlers = (self._enqueue, self._leave, self._free, self._login, self._break_due, self._available,
                    self._shift_end)
        while heap:
            t, _s, kind, x, y = heapq.heappop(heap)
            handlers[kind](t, x, y)
            n += 1
            if on_progress is not None and n % 20000 == 0:
                on_progress(t)

    # -- contacts ------------------------------------------------------------------------------------
    def _enqueue(self, t: int, idx: int, _y) -> None:
        leg = self.f.legs[idx]
        leg.enq_t, leg.state = t, WAITING
        if leg.from_agent >= 0:
            target = self._transfer_target(leg.from_agent, leg.channel)
            if target is not None:
                leg.agent_queue, leg.queue = target, None
        if leg.agent_queue is not None:
            st = self.states[leg.agent_queue]
            if st.idle:
                self._take(st)
                self._assign(leg, st, t)
                return
            self.agent_waiting[st.idx].append(leg)
        else:
            key = leg.queue * 3 + leg.channel
            best, best_p = None, -1
            for p in self.w.serving[key]:
                h = self.idle[p]
                while h and h[0][2] != self.states[h[0][1]].token:
                    heapq.heappop(h)
                if h and (best is None or h[0] < best):
                    best, best_p = h[0], p
            if best is not None:
                heapq.heappop(self.idle[best_p])
                st = self.states[best[1]]
                self._take(st)
                self._assign(leg, st, t)
                return
            self.waiting[key].append(leg)
        leg.leave_t, leg.leave_kind = leave_plan(self.rnd, leg, t)
        self.push(leg.leave_t, LEAVE, idx)

    def _leave(self, t: int, idx: int, _y) -> None:
        leg = self.f.legs[idx]
        if leg.state != WAITING:
            return
        leg.state, leg.deq_t, leg.disc_t = DONE, t, t
        kind, rnd = leg.leave_kind, self.rnd
        if kind == ABANDON:
            leg.disc_reason = "CUSTOMER_DISCONNECT"
            if rnd.random() < 0.3:
                leg.attrs = dict(sorted({**leg.attrs, "exitReason": "ABANDONED_IN_QUEUE"}.items()))
        elif kind == EXPIRE:
            leg.disc_reason = "EXPIRED"
        elif kind == CALLBACK:
            leg.disc_t = t + 8 + int(rnd.random() * 18)  # confirming the number in the flow
            leg.disc_reason = "CONTACT_FLOW_DISCONNECT"
            cb = self.f.follow_on(leg, "CALLBACK", leg.disc_t)
            cb.queue = leg.queue
            self.push(cb.init_t, ENQUEUE, cb.idx)
        elif kind == OVERFLOW:
            nxt = self.f.follow_on(leg, "QUEUE_TRANSFER", t)
            nxt.sys_t, nxt.queue, nxt.patience_left = t, self.w.queues[leg.queue].overflow, leg.patience_left
            self.push(t + 1, ENQUEUE, nxt.idx)

    def _assign(self, leg: Leg, st: AgentState, t: int) -> None:
        leg.state, leg.agent = ASSIGNED, st.idx
        states, outcome = start_contact(self.rnd, leg, t)
        st.leg, st.pending = leg, states
        self.push(leg.acw_e, FREE, st.idx, leg.idx)
        if outcome in (TO_AGENT, TO_QUEUE):
            x = leg.acw_s
            nxt = self.f.follow_on(leg, "TRANSFER", x)
            nxt.sys_t = x
            nxt.queue = self._other_queue(leg)
            if outcome == TO_AGENT:
                nxt.from_agent = st.idx
            self.push(x + 1, ENQUEUE, nxt.idx)

    def _other_queue(self, leg: Leg) -> int:
        options = [q.idx for q in self.w.queues if q.idx != leg.queue and self.w.serving[q.idx * 3 + leg.channel]]
        return options[int(self.rnd.random() * len(options))] if options else (leg.queue or 0)

    def _transfer_target(self, from_agent: int, channel: int):
        """A colleague for a direct transfer: mostly the longest-idle one, else any routable one (who may
        be busy: the contact then waits in that agent's queue)."""
        profiles = self.w.profiles
        if self.rnd.random() < 0.8:
            best = None
            for p, h in enumerate(self.idle):
                if channel not in profiles[p].channels:
                    continue
                while h and h[0][2] != self.states[h[0][1]].token:
                    heapq.heappop(h)
                if h and h[0][1] != from_agent and (best is None or h[0] < best):
                    best = h[0]
            if best is not None:
                return best[1]
        if len(self.routable) > 1:
            for _ in range(3):
                a = self.routable[int(self.rnd.random() * len(self.routable))]
                if a != from_agent and channel in profiles[self.states[a].profile].channels:
                    return a
        return None

    def _outbound(self, st: AgentState, t: int) -> None:
        rnd, crm = self.rnd, self.f.crm
        start = t + 5 + int(rnd.random() * 40)
        leg = self.f.new(VOICE, "OUTBOUND", start)
        leg.outbound, leg.sys_addr = True, OUTBOUND_CALLER_ID
        leg.customer = int(rnd.random() * len(crm.ids))
        leg.cust_addr = crm.phones[leg.customer] or anonymous_phone(self.f.rng)
        profile = self.w.profiles[st.profile]
        category = self.w.queues[profile.queues[int(rnd.random() * len(profile.queues))]].category
        intents = INTENTS[category]
        leg.attrs = {"customerId": crm.ids[leg.customer], "intent": intents[int(rnd.random() * len(intents))],
                     "intentCategory": category}
        self._assign(leg, st, start)

    # -- agents --------------------------------------------------------------------------------------
    def _take(self, st: AgentState) -> None:
        st.idle = False
        st.token += 1

    def _next_work(self, st: AgentState):
        aq = self.agent_waiting[st.idx]
        while aq and aq[0].state != WAITING:
            aq.popleft()
        if aq:
            return aq.popleft()
        best = None
        for key in self.w.profiles[st.profile].qcs:
            dq = self.waiting[key]
            while dq and dq[0].state != WAITING:
                dq.popleft()
            if dq and (best is None or dq[0].enq_t < best[0].enq_t):
                best = dq
        return best.popleft() if best is not None else None

    def _go_idle(self, st: AgentState, t: int) -> None:
        leg = self._next_work(st)
        if leg is not None:
            self._assign(leg, st, t)
            return
        rate = self.w.profiles[st.profile].outbound_rate
        if rate and self.rnd.random() < rate:
            self._outbound(st, t)
            return
        st.idle = True
        st.token += 1
        heapq.heappush(self.idle[st.profile], (t, st.idx, st.token))

    def _routable(self, st: AgentState, on: bool) -> None:
        if on and st.routable_pos < 0:
            st.routable_pos = len(self.routable)
            self.routable.append(st.idx)
        elif not on and st.routable_pos >= 0:
            last = self.routable.pop()
            if last != st.idx:
                self.routable[st.routable_pos] = last
                self.states[last].routable_pos = st.routable_pos
            st.routable_pos = -1

    def _free(self, t: int, a: int, _leg_idx) -> None:
        st = self.states[a]
        self.tl.flush(st, t)
        st.leg.state = DONE
        st.leg, st.pending = None, []
        if st.pending_off:
            st.pending_off = False
            self.tl.record(st, t, status=OFFLINE, next_status=-1, cstate=NO_CONTACT)
            self._logout(st, t)
        elif st.pending_break is not None:
            _due, status, dur = st.pending_break
            st.pending_break = None
            self.tl.record(st, t, status=status, next_status=-1, cstate=NO_CONTACT)
            self._routable(st, False)
            self.push(t + dur, GO_AVAILABLE, a, st.gen)
        else:
            self.tl.record(st, t, cstate=NO_CONTACT)
            self._go_idle(st, t)

    def _login(self, t: int, shift, _y) -> None:
        st = self.states[shift.agent]
        st.gen += 1
        st.on_shift = True
        self.tl.record(st, t, LOGIN, status=OFFLINE, next_status=-1)
        self.push(shift.start, GO_AVAILABLE, st.idx, st.gen)
        for due, status, dur in shift.breaks:
            self.push(due, BREAK_DUE, st.idx, (st.gen, status, dur))
        self.push(shift.end, SHIFT_END, st.idx, st.gen)

    def _available(self, t: int, a: int, gen: int) -> None:
        st = self.states[a]
        if gen != st.gen or not st.on_shift:
            return
        if st.breaks:
            status, dur = st.breaks.pop(0)
            self.tl.record(st, t, status=status)
            self.push(t + dur, GO_AVAILABLE, a, gen)
            return
        self.tl.record(st, t, status=AVAILABLE)
        self._routable(st, True)
        self._go_idle(st, t)

    def _break_due(self, t: int, a: int, y) -> None:
        gen, status, dur = y
        st = self.states[a]
        if gen != st.gen or not st.on_shift or st.pending_off:
            return
        if st.status != AVAILABLE or st.pending_break is not None:
            st.breaks.append((status, dur))
            return
        if st.leg is not None:
            self.tl.flush(st, t)
            self.tl.record(st, t, next_status=status)
            st.pending_break = (t, status, dur)
            return
        if st.idle:
            self._take(st)
        self.tl.record(st, t, status=status)
        self._routable(st, False)
        self.push(t + dur, GO_AVAILABLE, a, gen)

    def _shift_end(self, t: int, a: int, gen: int) -> None:
        st = self.states[a]
        if gen != st.gen or not st.on_shift:
            return
        st.breaks, st.pending_break = [], None
        if st.leg is not None:
            self.tl.flush(st, t)
            self.tl.record(st, t, next_status=OFFLINE)
            st.pending_off = True
            return
        if st.idle:
            self._take(st)
        self.tl.record(st, t, status=OFFLINE, next_status=-1)
        self._logout(st, t)

    def _logout(self, st: AgentState, t: int) -> None:
        self._routable(st, False)
        st.on_shift = False
        st.breaks, st.pending_break = [], None
        self.tl.record(st, t + 5 + int(self.rnd.random() * 55), LOGOUT, status=OFFLINE)
