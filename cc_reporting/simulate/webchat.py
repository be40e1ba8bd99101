"""Web-chatbot sessions (docs/connect-inputs.md §5), some handed off to a voice call or a Connect chat.

A hand-off becomes an inbound Amazon Connect contact that carries the session's `universal_session_id`
and customer in its attributes. Sessions land as hourly JSON Lines files (by end hour), each delivered a
few minutes after its hour.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .clock import date_of, hour_stamp, iso_s
from .customers import Crm
from .demand import sample_times
from .ids import hex_ids
from .names import INTENTS

CATEGORIES = list(INTENTS)


@dataclass
class Handoff:
    t: int  # the customer reaches Amazon Connect
    channel: str  # VOICE or CHAT
    customer: int  # CRM index or -1
    universal_session_id: str
    category: str | None
    intent: str | None


def build_sessions(rng: np.random.Generator, crm: Crm, t0: int, t1: int, per_day: float):
    starts = sample_times(rng, t0, t1, per_day)
    n = starts.size
    sids, usids = hex_ids(rng, n), hex_ids(rng, n)
    dur = np.clip(rng.lognormal(5.0, 0.8, n), 15, 1800).astype(int)
    bot_delay = rng.integers(1, 6, n)
    known = rng.random(n) < 0.7
    cust = rng.integers(0, max(1, len(crm.ids)), n)
    device = rng.choice(["MOBILE", "DESKTOP", "TABLET"], size=n, p=[0.6, 0.35, 0.05])
    cat = rng.integers(0, len(CATEGORIES), n)
    pick = rng.random((n, 4))
    sessions, handoffs = [], []
    for i in range(n):
        category = CATEGORIES[cat[i]]
        intents = INTENTS[category]
        intent = intents[int(pick[i, 0] * len(intents))] if pick[i, 1] > 0.1 else None
        start = int(starts[i])
        end = start + int(dur[i])
        handed = "VOICE" if pick[i, 2] < 0.12 else ("CHAT" if pick[i, 2] < 0.22 else None)
        s = {"session_id": f"wb-{sids[i]}"}
        if handed or pick[i, 3] < 0.85:
            s["universal_session_id"] = f"us-{usids[i]}"
        if known[i]:
            s["customer_id"] = crm.ids[cust[i]]
        s["channel"] = "WEBCHAT_BOT"
        s["device"] = str(device[i])
        s["started_at"] = iso_s(start)
        s["ended_at"] = iso_s(end)
        if pick[i, 3] > 0.04:
            s["bot_started_at"] = iso_s(start + int(bot_delay[i]))
        s["intent_category"] = category
        if intent:
            s["intent"] = intent
        if handed:
            s["resolved"] = False
            s["handed_off_to"] = handed
            s["exit_reason"] = "HANDOFF"
            delay = 20 + int(pick[i, 0] * 220) if handed == "VOICE" else 1 + int(pick[i, 0] * 4)
            handoffs.append(Handoff(end + delay, handed, int(cust[i]) if known[i] else -1,
                                    s["universal_session_id"], category, intent))
        else:
            s["handed_off_to"] = None
            if pick[i, 1] < 0.6:
                s["resolved"], s["exit_reason"] = True, "COMPLETED"
            elif pick[i, 1] < 0.85:
                s["resolved"], s["exit_reason"] = False, "USER_LEFT" if pick[i, 0] < 0.6 else "TIMEOUT"
            else:
                s["exit_reason"] = "USER_LEFT"
        sessions.append((end, s))
    handoffs.sort(key=lambda h: h.t)
    return sessions, handoffs


def session_files(rng: np.random.Generator, sessions) -> list[tuple[int, str, bytes]]:
    """(delivery time, landing key, body) per end hour: `channels/webchat/YYYY/MM/DD/sessions-…jsonl`."""
    by_hour: dict[int, list] = {}
    for end, s in sorted(sessions, key=lambda x: (x[0], x[1]["session_id"])):
        by_hour.setdefault(end - end % 3600, []).append(s)
    files = []
    for hour in sorted(by_hour):
        body = "".join(json.dumps(s, separators=(",", ":")) + "\n" for s in by_hour[hour])
        key = f"channels/webchat/{date_of(hour).replace('-', '/')}/sessions-{hour_stamp(hour)}.jsonl"
        files.append((hour + 3600 + 120 + int(rng.integers(0, 480)), key, body.encode("utf-8")))
    return files
