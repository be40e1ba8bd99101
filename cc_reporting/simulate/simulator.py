"""`simulate()`: one deterministic (by seed) run of the simulated contact center into the landing zone.

Order of work: build the instance, CRM, shifts, chatbot sessions and arriving contacts; run the
discrete-event engine (queues, agents, transfers, callbacks); then derive every output from its result
and deliver them: CTR Firehose objects, agent events, scheduled agent reports, CRM extract, chatbot
sessions. With `live=True` each delivery waits for its simulated delivery time in real time, or, with
`speed=N`, replays the window from `start` N× faster than real time (`delivery.SimClock`).
"""
from __future__ import annotations

import random
import sys
import time
from datetime import datetime

import numpy as np

from . import agent_events as events_mod
from . import firehose
from .agent_report import agent_intervals, report_files
from .clock import date_of, from_epoch, to_epoch
from .contacts import LegFactory, first_legs
from .ctr import CtrRenderer
from .customers import build_crm, crm_csv
from .delivery import Delivery, SimClock, perform
from .engine import Engine
from .event_sinks import make_sink
from .schedule import build_shifts
from .summary import SimulationSummary
from .timeline import Timeline
from .webchat import build_sessions, session_files
from .world import CHANNELS, VOICE, build_world

LEGS_PER_AGENT_DAY = 60
LEGS_PER_FIRST_CONTACT = 1.12  # transfers, overflows, callbacks and outbound calls add legs
SESSIONS_PER_CONTACT = 0.22  # chatbot sessions per customer contact; about 22 % of them hand off


class _CountingLanding:
    def __init__(self, landing, counters: dict):
        self.landing, self.counters = landing, counters

    def write(self, key: str, data: bytes) -> None:
        self.landing.write(key, data)
        self.counters["files"] += 1
        self.counters["bytes"] += len(data)


def _bar(progress: bool, **kwargs):
    from tqdm import tqdm

    return tqdm(disable=not progress, file=sys.stderr, dynamic_ncols=True, **kwargs)


