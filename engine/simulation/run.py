"""Run the simulated city: arrivals and people's steps on the virtual clock, the timer sweep
every few simulated minutes, everything through the real case service, rules and timers."""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from engine.calendar import WorkCalendar
from engine.cases.service import CaseService
from engine.city.directory import CityDirectory
from engine.clock import VirtualClock
from engine.durations import Duration, parse_duration
from engine.rules import DispatchInput, RuleTable
from engine.rules.matcher import decide
from engine.simulation import steps
from engine.simulation.arrivals import Arrival, arrivals
from engine.simulation.config import SimulationConfig
from engine.simulation.workforce import WORKDAY_HOURS, make_desks, size_capacity
from engine.simulation.world import World
from engine.sla.limits import SlaSettings
from engine.timers.sweeper import Sweeper

Progress = Callable[[float, dict[str, int]], None]
PROGRESS_EVERY = 250


@dataclass
class SimEnv:
    """What a run drives: the wired engine of one database (built by the caller)."""

    db: Engine
    cases: CaseService
    sweeper: Sweeper
    clock: VirtualClock
    calendar: WorkCalendar
    city: CityDirectory


@dataclass
class RunStats:
    arrivals: Counter[str] = field(default_factory=Counter)
    acts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    capacity: dict[str, int] = field(default_factory=dict)
    peak_waiting: dict[str, int] = field(default_factory=dict)
    timers_fired: int = 0
    sweeps: int = 0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    start: datetime | None = None
    end: datetime | None = None


def horizon(config: SimulationConfig, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of the run in UTC: local midnight of the first day, ``days`` later."""
    zone = ZoneInfo(timezone)
    start = datetime(config.start.year, config.start.month, config.start.day, tzinfo=zone)
    end = start + timedelta(days=config.days)
    return start.astimezone(UTC), end.astimezone(UTC)


def plan_capacity(
    config: SimulationConfig, city: CityDirectory, table: RuleTable | None, items: list[Arrival]
) -> dict[str, int]:
    """Cases each department works on at once, sized to the workload the rule table would
    send it (the complaint's own department when the table has no automatic answer) ×
    headroom; the config's fixed capacities win."""
    hours: dict[str, float] = {}
    pace, zone = config.pace, ZoneInfo(city.timezone)
    mean = pace.handle_share * math.exp(pace.handle_sigma**2 / 2)  # of the lognormal
    default = SlaSettings.of(city).default_limits["handle"]
    for item in items:
        complaint = item.complaint
        department = complaint.department
        if table is not None:
            inp = DispatchInput(
                item.channel, complaint.category, city.ancestors(complaint.unit),
                complaint.text, "normal", None, item.at.astimezone(zone),
            )  # fmt: skip
            decision = decide(table, inp)
            if decision.auto and decision.department in city.departments:
                department = decision.department
        category = city.categories.get(complaint.category)
        limits = category.limits.get(category.default_urgency, {}) if category else {}
        limit = parse_duration(str(limits.get("handle", default)))
        hours[department] = hours.get(department, 0.0) + _hours(limit) * mean
    workdays = max(1.0, config.days * 5 / 7)
    return size_capacity(hours, workdays, pace.headroom, config.capacity)


def _hours(limit: Duration) -> float:
    factor = {"wd": WORKDAY_HOURS, "wh": 1.0, "m": 1 / 60, "h": 1.0, "d": 24.0}[limit.unit]
    return limit.amount * factor


def run(
    env: SimEnv,
    config: SimulationConfig,
    capacity: dict[str, int],
    items: list[Arrival] | None = None,
    on_progress: Progress | None = None,
) -> RunStats:
    """Simulate ``config.days`` days; each department works on at most ``capacity`` cases at
    once (one for those missing)."""
    items = items if items is not None else arrivals(config, env.city)
    start, end = horizon(config, env.city.timezone)
    rng = random.Random(config.seed + 1)
    world = World(env.cases, env.city, env.calendar, config, rng)
    desks = make_desks(capacity | config.capacity, list(env.city.departments), rng)
    world.desks = desks
    stats = RunStats(start=start, end=end, capacity={c: d.capacity for c, d in desks.items()})
    for item in items:
        world.at(item.at, steps.arrive, item)
        stats.arrivals[item.channel] += 1
    tick = timedelta(minutes=config.sweep_minutes)

    wall, cpu, done, total = time.perf_counter(), time.process_time(), 0, len(items)
    span = (end - start).total_seconds()
    # People's steps share transactions; the sweep (its own transactions) follows a commit.
    with env.cases.grouped(config.steps_per_commit) as group:

        def sweep(_world: World, now: datetime) -> None:
            with group.paused():
                stats.timers_fired += env.sweeper.sweep(now).fired
            stats.sweeps += 1
            if now + tick < end:
                world.at(now + tick, sweep)

        world.at(start, sweep)
        while (when := world.next_time()) is not None and when < end:
            when, step, args = world.pop()
            env.clock.set(when)
            step(world, when, *args)
            done += 1
            if on_progress is not None and done % PROGRESS_EVERY == 0:
                on_progress((when - start).total_seconds() / span, {"cases": len(world.known)})
    if env.clock.now() < end:
        env.clock.set(end)
    if on_progress is not None:
        on_progress(1.0, {"cases": len(world.known), "arrivals": total})
    stats.wall_seconds = time.perf_counter() - wall
    stats.cpu_seconds = time.process_time() - cpu
    stats.acts, stats.errors = world.acts, world.errors
    stats.peak_waiting = {c: d.peak_waiting for c, d in desks.items()}
    return stats
