"""The simulated Amazon Connect instance: queues, routing profiles, hierarchy, agent statuses and agents.

Everything is drawn from the seed, so the same seed gives the same ARNs, names and teams.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .ids import uuid_strings
from .names import FIRST_NAMES, LAST_NAMES, SITES, TEAM_COLOURS

ACCOUNT = "111122223333"
REGION = "eu-west-1"
CHANNELS = ("VOICE", "CHAT", "TASK")
VOICE, CHAT, TASK = 0, 1, 2

# name, intent category, DID, overflow queue (index)
QUEUE_SPECS = [("Billing", "BILLING", "+46101234500", 1), ("Support", "SUPPORT", "+46101234501", 0),
               ("Sales", "SALES", "+46101234502", 3), ("Retention", "RETENTION", "+46101234503", 2)]
# name, served queues, channels, share of agents, chance of an outbound follow-up after a contact
PROFILE_SPECS = [("Frontline", (0, 1), (VOICE,), 0.34, 0.02),
                 ("Frontline Blended", (0, 1), (VOICE, CHAT), 0.14, 0.02),
                 ("Sales & Retention", (2, 3), (VOICE, CHAT), 0.20, 0.12),
                 ("Digital", (0, 1, 2), (CHAT, TASK), 0.14, 0.0),
                 ("Universal", (0, 1, 2, 3), (VOICE, CHAT, TASK), 0.18, 0.04)]
UNIVERSAL = 4
# name, Type
STATUSES = [("Available", "ROUTABLE"), ("Offline", "OFFLINE"), ("Break", "CUSTOM"), ("Lunch", "CUSTOM"),
            ("Training", "CUSTOM"), ("Meeting", "CUSTOM")]
AVAILABLE, OFFLINE, BREAK, LUNCH, TRAINING, MEETING = range(6)
TEAM_SIZE = 15


@dataclass
class Queue:
    idx: int
    name: str
    category: str
    arn: str
    did: str
    overflow: int


@dataclass
class Profile:
    idx: int
    name: str
    arn: str
    queues: tuple
    channels: tuple
    outbound_rate: float
    qcs: list = field(default_factory=list)  # (queue, channel) keys this profile serves: q * 3 + c


@dataclass
class Agent:
    idx: int
    id: str
    arn: str
    username: str
    first: str
    last: str
    profile: int
    level1: dict
    level2: dict
    queue_arn: str
    shard: int = 0
    configs: list = field(default_factory=list)  # Configuration JSON: [free, busy]


@dataclass
class World:
    instance_id: str
    instance_arn: str
    queues: list
    profiles: list
    agents: list
    status_arns: list
    outbound_queue: dict
    serving: list  # per (queue, channel) key: the profiles that serve it
    hierarchy_ctr: list = field(default_factory=list)  # per agent: CTR Agent.HierarchyGroups


def _arn(instance_arn: str, kind: str, ident: str) -> str:
    return f"{instance_arn}/{kind}/{ident}"


def build_world(rng: np.random.Generator, n_agents: int) -> World:
    ids = iter(uuid_strings(rng, 64 + 2 * n_agents + n_agents // TEAM_SIZE + 8))
    instance_id = next(ids)
    inst = f"arn:aws:connect:{REGION}:{ACCOUNT}:instance/{instance_id}"
    queues = [Queue(i, name, cat, _arn(inst, "queue", next(ids)), did, ov)
              for i, (name, cat, did, ov) in enumerate(QUEUE_SPECS)]
    outbound = {"ARN": _arn(inst, "queue", next(ids)), "Name": "Outbound"}
    profiles = []
    for i, (name, qs, chans, _share, out_rate) in enumerate(PROFILE_SPECS):
        p = Profile(i, name, _arn(inst, "routing-profile", next(ids)), qs, chans, out_rate)
        p.qcs = [q * 3 + c for q in qs for c in chans]
        profiles.append(p)
    status_arns = [_arn(inst, "agent-state", next(ids)) for _ in STATUSES]
    site_groups = [{"ARN": _arn(inst, "agent-group", next(ids)), "Name": s} for s in SITES]
    serving = [[p.idx for p in profiles if k in p.qcs] for k in range(len(queues) * 3)]

    # Profiles by share (largest remainder), the first three agents Universal so nights are covered.
    shares = np.array([s[3] for s in PROFILE_SPECS])
    counts = np.floor(shares * max(n_agents - 3, 0)).astype(int)
    spare = max(n_agents - 3, 0)
    for j in np.argsort(-(shares * spare - counts), kind="stable")[: spare - counts.sum()]:
        counts[j] += 1
    rest = np.repeat(np.arange(len(PROFILE_SPECS)), counts)
    rng.shuffle(rest)
    profile_of = np.concatenate([np.full(min(3, n_agents), UNIVERSAL), rest]).astype(int)

    firsts = rng.integers(0, len(FIRST_NAMES), n_agents)
    lasts = rng.integers(0, len(LAST_NAMES), n_agents)
    width = max(4, len(str(n_agents)))
    teams: list[dict] = []
    agents, hier = [], []
    for i in range(n_agents):
        t = i // TEAM_SIZE
        if t >= len(teams):
            site = t % len(SITES)
            colour = TEAM_COLOURS[(t // len(SITES)) % len(TEAM_COLOURS)]
            n = t // (len(SITES) * len(TEAM_COLOURS))
            teams.append({"ARN": _arn(inst, "agent-group", next(ids)),
                          "Name": f"Team {colour}" + (f" {n + 1}" if n else ""), "site": site})
        team = teams[t]
        agent_id = next(ids)
        level1 = site_groups[team["site"]]
        level2 = {"ARN": team["ARN"], "Name": team["Name"]}
        agents.append(Agent(i, agent_id, _arn(inst, "agent", agent_id), f"agent.{i + 1:0{width}d}",
                            FIRST_NAMES[firsts[i]], LAST_NAMES[lasts[i]], int(profile_of[i]), level1, level2,
                            f"{inst}/queue/agent/{agent_id}"))
        hier.append({"Level1": {"ARN": level1["ARN"], "GroupName": level1["Name"]},
                     "Level2": {"ARN": level2["ARN"], "GroupName": level2["Name"]},
                     "Level3": None, "Level4": None, "Level5": None})
    world = World(instance_id, inst, queues, profiles, agents, status_arns, outbound, serving, hier)
    for a in agents:
        a.configs = [_configuration(world, a, busy) for busy in (False, True)]
    return world


def _configuration(world: World, agent: Agent, busy: bool) -> str:
    """The agent-event `Configuration` object as JSON (constant per agent but for AvailableSlots).

    Concurrency is 1 for every channel: an agent handles one contact at a time, whatever its channel,
    so while busy every channel shows 0 available slots.
    """
    p = world.profiles[agent.profile]
    names = [CHANNELS[c] for c in p.channels]
    inbound = [{"ARN": world.queues[q].arn, "Channels": names, "Name": world.queues[q].name} for q in p.queues]
    inbound.append({"ARN": agent.queue_arn, "Channels": names, "Name": None})
    concurrency = [{"AvailableSlots": 0 if busy else 1, "Channel": CHANNELS[c],
                    "MaximumSlots": 1} for c in p.channels]
    config = {
        "AgentHierarchyGroups": {"Level1": agent.level1, "Level2": agent.level2, "Level3": None,
                                 "Level4": None, "Level5": None},
        "FirstName": agent.first,
        "LastName": agent.last,
        "RoutingProfile": {"ARN": p.arn, "Concurrency": concurrency,
                           "DefaultOutboundQueue": {"ARN": world.outbound_queue["ARN"], "Channels": ["VOICE"],
                                                    "Name": world.outbound_queue["Name"]},
                           "InboundQueues": inbound, "Name": p.name},
        "Username": agent.username,
    }
    return json.dumps(config, separators=(",", ":"), ensure_ascii=False)