def simulate(start: datetime, hours: float, agents: int, seed: int, landing, agent_events: str, *,
             duplicate_rate: float = 0.02, update_rate: float = 0.03, live: bool = False,
             speed: float | None = None, clock: SimClock | None = None,
             progress: bool = False) -> SimulationSummary:
    """Simulate `hours` of a contact center with `agents` agents from `start` (tz-aware UTC) and land it.

    `landing` is a LandingZone (every landing file goes through `landing.write`); `agent_events` is a
    local spool folder or `kinesis://stream-name` (boto3, endpoint from `landing.endpoint_url`).
    Live runs land by `clock` (default `SimClock(start, speed)`): pass one to read the simulated time from
    another thread. `speed` and `clock` change only when files land, never what they hold.
    """
    began = time.perf_counter()
    t0 = to_epoch(start)
    t1 = t0 + int(round(hours * 3600))
    if agents < 1 or t1 <= t0:
        raise ValueError("need at least one agent and a positive number of hours")
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(11)]
    rnd = random.Random(seed)

    world = build_world(rngs[0], agents)
    first_per_day = LEGS_PER_AGENT_DAY * agents / LEGS_PER_FIRST_CONTACT
    crm = build_crm(rngs[1], max(200, int(first_per_day)))
    shifts = build_shifts(rngs[2], agents, t0, t1)
    sessions, handoffs = build_sessions(rngs[3], crm, t0, t1, SESSIONS_PER_CONTACT * first_per_day)
    factory = LegFactory(rngs[4], world, crm)
    direct_per_day = first_per_day * (1 - SESSIONS_PER_CONTACT * 0.22)
    firsts = first_legs(factory, t0, t1, direct_per_day, handoffs)

    timeline = Timeline(rngs[9].integers(0, 900, 65536))
    engine = Engine(world, factory, timeline, rnd)
    with _bar(progress, total=t1 - t0, desc="simulating", unit="s") as bar:
        def on_progress(t: int) -> None:
            bar.n = max(0, min(t, t1) - t0)
            bar.refresh()
        engine.run(shifts, firsts, on_progress)
        bar.n = t1 - t0
        bar.refresh()
    legs = factory.legs

    summary = SimulationSummary(from_epoch(t0), from_epoch(t1), agents, seed)
    _count_legs(summary, legs)
    tl = timeline.arrays()
    ai = agent_intervals(tl, agents)
    for a in world.agents:
        online = int(ai.online[a.idx].sum())
        if online:
            summary.agent_online_seconds[a.username] = online
    summary.online_seconds_total = sum(summary.agent_online_seconds.values())
    on_contact, idle = int(ai.on_contact.sum()), int(ai.idle.sum())
    summary.occupancy = on_contact / (on_contact + idle) if on_contact + idle else 0.0

    counters = {"files": 0, "bytes": 0, "ctr_objects": 0, "agent_events": 0}
    out = _CountingLanding(landing, counters)
    fh_plan = firehose.plan(rngs[5], legs, duplicate_rate, update_rate)
    summary.duplicates, summary.updates = fh_plan.duplicates, fh_plan.updates
    summary.ctr_records_written = summary.contacts + fh_plan.duplicates + fh_plan.updates

    ev = events_mod.build_events(rngs[6], tl)
    sink = make_sink(agent_events, [a.arn for a in world.agents], getattr(landing, "endpoint_url", None))
    chunk_s = 5 if live else 60
    reports = report_files(rngs[7], world, ai, t0, t1)
    summary.report_files = len(reports)
    summary.report_rows = sum(r[3] for r in reports)
    summary.crm_customers = len(crm.ids)
    summary.chat_sessions = len(sessions)

    crm_body = crm_csv(rngs[8], crm)
    days = range(t0 // 86400, (t1 - 1) // 86400 + 1)
    crm_files = [(max(t0, d * 86400 + 7200), f"crm/customers-{date_of(d * 86400)}.csv", crm_body) for d in days]
    simple = [crm_files, session_files(rngs[10], sessions), [(t, k, b) for t, k, b, _r in reports]]
    streams = [[Delivery(t, sid, i, lambda k=k, b=b: out.write(k, b)) for i, (t, k, b) in enumerate(files)]
               for sid, files in enumerate(simple)]
    streams.append(firehose.deliveries(fh_plan, legs, CtrRenderer(world), out, seed, 3, counters))
    snaps = events_mod.SnapshotRenderer(world, legs, tl)
    streams.append(events_mod.deliveries(ev, snaps, sink, rngs[6], chunk_s, 4, counters))
    n_fh = int(np.unique((fh_plan.arrival - seed % fh_plan.buffer_s) // fh_plan.buffer_s).size)
    total = sum(len(s) for s in streams[:3]) + n_fh + events_mod.count_chunks(ev, chunk_s)
    with _bar(progress, total=total, desc="landing", unit="file") as bar:
        if live and clock is None:
            clock = SimClock(t0, speed)
        perform(streams, live, on_done=lambda: bar.update(1), clock=clock)

    summary.ctr_objects = counters["ctr_objects"]
    summary.agent_events = counters["agent_events"]
    summary.files_written = counters["files"]
    summary.bytes_written = counters["bytes"] + sink.bytes
    summary.elapsed_seconds = time.perf_counter() - began
    return summary


def _count_legs(s: SimulationSummary, legs) -> None:
    s.contacts = len(legs)
    for leg in legs:
        ch = CHANNELS[leg.channel]
        s.by_channel[ch] = s.by_channel.get(ch, 0) + 1
        if leg.enq_t is not None:
            s.queued += 1
            if leg.agent is not None:
                s.answered += 1
            elif leg.next is None and leg.xfer_t is None:
                s.abandoned += 1
            else:
                s.transferred_unanswered += 1
        elif leg.channel == VOICE and leg.method == "INBOUND" and leg.agent is None:
            s.ivr_only += 1
        if leg.outbound:
            s.outbound += 1
        if leg.method == "CALLBACK":
            s.callbacks += 1
        elif leg.method == "QUEUE_TRANSFER":
            s.queue_transfers += 1
        if leg.agent is not None and leg.next is not None:
            s.agent_transfers += 1
        if leg.xfer_t is not None:
            s.external_transfers += 1
