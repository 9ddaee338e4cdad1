"""Replay each case's audit trail into dated facts the KPIs count (see definitions.py).

Stage runs follow the SLA hook's rule: entering a state whose ``stage`` is S starts a run of
S unless one is open (running, or paused by a state with ``paused = S``); a new lead
department (``from_department`` in the event) starts a fresh run; leaving S ends it. The
k-th run of S is the SLA clock of generation k, whose ``due_at`` is the deadline.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.calendar import WorkCalendar
from engine.cases.workflow import Workflow
from engine.kpis.definitions import DONE_BY

KPI_KINDS = frozenset(
    {"assigned", "returned", "redispatched", "resolved", "reworked", "verified", "callback", "run"}
)


@dataclass
class Fact:
    # Counted by the KPIs: assigned returned redispatched resolved reworked verified callback
    # run. Kept beside them by the read models (engine.views): received closed escalated, and
    # open_run (a stage run still open at the end of the trail, with its bookkeeping).
    kind: str
    case_id: int
    at: datetime  # when it counts (an event's time, or a run's decision time)
    department: str | None
    stage: str | None = None  # runs
    on_time: bool = False  # runs
    passed: bool = False  # verified
    hours: float | None = None  # resolved: working hours in progress
    values: dict[str, Any] = field(default_factory=dict)  # callback answers
    generation: int = 0  # runs, open runs
    still_open: bool = False  # runs: decided late while still open (at ``now``)
    light: str = "green"  # open runs: the strongest of its timers that fired
    since: datetime | None = None  # open handle runs: in progress since


@dataclass
class EventRow:
    case_id: int
    seq: int
    at: datetime
    action: str
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]


@dataclass
class ClockRow:
    stage: str
    generation: int
    due_at: datetime
    paused_at: datetime | None


@dataclass
class _Run:
    stage: str
    generation: int
    department: str | None
    started_at: datetime
    ended_at: datetime | None = None
    end_action: str | None = None
    working: float = 0.0  # handle runs: working seconds in progress
    light: str = "green"


def replay_case(
    events: list[EventRow],
    clocks: dict[tuple[str, int], ClockRow],
    workflow: Workflow,
    calendar: WorkCalendar,
    now: datetime,
) -> Iterator[Fact]:
    states = workflow.states
    lead: str | None = None
    open_runs: dict[str, _Run] = {}
    started: dict[str, int] = {}
    runs: list[_Run] = []
    since: datetime | None = None  # entered a handle-running state
    for e in events:
        case_id, data, action = e.case_id, e.data, e.action
        before = states[e.from_state] if e.from_state else None
        after = states[e.to_state] if e.to_state else before
        if e.from_state is None:
            yield Fact("received", case_id, e.at, None)
        elif e.to_state == "closed" and e.from_state != "closed":
            yield Fact("closed", case_id, e.at, lead)
        if action == "escalate":
            yield Fact("escalated", case_id, e.at, lead, stage=data.get("stage") or "")
        if "timer" in data and data.get("stage") in open_runs:
            light = TIMER_LIGHTS.get(action)
            if light is not None:
                run = open_runs[data["stage"]]
                run.light = stronger(run.light, light)
        if action in ("dispatch", "redispatch") and "department" in data:
            if data.get("from_department"):
                yield Fact("redispatched", case_id, e.at, data["from_department"])
            yield Fact("assigned", case_id, e.at, data["department"])
        elif action == "return":
            yield Fact("returned", case_id, e.at, lead)
        elif action == "verify":
            yield Fact("verified", case_id, e.at, lead, passed=bool(data.get("passed")))
        elif action == "callback":
            answers = {k: data.get(k) for k in ("satisfaction", "resolved_state", "fault")}
            yield Fact("callback", case_id, e.at, lead, values=answers)
        if is_rework(workflow, e.action, e.from_state, e.to_state):
            yield Fact("reworked", case_id, e.at, lead)
        # time in progress, for the handle run
        if since is not None and (after is None or after.stage != "handle"):
            if "handle" in open_runs:
                open_runs["handle"].working += calendar.working_seconds_between(since, e.at)
            since = None
        if "department" in data and action in ("dispatch", "redispatch"):
            lead = data["department"]
        restart = "from_department" in data
        changed = e.from_state != e.to_state or restart
        if changed and after is not None:
            for stage, run in list(open_runs.items()):
                keep = stage == after.paused or (stage == after.stage and not restart)
                if not keep:
                    run.ended_at, run.end_action = e.at, action
                    del open_runs[stage]
                    if stage == "handle" and action == "resolve":
                        hours = run.working / 3600
                        yield Fact("resolved", case_id, e.at, run.department, hours=hours)
            if after.stage is not None and after.stage not in open_runs:
                started[after.stage] = started.get(after.stage, 0) + 1
                run = _Run(after.stage, started[after.stage], lead, e.at)
                open_runs[after.stage] = run
                runs.append(run)
        if after is not None and after.stage == "handle" and since is None:
            since = e.at
    for run in runs:
        fact = _decided(run, clocks.get((run.stage, run.generation)), events[0].case_id, now)
        if fact is not None:
            yield fact
    for stage, run in open_runs.items():
        working = run.working / 3600
        yield Fact(
            "open_run", events[0].case_id, run.started_at, run.department, stage,
            hours=working, generation=run.generation, light=run.light,
            since=since if stage == "handle" else None,
        )  # fmt: skip


def _decided(run: _Run, clock: ClockRow | None, case_id: int, now: datetime) -> Fact | None:
    """The run's timeliness fact at the moment it was decided, or None if it is not (yet)."""
    if clock is None:
        return None
    due = clock.due_at
    if run.ended_at is not None and run.ended_at <= due:
        done = DONE_BY.get(run.stage)
        if done is not None and run.end_action not in done:
            return None  # withdrawn before its deadline
        return Fact(
            "run", case_id, run.ended_at, run.department, run.stage, True, generation=run.generation
        )
    if run.ended_at is None and (clock.paused_at is not None or due > now):
        return None  # open and not late (a paused clock's deadline moves on resume)
    still_open = run.ended_at is None
    return Fact(
        "run", case_id, due, run.department, run.stage, generation=run.generation,
        still_open=still_open,
    )  # fmt: skip


def is_rework(
    workflow: Workflow, action: str, from_state: str | None, to_state: str | None
) -> bool:
    if from_state is None:
        return False
    return any(
        spec.rework and (spec.dest or from_state) == to_state
        for spec in workflow.specs(action, from_state)
    )


TIMER_LIGHTS = {"remind": "yellow", "escalate": "red"}  # a timer's action → its stage's light
_LIGHT_ORDER = ("green", "yellow", "red")


def stronger(light: str, other: str) -> str:
    return max(light, other, key=_LIGHT_ORDER.index)


def group_events(rows: Iterable[EventRow]) -> Iterator[list[EventRow]]:
    """Rows ordered by (case_id, seq) → one list per case."""
    current: list[EventRow] = []
    for row in rows:
        if current and row.case_id != current[0].case_id:
            yield current
            current = []
        current.append(row)
    if current:
        yield current
