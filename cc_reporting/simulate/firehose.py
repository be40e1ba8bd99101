"""Kinesis Data Firehose delivery of CTRs into `ctr/YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>`.

A record reaches Firehose about a minute after its contact is over (disconnect and ACW end). Records are
buffered per interval (60–300 s, drawn from the seed) or 5 MiB, whichever fills first, and written as one
object: single-line JSON records concatenated with no delimiter and no trailing newline. The folder is
the UTC hour in which the object's oldest record arrived; the name carries the delivery time.
At least once: `duplicate_rate` of records are delivered again, identical, in a later object, and
`update_rate` are re-sent later with a greater `LastUpdateTimestamp` and a changed attribute.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .clock import hour_folder, key_time
from .ctr import CtrRenderer
from .delivery import Delivery
from .ids import stable_uuid
from .legs import Leg

STREAM = "cc-ctr-stream"
MAX_OBJECT = 5 * 1024 * 1024
ORIGINAL, DUPLICATE, UPDATE = 0, 1, 2


@dataclass
class FirehosePlan:
    arrival: np.ndarray
    kind: np.ndarray
    leg: np.ndarray
    last_update: np.ndarray
    salt: np.ndarray
    buffer_s: int
    duplicates: int
    updates: int


def plan(rng: np.random.Generator, legs: list[Leg], duplicate_rate: float, update_rate: float) -> FirehosePlan:
    n = len(legs)
    buffer_s = int(rng.choice([60, 120, 180, 300]))
    ready = np.fromiter((leg.ready_t for leg in legs), dtype=np.int64, count=n)
    idx = np.arange(n, dtype=np.int64)
    lu = ready + rng.integers(20, 91, n)
    arrival = lu + rng.integers(1, 9, n)
    dup = rng.random(n) < duplicate_rate
    upd = rng.random(n) < update_rate
    d_arr = (arrival[dup] + buffer_s * (1 + rng.integers(0, 3, int(dup.sum())))
             + rng.integers(0, buffer_s, int(dup.sum())))
    u_lu = lu[upd] + rng.integers(120, 4 * 3600, int(upd.sum()))
    u_arr = u_lu + rng.integers(1, 9, int(upd.sum()))
    arr = np.concatenate([arrival, d_arr, u_arr])
    kind = np.concatenate([np.full(n, ORIGINAL), np.full(d_arr.size, DUPLICATE), np.full(u_arr.size, UPDATE)])
    leg = np.concatenate([idx, idx[dup], idx[upd]])
    last = np.concatenate([lu, lu[dup], u_lu])
    order = np.lexsort((leg, kind, arr))
    salt = rng.random(arr.size)
    return FirehosePlan(arr[order], kind[order], leg[order], last[order], salt, buffer_s,
                        int(dup.sum()), int(upd.sum()))


def updated_attributes(leg: Leg, u: float) -> dict:
    """The attribute change of an updated re-send (a late survey answer or a changed disposition)."""
    a = dict(leg.attrs)
    if leg.agent is not None and "csat" not in a and leg.next is None:
        a["surveyOffered"] = "true"
        a["csat"] = str(1 + int(u * 5))
    elif leg.agent is not None:
        a["disposition"] = "follow_up" if a.get("disposition") == "resolved" else "resolved"
    else:
        a["disposition"] = "self_service" if leg.enq_t is None else "no_agent"
    return dict(sorted(a.items()))


def deliveries(p: FirehosePlan, legs: list[Leg], renderer: CtrRenderer, landing, seed: int, stream_id: int,
               counters: dict):
    """One Delivery per buffer interval with records (written as one or more objects)."""
    if p.arrival.size == 0:
        return
    phase = seed % p.buffer_s
    bucket = (p.arrival - phase) // p.buffer_s
    cuts = np.flatnonzero(np.diff(bucket)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [bucket.size]])
    for seq, (s, e) in enumerate(zip(starts.tolist(), ends.tolist())):
        k = int(bucket[s])
        when = phase + (k + 1) * p.buffer_s + 1 + int(p.salt[s] * 20)

        def action(s=s, e=e, k=k, when=when):
            _write(p, legs, renderer, landing, seed, s, e, k, when, counters)

        yield Delivery(when, stream_id, seq, action)


def _write(p, legs, renderer, landing, seed, s, e, k, when, counters) -> None:
    parts: list[list] = []  # [oldest arrival, records, latest arrival]
    size = 0
    for i in range(s, e):
        leg = legs[int(p.leg[i])]
        attrs = updated_attributes(leg, float(p.salt[i])) if p.kind[i] == UPDATE else None
        body = renderer.render(leg, int(p.last_update[i]), attrs)
        if not parts or size + len(body) > MAX_OBJECT:
            parts.append([int(p.arrival[i]), [], 0])
            size = 0
        parts[-1][1].append(body)
        parts[-1][2] = int(p.arrival[i])
        size += len(body)
    for n, (oldest, bodies, latest) in enumerate(parts):
        # a part that filled 5 MiB went out when it filled; the last one at the end of the interval
        at = when if n == len(parts) - 1 else latest + 1
        name = f"{STREAM}-1-{key_time(at)}-{stable_uuid(seed, 'ctr', k, n)}"
        data = b"".join(bodies)
        landing.write(f"ctr/{hour_folder(oldest)}/{name}", data)
        counters["ctr_objects"] += 1
        counters["bytes"] += len(data)
