"""Realtime: the agent-event stream's RTA state (an external asset its sensor observes) and agent time per interval."""
import dagster as dg

from cc_reporting.realtime.assets import agent_state_intervals
from cc_reporting.realtime.rta_sensor import rta_agent_state_spec, rta_sensors

defs = dg.Definitions(assets=[rta_agent_state_spec, agent_state_intervals], sensors=rta_sensors)
