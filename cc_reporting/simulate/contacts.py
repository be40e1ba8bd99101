"""Customer contacts entering Amazon Connect: who, when, on which channel and queue, and what the IVR did.

Builds the first leg of every customer-initiated contact (inbound voice, chat, task, chatbot hand-offs).
Follow-on legs (transfers, callbacks, outbound calls) are made by the engine through the same factory.
"""
from __future__ import annotations

import numpy as np

from .customers import Crm, anonymous_phone, pick_customers, unknown_customer_id
from .demand import sample_times
from .ids import UuidPool
from .legs import Leg
from .names import INTENTS
from .webchat import Handoff
from .world import CHAT, TASK, VOICE, World

CHANNEL_P = [0.75, 0.18, 0.07]
QUEUE_P = {VOICE: [0.30, 0.35, 0.20, 0.15], CHAT: [0.30, 0.45, 0.25, 0.0], TASK: [0.5, 0.5, 0.0, 0.0]}
# customer kinds: 0 known + customerId attribute, 1 known without it (phone lookup), 2 unknown id, 3 anonymous
KIND_P = {VOICE: [0.70, 0.15, 0.03, 0.12], CHAT: [0.85, 0.0, 0.0, 0.15], TASK: [0.95, 0.0, 0.05, 0.0]}


class LegFactory:
    def __init__(self, rng: np.random.Generator, world: World, crm: Crm):
        self.rng, self.world, self.crm = rng, world, crm
        self.cids = UuidPool(rng)
        self.legs: list[Leg] = []

    def new(self, channel: int, method: str, t: int) -> Leg:
        leg = Leg(len(self.legs), self.cids.next(), channel, method, t)
        self.legs.append(leg)
        return leg

    def follow_on(self, parent: Leg, method: str, t: int, channel: int | None = None) -> Leg:
        """A leg continuing `parent`'s contact chain (transfer, queue transfer, callback)."""
        leg = self.new(parent.channel if channel is None else channel, method, t)
        leg.initial = parent.initial or parent.cid
        leg.prev = parent.cid
        parent.next = leg.cid
        leg.customer, leg.cust_addr, leg.sys_addr = parent.customer, parent.cust_addr, parent.sys_addr
        leg.attrs = {k: v for k, v in parent.attrs.items()
                     if k not in ("digitalOffered", "digitalAccepted", "exitReason", "csat", "surveyOffered")}
        leg.depth = parent.depth + 1
        return leg


def first_legs(factory: LegFactory, t0: int, t1: int, per_day: float, handoffs: list[Handoff]) -> list[Leg]:
    """Customer-initiated first legs in arrival order; IVR-only calls are complete, the rest are to queue."""
    rng, crm = factory.rng, factory.crm
    times = sample_times(rng, t0, t1, per_day)
    n = times.size
    channels = rng.choice(3, size=n, p=CHANNEL_P)
    arrivals = [(int(times[i]), 0, int(channels[i]), None) for i in range(n)]
    arrivals += [(h.t, 1, VOICE if h.channel == "VOICE" else CHAT, h) for h in handoffs]
    arrivals.sort(key=lambda a: (a[0], a[1]))
    m = len(arrivals)
    u = rng.random((m, 8))
    ivr = np.clip(rng.lognormal(np.log(40), 0.5, m), 8, 240).astype(int)
    customers = pick_customers(rng, crm, m)
    ch_of = np.array([a[2] for a in arrivals], dtype=np.int64)
    q_cum = np.cumsum([QUEUE_P[c] for c in (VOICE, CHAT, TASK)], axis=1)
    k_cum = np.cumsum([KIND_P[c] for c in (VOICE, CHAT, TASK)], axis=1)
    q_of = np.minimum((u[:, 0:1] >= q_cum[ch_of]).sum(axis=1), 3).tolist()
    kind_of = np.minimum((u[:, 1:2] >= k_cum[ch_of]).sum(axis=1), 3).tolist()
    u = u.tolist()
    ivr = ivr.tolist()
    legs = []
    queues = factory.world.queues
    for i, (t, _src, ch, handoff) in enumerate(arrivals):
        queue = queues[q_of[i]]
        leg = factory.new(ch, "INBOUND" if ch == VOICE else "API", t)
        leg.sys_t = t
        attrs: dict = {}
        kind = kind_of[i]
        if handoff is not None:
            kind = 0 if handoff.customer >= 0 else 3
            leg.customer = handoff.customer
            attrs["universalSessionId"] = handoff.universal_session_id
            if handoff.category:
                queue = next(x for x in factory.world.queues if x.category == handoff.category)
        elif kind in (0, 1):
            leg.customer = int(customers[i])
        if kind == 0:
            attrs["customerId"] = crm.ids[leg.customer]
        elif kind == 2:
            attrs["customerId"] = unknown_customer_id(rng)
        if ch == VOICE:
            phone = crm.phones[leg.customer] if leg.customer >= 0 else ""
            leg.cust_addr = phone or anonymous_phone(rng)
            leg.sys_addr = queue.did
        category = queue.category
        if handoff is not None and handoff.intent:
            attrs["intentCategory"], attrs["intent"] = category, handoff.intent
        elif u[i][2] > 0.08:
            intents = INTENTS[category]
            attrs["intentCategory"], attrs["intent"] = category, intents[int(u[i][3] * len(intents))]
        if ch == CHAT:
            attrs["device"] = "MOBILE" if u[i][4] < 0.55 else "DESKTOP" if u[i][4] < 0.95 else "TABLET"
        leg.queue = queue.idx
        leg.enq_t = None
        if ch == VOICE and handoff is None:
            _ivr(leg, attrs, u[i], int(ivr[i]))
        elif ch == VOICE:
            leg.enq_t = t + max(5, int(ivr[i]) // 3)  # a hand-off skips most of the menu
            attrs["digitalOffered"] = "false"  # it comes from the digital channel already
        elif ch == CHAT:
            leg.enq_t = t + 3 + int(u[i][5] * 12)
        else:
            leg.enq_t = t + 1
            if u[i][5] < 0.2:
                leg.scheduled_t = t
        leg.attrs = dict(sorted(attrs.items()))
        legs.append(leg)
    return legs


def _ivr(leg: Leg, attrs: dict, u: np.ndarray, ivr: int) -> None:
    """The IVR: digital offer, self-service, hang-ups; otherwise the call is queued after the menu."""
    offered = u[5] < 0.30
    accepted = offered and u[6] < 0.25
    attrs["digitalOffered"] = "true" if offered else "false"
    if offered:
        attrs["digitalAccepted"] = "true" if accepted else "false"
    end = leg.init_t + ivr
    if accepted:
        leg.disc_t, leg.disc_reason, attrs["exitReason"] = end, "CONTACT_FLOW_DISCONNECT", "DIGITAL_DEFLECTION"
    elif u[7] < 0.11:
        leg.disc_t, leg.disc_reason, attrs["exitReason"] = end, "CONTACT_FLOW_DISCONNECT", "SELF_SERVICE_COMPLETE"
    elif u[7] < 0.14:
        leg.disc_t, leg.disc_reason = end, "CUSTOMER_DISCONNECT"
        if u[6] < 0.5:
            attrs["exitReason"] = "CALLER_HANGUP_IVR"
    else:
        leg.enq_t = end
        return
    leg.queue = None
