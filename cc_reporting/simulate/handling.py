"""How long things take: queue patience, ringing, talk, holds, after-contact work, and how contacts end.

All draws use the engine's `random.Random` (seeded), in the order the engine calls them, so a seed
always gives the same contact center. Handle times are tuned for ~80 % occupancy at ~60 legs per
agent per day.
"""
from __future__ import annotations

import random

from .legs import ABANDON, CALLBACK, EXPIRE, EXTERNAL, NORMAL, OVERFLOW, TO_AGENT, TO_QUEUE, Leg
from .names import EXTERNAL_NUMBERS, WRAP_UP_NOTES
from .timeline import CONNECTED, CONNECTING, ENDED, ONHOLD, PENDING
from .world import CHAT, TASK, VOICE

EXPIRY = 6 * 3600  # tasks and queued callbacks give up after this long in queue
CALLBACK_OFFER = 120  # seconds in queue before the flow offers a callback
OVERFLOW_AFTER = 240  # seconds in queue before the flow moves a voice call to the overflow queue


def leave_plan(rnd: random.Random, leg: Leg, t: int) -> tuple[int, int]:
    """When and how a queued leg would leave the queue if no agent takes it first."""
    if leg.method == "CALLBACK" or leg.channel == TASK:
        return t + EXPIRY, EXPIRE
    if leg.patience_left is not None:
        patience = leg.patience_left
    elif rnd.random() < 0.06:
        patience = 1 + int(rnd.random() * 4)  # short abandons
    else:
        mean = 200 if leg.channel == VOICE else 300
        if leg.agent_queue is not None:
            mean = 120
        patience = 5 + int(rnd.expovariate(1.0 / mean))
    when, kind = t + patience, ABANDON
    if leg.channel == VOICE and leg.agent_queue is None:
        if leg.method == "INBOUND" and rnd.random() < 0.4 and t + OVERFLOW_AFTER < when:
            leg.patience_left = max(10, when - t - OVERFLOW_AFTER)
            when, kind = t + OVERFLOW_AFTER, OVERFLOW
        if rnd.random() < 0.25:
            offer = t + CALLBACK_OFFER + 5 + int(rnd.random() * 15)
            if offer < when:
                when, kind = offer, CALLBACK
    return when, kind


