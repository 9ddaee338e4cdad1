"""What a simulation run is told: the horizon, the arrival mix and its daily pattern, the
departments' capacity and pace, and how often things go wrong (returns, suspensions,
failed checks, unsatisfied callers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# Relative arrivals per local hour (0–23). 12345 calls peak mid-morning and mid-afternoon;
# grid workers report while on patrol; cameras alert around the clock, more by day.
HOTLINE_HOURS = (1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 14, 9, 10, 14, 16, 15, 12, 9, 7, 6, 4, 2, 1)
GRID_HOURS = (0, 0, 0, 0, 0, 0, 0, 2, 10, 14, 14, 10, 3, 4, 12, 14, 12, 8, 2, 0, 0, 0, 0, 0)
VIDEO_HOURS = (2, 2, 1, 1, 1, 2, 4, 7, 9, 9, 9, 8, 7, 8, 9, 9, 9, 9, 8, 7, 6, 5, 4, 3)


@dataclass(frozen=True)
class Odds:
    """Probabilities of what people do (all per case, per occasion)."""

    return_misrouted: float = 0.35  # a department given another function's case returns it
    return_anyway: float = 0.02  # … or one that is its own (the dispatcher rejects that)
    suspend: float = 0.03  # handling needs an approved pause (挂起) of 1–3 working days
    verify_fail: float = 0.08  # the grid worker finds the problem still there
    satisfied: float = 0.72  # callback answers: satisfied / basic / unsatisfied (the rest)
    basic: float = 0.18
    fault_other: float = 0.35  # an unsatisfied caller whose grievance is not the department's
    self_handle: float = 0.3  # a grid worker fixes it on the spot (自处置)
    video_confident: float = 0.7  # a camera alert registered without an on-site check
    video_real: float = 0.85  # a checked camera alert turns out to be real
    video_repeat: float = 0.2  # a camera alert repeats an open case's (merged as `alert`)
    misdispatch: float = 0.03  # a dispatcher picks from the wrong function by hand


@dataclass(frozen=True)
class Pace:
    """How long people take (working minutes unless said otherwise), as distribution means."""

    dispatch_minutes: float = 20.0  # a manual queue is worked
    accept_minutes: float = 25.0  # a department notices and accepts (签收)
    handle_share: float = 0.35  # median handling time as a share of the handle limit
    handle_sigma: float = 0.8  # lognormal spread of handling times
    verify_minutes: float = 150.0  # a grid worker gets to the site (核查)
    callback_minutes: float = 180.0  # an operator calls back (回访)
    video_check_minutes: float = 40.0  # a grid worker checks a camera alert (核实)
    headroom: float = 1.15  # auto-sized capacity: expected workload × headroom


@dataclass(frozen=True)
class SimulationConfig:
    days: int = 7
    events_per_day: int = 5000
    seed: int = 1
    start: date = date(2026, 3, 2)  # a Monday with no holiday near (local time)
    mix: dict[str, float] = field(
        default_factory=lambda: {"hotline": 0.55, "grid": 0.3, "video": 0.15}
    )
    odds: Odds = field(default_factory=Odds)
    pace: Pace = field(default_factory=Pace)
    capacity: dict[str, int] = field(default_factory=dict)  # department → cases worked at once
    rules_text: str | None = None  # another dispatch rule table (None: the city's own)
    sweep_minutes: int = 15  # the timer sweep's tick, in simulated minutes
    steps_per_commit: int = 200  # people's steps share a transaction (engine.cases.group)

    def __post_init__(self) -> None:
        if self.days < 1 or self.events_per_day < 1:
            raise ValueError("days and events per day must be at least 1")
        if set(self.mix) - {"hotline", "grid", "video"} or sum(self.mix.values()) <= 0:
            raise ValueError("mix: shares of hotline, grid and video that sum above 0")
        if any(n < 1 for n in self.capacity.values()):
            raise ValueError("capacity: at least one case at a time per department")
        if self.sweep_minutes < 1:
            raise ValueError("sweep_minutes must be at least 1")
        if self.steps_per_commit < 1:
            raise ValueError("steps_per_commit must be at least 1")
