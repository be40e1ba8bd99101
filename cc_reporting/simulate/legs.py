"""One contact leg as the simulation builds it (one CTR each). Times are epoch seconds, None = null."""
from __future__ import annotations

# Contact leg status in the engine
WAITING, ASSIGNED, GONE, DONE, NEW = range(5)
# How a queued leg leaves the queue unanswered
ABANDON, CALLBACK, OVERFLOW, EXPIRE = range(4)
# What the agent does at the end of the conversation
NORMAL, TO_AGENT, TO_QUEUE, EXTERNAL = range(4)


class Leg:
    __slots__ = (
        "idx", "cid", "channel", "method", "init_t", "sys_t", "queue", "agent_queue", "enq_t", "deq_t",
        "disc_t", "disc_reason", "agent", "conn_t", "talk", "hold", "nholds", "longest", "acw_s", "acw_e",
        "attempts", "attrs", "cust_addr", "sys_addr", "initial", "prev", "next", "xfer_t", "xfer_addr",
        "leave_t", "leave_kind", "state", "customer", "scheduled_t", "outbound", "from_agent",
        "patience_left", "depth",
    )

    def __init__(self, idx: int, cid: str, channel: int, method: str, init_t: int):
        self.idx, self.cid, self.channel, self.method, self.init_t = idx, cid, channel, method, init_t
        self.sys_t = self.queue = self.agent_queue = self.enq_t = self.deq_t = None
        self.disc_t = self.disc_reason = self.agent = self.conn_t = None
        self.talk = self.hold = self.nholds = self.longest = self.acw_s = self.acw_e = None
        self.attempts = 0
        self.attrs: dict = {}
        self.cust_addr = self.sys_addr = self.initial = self.prev = self.next = None
        self.xfer_t = self.xfer_addr = self.leave_t = self.leave_kind = None
        self.state = NEW
        self.customer = -1
        self.scheduled_t = None
        self.outbound = False
        self.from_agent = -1
        self.patience_left = None
        self.depth = 0

    @property
    def queued(self) -> bool:
        return self.enq_t is not None

    @property
    def ready_t(self) -> int:
        """When the contact is over: customer disconnected and the agent's ACW finished."""
        return max(self.disc_t, self.acw_e or 0)
