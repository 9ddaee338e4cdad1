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


@dataclass
class Fact:
    kind: str  # assigned returned redispatched resolved reworked verified callback run
    case_id: int
    at: datetime  # when it counts (an event's time, or a run's decision time)
    department: str | None
    stage: str | None = None  # runs
    on_time: bool = False  # runs
    passed: bool = False  # verified
    hours: float | None = None  # resolved: working hours in progress
    values: dict[str, Any] = field(default_factory=dict)  # callback answers


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
        if _is_rework(workflow, e):
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


def _decided(run: _Run, clock: ClockRow | None, case_id: int, now: datetime) -> Fact | None:
    """The run's timeliness fact at the moment it was decided, or None if it is not (yet)."""
    if clock is None:
        return None
    due = clock.due_at
    if run.ended_at is not None and run.ended_at <= due:
        done = DONE_BY.get(run.stage)
        if done is not None and run.end_action not in done:
            return None  # withdrawn before its deadline
        return Fact("run", case_id, run.ended_at, run.department, run.stage, on_time=True)
    if run.ended_at is None and (clock.paused_at is not None or due > now):
        return None  # open and not late (a paused clock's deadline moves on resume)
    return Fact("run", case_id, due, run.department, run.stage, on_time=False)


def _is_rework(workflow: Workflow, e: EventRow) -> bool:
    if e.from_state is None:
        return False
    return any(
        spec.rework and (spec.dest or e.from_state) == e.to_state
        for spec in workflow.specs(e.action, e.from_state)
    )


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
