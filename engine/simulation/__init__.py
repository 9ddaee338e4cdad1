"""The city simulator (`gridflow simulate`): Poisson arrivals from the hotline, grid workers and
cameras, departments with capacity and pace, checks and callers that sometimes fail, all
driven through the real case service, dispatch rules, SLA timers and escalation on a
virtual clock."""

from engine.simulation.arrivals import Arrival, arrivals
from engine.simulation.config import Odds, Pace, SimulationConfig
from engine.simulation.run import RunStats, SimEnv, horizon, plan_capacity, run

__all__ = [
    "Arrival",
    "Odds",
    "Pace",
    "RunStats",
    "SimEnv",
    "SimulationConfig",
    "arrivals",
    "horizon",
    "plan_capacity",
    "run",
]
