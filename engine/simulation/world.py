"""The simulated city's memory between events: what each case really is (its complaint and
the department that really handles it), who acts, and the event queue on the virtual clock."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from engine.calendar import WorkCalendar
from engine.cases.models import Case
from engine.cases.service import CaseService
from engine.city.directory import CityDirectory
from engine.durations import Duration
from engine.errors import GridflowError
from engine.simulation.config import SimulationConfig
from engine.simulation.workforce import Desk
from engine.sla.limits import SlaSettings, stage_limit
from engine.users.models import Principal, Role

OPERATOR = Principal("sim-operator", Role.operator, "00")
DISPATCHER = Principal("sim-dispatcher", Role.dispatcher, "00")
CAMERA = Principal("sim-camera", Role.operator, "00")


@dataclass(slots=True)
class SimCase:
    id: int
    channel: str
    truth: str  # the department that really handles it (the complaint's label)
    grid: str
    state: str = ""
    lead: str | None = None
    round: int = 0  # reworks so far
    urgent: bool = False
    handle: Duration | None = None  # the handle stage's limit, once handling started


@dataclass
class World:
    cases: CaseService
    city: CityDirectory
    calendar: WorkCalendar
    config: SimulationConfig
    rng: random.Random
    desks: dict[str, Desk] = field(default_factory=dict)
    known: dict[int, SimCase] = field(default_factory=dict)
    open_video: list[int] = field(default_factory=list)
    acts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    _queue: list[tuple[datetime, int, Callable[..., None], tuple[Any, ...]]] = field(
        default_factory=list
    )
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _people: dict[tuple[str, str], Principal] = field(default_factory=dict)
    last_error: GridflowError | None = None

    # ------------------------------------------------------------------ the queue

    def at(self, when: datetime, step: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._queue, (when, next(self._seq), step, args))

    def next_time(self) -> datetime | None:
        return self._queue[0][0] if self._queue else None

    def pop(self) -> tuple[datetime, Callable[..., None], tuple[Any, ...]]:
        when, _, step, args = heapq.heappop(self._queue)
        return when, step, args

    # ------------------------------------------------------------------ people

    def handler(self, department: str) -> Principal:
        return self._person(Role.handler, department)

    def worker(self, grid: str) -> Principal:
        return self._person(Role.grid_worker, grid)

    def _person(self, role: Role, scope: str) -> Principal:
        key = (role.value, scope)
        found = self._people.get(key)
        if found is None:
            found = self._people[key] = Principal(f"sim-{role.value}-{scope}", role, scope)
        return found

    # ------------------------------------------------------------------ acting

    def act(
        self,
        who: Principal,
        sim: SimCase,
        action: str,
        data: dict[str, Any],
        expect: tuple[type[GridflowError], ...] = (),
    ) -> Case | None:
        """One action through the case service; a refusal is counted (unless ``expect``ed:
        the caller handles it), not raised."""
        self.last_error = None
        try:
            case = self.cases.act(who, sim.id, action, data)
        except GridflowError as exc:
            if not isinstance(exc, expect):
                self.errors[f"{action}: {type(exc).__name__}"] += 1
            self.last_error = exc
            return None
        self.acts[action] += 1
        self.learn(sim, case)
        return case

    def learn(self, sim: SimCase, case: Case) -> None:
        sim.state, sim.lead, sim.round = case.state, case.lead_department, case.rework_count
        sim.urgent = case.urgency == "urgent"
        if case.state == "in_progress":
            sim.handle = stage_limit(case, "handle", self.city, self.sla)

    @cached_property
    def sla(self) -> SlaSettings:
        return SlaSettings.of(self.city)
