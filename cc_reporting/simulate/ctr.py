"""Contact trace records: one JSON object per leg, shaped and ordered like the fixtures (sample_ctr.json,
firehose_object_sample): whole-second UTC timestamps, durations equal to timestamp differences."""
from __future__ import annotations

import json

from .clock import date_of, iso_s
from .legs import Leg
from .world import ACCOUNT, CHANNELS, CHAT, TASK, VOICE, World

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
MEDIA = {VOICE: [{"Type": "AUDIO"}], CHAT: [{"Type": "CHAT"}], TASK: []}


def _ts(t):
    return None if t is None else iso_s(t)


def _endpoint(address):
    return None if address is None else {"Address": address, "Type": "TELEPHONE_NUMBER"}


class CtrRenderer:
    def __init__(self, world: World):
        self.w = world
        self._agent_static = [
            {"ARN": a.arn, "HierarchyGroups": world.hierarchy_ctr[a.idx],
             "RoutingProfile": {"ARN": world.profiles[a.profile].arn, "Name": world.profiles[a.profile].name},
             "Username": a.username} for a in world.agents]

    def record(self, leg: Leg, last_update: int, attrs: dict | None = None) -> dict:
        w = self.w
        agent = None
        if leg.agent is not None:
            s = self._agent_static[leg.agent]
            agent = {
                "ARN": s["ARN"],
                "AfterContactWorkDuration": leg.acw_e - leg.acw_s,
                "AfterContactWorkEndTimestamp": iso_s(leg.acw_e),
                "AfterContactWorkStartTimestamp": iso_s(leg.acw_s),
                "AgentInteractionDuration": leg.talk,
                "ConnectedToAgentTimestamp": iso_s(leg.conn_t),
                "CustomerHoldDuration": leg.hold,
                "HierarchyGroups": s["HierarchyGroups"],
                "LongestHoldDuration": leg.longest,
                "NumberOfHolds": leg.nholds,
                "RoutingProfile": s["RoutingProfile"],
                "Username": s["Username"],
            }
        queue = None
        if leg.outbound:
            queue = {"ARN": w.outbound_queue["ARN"], "DequeueTimestamp": None, "Duration": 0,
                     "EnqueueTimestamp": None, "Name": w.outbound_queue["Name"]}
        elif leg.enq_t is not None:
            if leg.agent_queue is not None:
                arn, name = w.agents[leg.agent_queue].queue_arn, None
            else:
                arn, name = w.queues[leg.queue].arn, w.queues[leg.queue].name
            queue = {"ARN": arn, "DequeueTimestamp": iso_s(leg.deq_t), "Duration": leg.deq_t - leg.enq_t,
                     "EnqueueTimestamp": iso_s(leg.enq_t), "Name": name}
        recording = recordings = None
        if leg.agent is not None and leg.channel == VOICE and leg.sys_t is not None:
            loc = (f"cc-sim-connect-recordings/connect/cc-sim/CallRecordings/{date_of(leg.conn_t).replace('-', '/')}/"
                   f"{leg.cid}_{iso_s(leg.conn_t)[:16].replace('-', '')}_UTC.wav")
            recording = {"DeletionReason": None, "Location": loc, "Status": "AVAILABLE", "Type": "AUDIO"}
            recordings = [{"DeletionReason": None, "FragmentStartNumber": None, "FragmentStopNumber": None,
                           "Location": loc, "MediaStreamType": "AUDIO", "ParticipantType": None,
                           "StartTimestamp": None, "Status": "AVAILABLE", "StopTimestamp": None,
                           "StorageType": "S3"}]
        return {
            "AWSAccountId": ACCOUNT,
            "AWSContactTraceRecordFormatVersion": "2017-03-10",
            "Agent": agent,
            "AgentConnectionAttempts": leg.attempts,
            "Attributes": leg.attrs if attrs is None else attrs,
            "Channel": CHANNELS[leg.channel],
            "ConnectedToSystemTimestamp": _ts(leg.sys_t),
            "ContactId": leg.cid,
            "CustomerEndpoint": _endpoint(leg.cust_addr),
            "DisconnectReason": leg.disc_reason,
            "DisconnectTimestamp": iso_s(leg.disc_t),
            "InitialContactId": leg.initial,
            "InitiationMethod": leg.method,
            "InitiationTimestamp": iso_s(leg.init_t),
            "InstanceARN": w.instance_arn,
            "LastUpdateTimestamp": iso_s(last_update),
            "MediaStreams": MEDIA[leg.channel],
            "NextContactId": leg.next,
            "PreviousContactId": leg.prev,
            "Queue": queue,
            "Recording": recording,
            "Recordings": recordings,
            "References": [],
            "ScheduledTimestamp": _ts(leg.scheduled_t),
            "SystemEndpoint": _endpoint(leg.sys_addr),
            "TransferCompletedTimestamp": _ts(leg.xfer_t),
            "TransferredToEndpoint": _endpoint(leg.xfer_addr),
        }

    def render(self, leg: Leg, last_update: int, attrs: dict | None = None) -> bytes:
        return _dumps(self.record(leg, last_update, attrs)).encode("utf-8")
