"""What a simulation wrote, for the CLI and for tests that reconcile outputs with the model."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class SimulationSummary:
    start: datetime
    end: datetime
    agents: int
    seed: int
    contacts: int = 0  # CTR legs written (unique ContactIds)
    ctr_objects: int = 0  # Firehose objects
    ctr_records_written: int = 0  # contacts + duplicates + updates
    duplicates: int = 0  # identical re-sends
    updates: int = 0  # re-sends with a greater LastUpdateTimestamp and a changed attribute
    queued: int = 0  # legs with Queue.EnqueueTimestamp
    answered: int = 0
    abandoned: int = 0
    transferred_unanswered: int = 0  # queued, unanswered, left by queue transfer or callback
    ivr_only: int = 0  # inbound voice never queued and never at an agent
    outbound: int = 0
    callbacks: int = 0  # CALLBACK legs
    agent_transfers: int = 0  # answered legs transferred on (to an agent or a queue)
    external_transfers: int = 0
    queue_transfers: int = 0  # QUEUE_TRANSFER legs
    by_channel: dict = field(default_factory=dict)  # legs per Channel
    agent_events: int = 0
    report_files: int = 0
    report_rows: int = 0
    crm_customers: int = 0
    chat_sessions: int = 0
    agent_online_seconds: dict = field(default_factory=dict)  # username → online seconds (timeline)
    online_seconds_total: int = 0
    occupancy: float = 0.0  # on contact / (on contact + idle), whole run
    files_written: int = 0
    bytes_written: int = 0  # landing zone plus agent events
    elapsed_seconds: float = 0.0

    def text(self) -> str:
        return (f"{self.contacts} contact legs ({self.queued} queued: {self.answered} answered, {self.abandoned} "
                f"abandoned, {self.transferred_unanswered} left by transfer/callback; {self.ivr_only} IVR-only), "
                f"{self.ctr_objects} CTR objects, {self.agent_events} agent events, {self.report_files} agent "
                f"reports, {self.crm_customers} CRM customers, {self.chat_sessions} chatbot sessions, "
                f"occupancy {self.occupancy:.1%}, {self.bytes_written / 1e6:.1f} MB in {self.elapsed_seconds:.1f} s")
