"""Amazon Connect's historical metrics that contact records and agent events determine, under Connect's names.

One entry per metric: the name `GetMetricDataV2` takes, its unit and statistic, the groupings Connect offers it in
(of those this project can build: queue, agent, routing profile, hierarchy level), our column (the name in lower
snake case), which timestamp puts a contact into a 15-minute interval, and the SQL that computes it. The prose
definitions and their sources are in docs/connect-metrics.md; `test_connect_metrics.py` holds every metric to them.

SQL runs over `connect_metric_rows` (build.py): one row per contact record and attribution (`attributed_by`), the
`stg_ctr` columns plus `is_queued`, `is_handled`, `is_abandoned`, `left_queue_by_transfer`, `hold_disconnect`; and,
for agent-activity metrics, over the agent-state seconds of `agent_state_intervals`. `{sl}` is the service-level
threshold in seconds.
"""
from __future__ import annotations

from dataclasses import dataclass

ADMIN_GUIDE = "https://docs.aws.amazon.com/connect/latest/adminguide/historical-metrics-definitions.html"
API_REFERENCE = "https://docs.aws.amazon.com/connect/latest/APIReference/API_GetMetricDataV2.html"
V1_API_REFERENCE = "https://docs.aws.amazon.com/connect/latest/APIReference/API_GetMetricData.html"

QUEUE, AGENT, ROUTING_PROFILE = "QUEUE", "AGENT", "ROUTING_PROFILE"
HIERARCHY = tuple(f"AGENT_HIERARCHY_LEVEL_{n}" for n in ("ONE", "TWO", "THREE", "FOUR", "FIVE"))
ALL_GROUPINGS = (QUEUE, AGENT, ROUTING_PROFILE, *HIERARCHY)
# The stg_ctr column that holds each grouping's key (hierarchy groups: by name, the CTR carries no id).
GROUP_COLUMN = {QUEUE: "queue_id", AGENT: "agent_id", ROUTING_PROFILE: "routing_profile_id",
                **{level: f"hierarchy_level{n}" for n, level in enumerate(HIERARCHY, start=1)}}
CONTACT_GROUPINGS = ALL_GROUPINGS
QUEUE_AND_PROFILE = (QUEUE, ROUTING_PROFILE)
# Agent events carry no hierarchy group: agent-activity metrics are built per agent and routing profile only.
AGENT_ACTIVITY_GROUPINGS = (AGENT, ROUTING_PROFILE)

# Which timestamp attributes a contact record to an interval. Connect counts contact-record metrics in the interval
# of the contact's disconnect, except the two metrics named after another timestamp; agent-activity time is split
# across the intervals it spans.
DISCONNECT, ENQUEUE, AGENT_CONNECTED, TIME_SPLIT = "disconnect", "enqueue", "agent_connected", "time_split"
ATTRIBUTION_COLUMN = {DISCONNECT: "disconnect_ts", ENQUEUE: "enqueue_ts", AGENT_CONNECTED: "agent_connected_ts"}

HANDLE_TIME = ("(coalesce(agent_interaction_duration, 0) + coalesce(customer_hold_duration, 0)"
               " + coalesce(acw_duration, 0))")


@dataclass(frozen=True)
class ConnectMetric:
    name: str                  # GetMetricDataV2 name
    unit: str                  # COUNT, SECONDS or PERCENT, as Connect returns it
    statistic: str             # SUM, AVG or MAX
    groupings: tuple[str, ...]
    attributed_by: str
    sql: str                   # aggregate over the rows of its attribution (or agent-state seconds)
    definition: str
    source: str = ADMIN_GUIDE
    threshold: bool = False    # takes the service-level threshold (Comparison LTE, `CC_SLA_SECONDS`)
    in_v2: bool = True         # a GetMetricDataV2 metric name (else the older GetMetricData's)

    @property
    def column(self) -> str:
        return self.name.lower()


def _count(condition: str) -> str:
    return f"count(*) FILTER (WHERE {condition})"


def _avg(value: str, condition: str) -> str:
    return f"avg({value}) FILTER (WHERE {condition})"


def _percent(part: str, whole: str) -> str:
    return f"100.0 * ({part}) / nullif(({whole}), 0)"


