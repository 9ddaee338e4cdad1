"""A past case's timeline replayed on the workflow: the case row it ends as, and its events.

Every step must be possible from the state the steps before it left the case in (the
workflow's own transitions decide, with their ``when`` conditions and required fields), so
an impossible history is a bad record naming the step, not a case that could never have
happened. The case ends closed (or voided), or still open in a state an imported case may
be left in: assigned (待签收), in progress (办理中) or suspended (挂起), with the run of its
current SLA stage reconstructed for the clock and its timers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.cases.models import Urgency
from engine.cases.workflow import TransitionSpec, Workflow
from engine.city.directory import CityDirectory
from engine.history.records import HistoryRecord, RecordError

IMPORTED = "imported"  # the channel of every imported case
ACTOR = "history-import"  # who took a step the old system does not name
OPEN_STATES = ("assigned", "in_progress", "suspended")
# An imported step is attributed to the first of these roles its transition allows.
ROLES = ("handler", "operator", "grid_worker", "dispatcher", "supervisor", "system", "admin")
UNRECORDED = "原系统未记录"  # a required text the old system did not keep
_STEP_KEYS = frozenset(("at", "by", "action"))  # a step's fields that are not its event's data


@dataclass(slots=True)
class Entry:
    """One audit event to be (the event's case id, sequence and hashes come when it lands)."""

    at: datetime
    actor: str
    actor_role: str
    action: str
    from_state: str | None
    to_state: str
    data: dict[str, Any]


@dataclass(slots=True)
class StageRun:
    """The run of the SLA stage an open case is in, as the engine's clock would have it."""

    stage: str
    generation: int
    started_at: datetime
    changes: list[tuple[str, datetime, str | None]] = field(default_factory=list)
    # ("pause" | "resume" | "extend", when, the extension's duration)


@dataclass(slots=True)
class ReplayedCase:
    line: int
    old_id: str
    row: dict[str, Any]  # the case row's columns but id, version and audit_head
    entries: list[Entry]
    run: StageRun | None = None  # for an open case

    @property
    def is_open(self) -> bool:
        return self.run is not None


class Replayer:
    def __init__(self, workflow: Workflow, city: CityDirectory) -> None:
        self.workflow, self.city = workflow, city
        self.zone = ZoneInfo(city.timezone)

    def replay(self, line: int, record: HistoryRecord) -> ReplayedCase:
        """The case ``record`` describes, or ``RecordError`` naming the first bad field."""
        city, workflow = self.city, self.workflow
        if record.category not in city.categories:
            raise RecordError("category", f"unknown category {record.category!r}")
        if record.grid is not None and record.grid not in city.units:
            raise RecordError("grid", f"unknown unit {record.grid!r}")
        if record.department is not None and record.department not in city.departments:
            raise RecordError("department", f"unknown department {record.department!r}")
        reported = self._utc(record.reported_at)
        state = workflow.initial
        source = {"channel": IMPORTED, "external_id": record.old_id, "source": record.source}
        entries = [Entry(reported, ACTOR, "operator", "report", None, state, source)]
        case: dict[str, Any] = {
            "lead_department": None,
            "resolution": None,
            "rework_count": 0,
            "pending_extension": None,
            "pending_request": None,  # an extension request the old system left undecided
            "card": None,
            "closed_at": None,
        }
        run: StageRun | None = None
        generations: dict[str, int] = {}
        previous = reported
        for index, step in enumerate(record.timeline):
            where = f"timeline[{index}]"
            at = self._utc(step.at)
            if at < previous:
                raise RecordError(f"{where}.at", "earlier than the step before it")
            previous = at
            data = {  # the step's fields in their declared order (a model's __dict__'s)
                name: value
                for name, value in step.__dict__.items()
                if value is not None and name not in _STEP_KEYS
            }
            spec = self._transition(where, step.action, state, data, record)
            role = next(role for role in ROLES if role in spec.roles)
            dest = spec.dest or state
            restart = self._effects(where, step.action, spec, data, case, record)
            if dest != state or restart:
                run = self._clock(run, state, dest, restart, at, generations)
            elif step.action == "approve_extension" and run is not None:
                run.changes.append(("extend", at, data["duration"]))
            if workflow.is_final(dest):
                case["closed_at"] = at
            entries.append(Entry(at, step.by or ACTOR, role, step.action, state, dest, data))
            state = dest
        if not workflow.is_final(state) and state not in OPEN_STATES:
            raise RecordError(
                "timeline",
                f"ends in '{state}': a case lands closed, or open as {', '.join(OPEN_STATES)}",
            )
        return ReplayedCase(
            line,
            record.old_id,
            self._row(record, state, case, reported, previous),
            entries,
            None if workflow.is_final(state) else run,
        )

    def _transition(
        self, where: str, action: str, state: str, data: dict[str, Any], record: HistoryRecord
    ) -> TransitionSpec:
        specs = self.workflow.specs(action, state)
        if not specs:
            raise RecordError(f"{where}.action", f"'{action}' is not possible in state '{state}'")
        for name in specs[0].requires:
            if name in data or name == "photos":  # photos are not imported
                continue
            if name == "department" and record.department and action == "dispatch":
                data[name] = record.department
            elif name == "result":
                data[name] = record.result or UNRECORDED
            elif self.workflow.fields[name].type == "text":
                data[name] = UNRECORDED
            else:
                raise RecordError(f"{where}.{name}", f"required for '{action}'")
        for spec in specs:
            if spec.matches(data):
                return spec
        name = specs[0].when[0][0] if specs[0].when else "action"
        raise RecordError(f"{where}.{name}", f"no '{action}' from '{state}' takes this value")

    def _effects(
        self,
        where: str,
        action: str,
        spec: TransitionSpec,
        data: dict[str, Any],
        case: dict[str, Any],
        record: HistoryRecord,
    ) -> bool:
        """What the step does to the case row (as the engine's effects would); True when a
        new lead department takes the case over (its SLA stage starts afresh)."""
        restart = False
        if "department" in data:
            department = data["department"]
            if department not in self.city.departments:
                raise RecordError(f"{where}.department", f"unknown department {department!r}")
            previous = case["lead_department"]
            if previous and previous != department:
                data["from_department"] = previous
                restart = True
            case["lead_department"] = department
        if action in ("resolve", "self_handle"):
            case["resolution"] = data["result"]
        elif action == "request_extension":
            case["pending_extension"], case["pending_request"] = data["duration"], "extension"
        elif action in ("approve_extension", "reject_extension"):
            pending = case["pending_extension"]
            if pending is None:
                raise RecordError(f"{where}.action", "no extension request is pending")
            data["duration"], case["pending_extension"] = pending, None
            case["pending_request"] = None
        elif action == "escalate":
            card = data.get("card") or ("red" if case["card"] else "yellow")
            case["card"] = data["card"] = "red" if "red" in (card, case["card"]) else card
        if spec.rework:
            case["rework_count"] += 1
        return restart

    def _clock(
        self,
        run: StageRun | None,
        before: str,
        after: str,
        restart: bool,
        at: datetime,
        generations: dict[str, int],
    ) -> StageRun | None:
        """The current stage run after a change of state (engine.sla.hooks's rules)."""
        states = self.workflow.states
        stage, paused = states[after].stage, states[after].paused
        if run is not None:
            if run.stage == stage and not restart:
                if states[before].paused == run.stage:
                    run.changes.append(("resume", at, None))
                return run
            if run.stage == paused:
                run.changes.append(("pause", at, None))
                return run
            run = None
        if stage is None:
            return None
        generations[stage] = generations.get(stage, 0) + 1
        return StageRun(stage, generations[stage], at)

    def _row(
        self,
        record: HistoryRecord,
        state: str,
        case: dict[str, Any],
        reported: datetime,
        last: datetime,
    ) -> dict[str, Any]:
        city = self.city
        caller = record.caller
        urgency = record.urgency or Urgency(city.categories[record.category].default_urgency)
        return case | {
            "channel": IMPORTED,
            "external_id": record.old_id,
            "category": record.category,
            "description": record.description,
            "lat": record.lat,
            "lng": record.lng,
            "grid_code": record.grid,
            "address": record.address,
            "request_type": record.request_type,
            "reporter_name": caller.name if caller else None,
            "reporter_phone": caller.phone if caller else None,
            "urgency": urgency,
            "state": state,
            "owning_unit": record.grid or city.root,
            "sla_limits": {},
            "dispatch_source": "person" if case["lead_department"] else None,
            "created_at": reported,
            "updated_at": last,
        }

    def _utc(self, at: datetime) -> datetime:
        """A time without an offset is the city's local time."""
        if at.tzinfo is None:
            at = at.replace(tzinfo=self.zone)
        return at.astimezone(UTC)