def _lognorm(rnd: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    return int(min(hi, max(lo, rnd.lognormvariate(0.0, sigma) * median)))


TALK = {VOICE: (225, 0.6), CHAT: (380, 0.55), TASK: (240, 0.6)}
ACW = {VOICE: (40, 0.8), CHAT: (25, 0.7), TASK: (20, 0.7)}


def start_contact(rnd: random.Random, leg: Leg, t: int) -> tuple[list, int]:
    """An agent takes `leg` at `t`: fill in the agent part of the CTR; return its agent-side contact states
    [(t, state)] up to ACW start, and what happens at the end of the conversation."""
    ch = leg.channel
    leg.attempts = 1
    if leg.outbound:
        conn = t + 1
        ring = 8 + int(rnd.random() * 17)
        states = [(t, CONNECTING), (conn, CONNECTED)]
        if rnd.random() < 0.82:
            leg.sys_t = conn + ring
            talk = ring + _lognorm(rnd, 150, 0.6, 20, 1800)
        else:
            leg.sys_t, talk = None, ring + 5 + int(rnd.random() * 10)
        talk_from = conn
    elif leg.method == "CALLBACK":
        conn = t + 2 + int(rnd.random() * 5)
        dial = 8 + int(rnd.random() * 14)
        leg.sys_t = conn + dial
        states = [(t, PENDING), (conn, CONNECTING), (conn + dial, CONNECTED)]
        talk = dial + _lognorm(rnd, *TALK[VOICE], 20, 3600)
        talk_from = conn + dial
    else:
        ring = {VOICE: 3, CHAT: 2, TASK: 1}[ch] + int(rnd.random() * (5 if ch == VOICE else 3))
        conn = t + ring
        states = [(t, CONNECTING), (conn, CONNECTED)]
        talk = _lognorm(rnd, *TALK[ch], 15, 5400)
        talk_from = conn
    if leg.enq_t is not None:
        leg.deq_t = conn
    leg.conn_t = conn
    holds = []
    if ch == VOICE and leg.sys_t is not None:
        r = rnd.random()
        nh = 0 if r < 0.72 else 1 if r < 0.9 else 2 if r < 0.97 else 3
        holds = [_lognorm(rnd, 35, 0.8, 5, 600) for _ in range(nh)]
    # talk after the last CONNECTED state, split around the holds
    rest = talk - (talk_from - conn)
    if rest < len(holds) + 1:
        holds = []
    cursor = talk_from
    if holds:
        cuts = sorted(1 + int(rnd.random() * (rest - 1)) for _ in holds)
        prev = 0
        for cut, dur in zip(cuts, holds):
            cursor += cut - prev
            prev = cut
            states.append((cursor, ONHOLD))
            cursor += dur
            states.append((cursor, CONNECTED))
    leg.talk, leg.hold, leg.nholds = talk, sum(holds), len(holds)
    leg.longest = max(holds) if holds else 0
    leg.acw_s = conn + talk + leg.hold
    states.append((leg.acw_s, ENDED))
    leg.acw_e = leg.acw_s + _lognorm(rnd, *ACW[ch], 2, 900)
    outcome = _outcome(rnd, leg)
    leg.disc_t = leg.acw_s
    if outcome == EXTERNAL:
        leg.xfer_t, leg.xfer_addr = leg.acw_s, EXTERNAL_NUMBERS[int(rnd.random() * len(EXTERNAL_NUMBERS))]
        leg.disc_t = leg.acw_s + 60 + int(rnd.random() * 1740)
        leg.disc_reason = "CUSTOMER_DISCONNECT"
    elif outcome in (TO_AGENT, TO_QUEUE):
        leg.disc_reason = "AGENT_DISCONNECT"
    else:
        r = rnd.random()
        if ch == TASK:
            leg.disc_reason = "AGENT_DISCONNECT" if r < 0.9 else None
        else:
            leg.disc_reason = ("CUSTOMER_DISCONNECT" if r < 0.55 else "AGENT_DISCONNECT" if r < 0.95
                               else "TELECOM_PROBLEM" if r < 0.97 and ch == VOICE else None)
    if outcome in (NORMAL, EXTERNAL):
        _after_call_attributes(rnd, leg)
    return states, outcome


def _outcome(rnd: random.Random, leg: Leg) -> int:
    if leg.outbound or leg.depth >= 2:
        return NORMAL
    r = rnd.random()
    if leg.channel == VOICE:
        return TO_AGENT if r < 0.03 else TO_QUEUE if r < 0.055 else EXTERNAL if r < 0.075 else NORMAL
    if leg.channel == CHAT:
        return TO_AGENT if r < 0.02 else TO_QUEUE if r < 0.04 else NORMAL
    return TO_AGENT if r < 0.02 else NORMAL


def _after_call_attributes(rnd: random.Random, leg: Leg) -> None:
    """Attributes set by the agent and the post-contact survey on the leg that ends the conversation."""
    a = dict(leg.attrs)
    r = rnd.random()
    if r < 0.9:
        a["disposition"] = "" if r < 0.3 else "resolved" if r < 0.7 else "follow_up" if r < 0.85 else "escalated"
    if leg.channel != TASK and not leg.outbound:
        r = rnd.random()
        if r < 0.35:
            a["surveyOffered"] = "true"
            if rnd.random() < 0.6:
                x = rnd.random()
                a["csat"] = (("9", "six", "4.0", "0")[int(x * 1000) % 4] if x < 0.03
                             else "5" if x < 0.43 else "4" if x < 0.73 else "3" if x < 0.85
                             else "2" if x < 0.92 else "1")
        elif r < 0.65:
            a["surveyOffered"] = "false"
    r = rnd.random()
    if r < 0.2:
        a["isResolved"] = "true" if r < 0.15 else "false" if r < 0.196 else "Y"
    if rnd.random() < 0.15:
        a["wrapUpNotes"] = WRAP_UP_NOTES[int(rnd.random() * len(WRAP_UP_NOTES))]
    leg.attrs = dict(sorted(a.items()))