CATALOG: tuple[ConnectMetric, ...] = (
    ConnectMetric("CONTACTS_QUEUED", "COUNT", "SUM", CONTACT_GROUPINGS, DISCONNECT, _count("is_queued"),
                  "Contacts placed in a queue (transfers and callbacks into it included)."),
    ConnectMetric("CONTACTS_QUEUED_BY_ENQUEUE", "COUNT", "SUM", (QUEUE, AGENT, *HIERARCHY), ENQUEUE,
                  _count("is_queued"), "CONTACTS_QUEUED counted in the interval the contact entered the queue."),
    ConnectMetric("CONTACTS_HANDLED", "COUNT", "SUM", CONTACT_GROUPINGS, DISCONNECT, _count("is_handled"),
                  "Contacts connected to an agent: inbound, outbound, transfers, callbacks and API contacts."),
    ConnectMetric("CONTACTS_HANDLED_BY_CONNECTED_TO_AGENT", "COUNT", "SUM", (QUEUE, AGENT, *HIERARCHY),
                  AGENT_CONNECTED, _count("is_handled"),
                  "CONTACTS_HANDLED counted in the interval the agent was connected."),
    ConnectMetric("CALLBACK_CONTACTS_HANDLED", "COUNT", "SUM", CONTACT_GROUPINGS, DISCONNECT,
                  _count("is_handled AND initiation_method = 'CALLBACK'"),
                  "Queued callbacks connected to an agent. A GetMetricData (v1) name: V2 asks CONTACTS_HANDLED "
                  "with the metric filter INITIATION_METHOD = CALLBACK, which the reconciliation does not request.",
                  source=V1_API_REFERENCE, in_v2=False),
    ConnectMetric("CONTACTS_ABANDONED", "COUNT", "SUM", CONTACT_GROUPINGS, DISCONNECT, _count("is_abandoned"),
                  "Queued contacts that ended before reaching an agent, neither transferred out of the queue nor a "
                  "callback."),
    ConnectMetric("ABANDONMENT_RATE", "PERCENT", "AVG", CONTACT_GROUPINGS, DISCONNECT,
                  _percent(_count("is_abandoned"), _count("is_queued")),
                  "CONTACTS_ABANDONED as a percent of CONTACTS_QUEUED."),
    ConnectMetric("CONTACTS_TRANSFERRED_OUT", "COUNT", "SUM", CONTACT_GROUPINGS, DISCONNECT,
                  _count("(is_handled AND left_queue_by_transfer) OR (is_queued AND NOT is_handled "
                         "AND left_queue_by_transfer)"),
                  "Contacts transferred out by an agent (to an agent, queue or external number) or out of the "
                  "queue by a flow; the sum of the two metrics below."),
    ConnectMetric("CONTACTS_TRANSFERRED_OUT_BY_AGENT", "COUNT", "SUM", CONTACT_GROUPINGS, DISCONNECT,
                  _count("is_handled AND left_queue_by_transfer"),
                  "Contacts an agent transferred to another agent, queue or external number."),
    ConnectMetric("CONTACTS_TRANSFERRED_OUT_FROM_QUEUE", "COUNT", "SUM", CONTACT_GROUPINGS, DISCONNECT,
                  _count("is_queued AND NOT is_handled AND left_queue_by_transfer"),
                  "Queued contacts moved out of the queue before reaching an agent (a transfer to another queue, "
                  "or a callback requested)."),
    ConnectMetric("CONTACTS_PUT_ON_HOLD", "COUNT", "SUM", CONTACT_GROUPINGS, DISCONNECT,
                  _count("is_handled AND number_of_holds > 0"), "Handled contacts put on hold at least once."),
    ConnectMetric("CONTACTS_HOLD_ABANDONS", "COUNT", "SUM", CONTACT_GROUPINGS, DISCONNECT,
                  _count("hold_disconnect"),
                  "Contacts disconnected while on hold (UI name: Contacts hold disconnect); from agent events."),
    ConnectMetric("CONTACTS_ON_HOLD_CUSTOMER_DISCONNECT", "COUNT", "SUM", CONTACT_GROUPINGS, DISCONNECT,
                  _count("hold_disconnect AND disconnect_reason = 'CUSTOMER_DISCONNECT'"),
                  "Contacts the customer disconnected while on hold."),
    ConnectMetric("CONTACTS_ON_HOLD_AGENT_DISCONNECT", "COUNT", "SUM", CONTACT_GROUPINGS, DISCONNECT,
                  _count("hold_disconnect AND disconnect_reason = 'AGENT_DISCONNECT'"),
                  "Contacts the agent disconnected while the customer was on hold."),
    ConnectMetric("SERVICE_LEVEL", "PERCENT", "AVG", QUEUE_AND_PROFILE, DISCONNECT,
                  _percent(_count("is_queued AND queue_duration <= {sl}"), _count("is_queued")),
                  "Percent of queued contacts that left the queue (answered, abandoned, transferred or callback) "
                  "within X seconds of entering it.", threshold=True),
    ConnectMetric("SUM_CONTACTS_ANSWERED_IN_X", "COUNT", "SUM", QUEUE_AND_PROFILE, DISCONNECT,
                  _count("is_queued AND is_handled AND queue_duration <= {sl}"),
                  "Queued contacts answered by an agent within X seconds of entering the queue.", threshold=True),
    ConnectMetric("SUM_CONTACTS_ABANDONED_IN_X", "COUNT", "SUM", QUEUE_AND_PROFILE, DISCONNECT,
                  _count("is_abandoned AND queue_duration <= {sl}"),
                  "Abandoned contacts that ended within X seconds of entering the queue.", threshold=True),
    ConnectMetric("AVG_HANDLE_TIME", "SECONDS", "AVG", CONTACT_GROUPINGS, DISCONNECT,
                  _avg(HANDLE_TIME, "is_handled"),
                  "Mean of talk + customer hold + after-contact work over handled contacts, inbound and outbound."),
    ConnectMetric("AVG_QUEUE_ANSWER_TIME", "SECONDS", "AVG", QUEUE_AND_PROFILE, DISCONNECT,
                  _avg("queue_duration", "is_queued AND is_handled"),
                  "Mean time in queue of queued contacts answered by an agent (agent whisper included)."),
    ConnectMetric("AVG_ABANDON_TIME", "SECONDS", "AVG", CONTACT_GROUPINGS, DISCONNECT,
                  _avg("queue_duration", "is_abandoned"), "Mean time in queue of abandoned contacts."),
    ConnectMetric("MAX_QUEUED_TIME", "SECONDS", "MAX", CONTACT_GROUPINGS, DISCONNECT,
                  "max(queue_duration) FILTER (WHERE is_queued)", "Longest time a contact spent in the queue."),
    ConnectMetric("AVG_HOLD_TIME", "SECONDS", "AVG", CONTACT_GROUPINGS, DISCONNECT,
                  _avg("customer_hold_duration", "is_handled AND number_of_holds > 0"),
                  "Mean customer hold time over handled contacts that were put on hold."),
    ConnectMetric("AVG_HOLD_TIME_ALL_CONTACTS", "SECONDS", "AVG", CONTACT_GROUPINGS, DISCONNECT,
                  _avg("coalesce(customer_hold_duration, 0)", "is_handled"),
                  "Mean customer hold time over every handled contact, held or not."),
    ConnectMetric("AVG_AFTER_CONTACT_WORK_TIME", "SECONDS", "AVG", CONTACT_GROUPINGS, DISCONNECT,
                  _avg("acw_duration", "is_handled"),
                  "Mean after-contact work time over handled contacts that have one."),
    ConnectMetric("AVG_INTERACTION_TIME", "SECONDS", "AVG", QUEUE_AND_PROFILE, DISCONNECT,
                  _avg("agent_interaction_duration", "is_handled"),
                  "Mean time agents spent talking with the customer (hold and ACW excluded) over handled contacts."),
    ConnectMetric("AVG_INTERACTION_AND_HOLD_TIME", "SECONDS", "AVG", CONTACT_GROUPINGS, DISCONNECT,
                  _avg("coalesce(agent_interaction_duration, 0) + coalesce(customer_hold_duration, 0)",
                       "is_handled"), "Mean talk + customer hold time over handled contacts."),
    ConnectMetric("SUM_ONLINE_TIME_AGENT", "SECONDS", "SUM", AGENT_ACTIVITY_GROUPINGS, TIME_SPLIT,
                  "sum(online_s)", "Time agents spent in any status other than Offline (custom statuses included)."),
    ConnectMetric("SUM_IDLE_TIME_AGENT", "SECONDS", "SUM", AGENT_ACTIVITY_GROUPINGS, TIME_SPLIT, "sum(idle_s)",
                  "Time agents were Available and not handling a contact (ringing excluded)."),
    ConnectMetric("SUM_CONTACT_TIME_AGENT", "SECONDS", "SUM", AGENT_ACTIVITY_GROUPINGS, TIME_SPLIT,
                  "sum(on_contact_s)", "Time agents spent on contacts: talk, hold and after-contact work."),
    ConnectMetric("SUM_NON_PRODUCTIVE_TIME_AGENT", "SECONDS", "SUM", AGENT_ACTIVITY_GROUPINGS, TIME_SPLIT,
                  "sum(non_productive_s)", "Time agents spent in a custom status."),
    ConnectMetric("AGENT_OCCUPANCY", "PERCENT", "AVG", AGENT_ACTIVITY_GROUPINGS, TIME_SPLIT,
                  _percent("sum(on_contact_s)", "sum(on_contact_s) + sum(idle_s)"),
                  "Percent of on-contact plus idle time spent on contacts (concurrency ignored)."),
)
BY_NAME = {metric.name: metric for metric in CATALOG}
CONTACT_METRICS = [m for m in CATALOG if m.attributed_by != TIME_SPLIT]
AGENT_ACTIVITY_METRICS = [m for m in CATALOG if m.attributed_by == TIME_SPLIT]


def column_types() -> dict[str, str]:
    """Counts are BIGINT; seconds and percents DOUBLE (Connect returns averages unrounded)."""
    return {m.column: "BIGINT" if m.unit == "COUNT" else "DOUBLE" for m in CATALOG}
