"""A deterministic simulator of an Amazon Connect contact center that writes realistic landing data.

Public API: `simulate(...)` and `SimulationSummary`. See simulator.py for the order of work and each
module for one part of the model (world, schedule, contacts, engine, handling) or one output (ctr +
firehose, agent_events + event_sinks, agent_report, customers, webchat).
"""
from .simulator import simulate
from .summary import SimulationSummary

__all__ = ["simulate", "SimulationSummary"]
