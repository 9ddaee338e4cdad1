"""``ViewsHook``: keeps the read models (engine.views.models) in the case's own transaction.

Each step changes a few facts: the open-case count it leaves and the one it enters, the
day's KPI counts its event adds, the stage runs (lights) the SLA hook started or stopped,
and the escalation list. The hook gathers them in the transaction's row buffer and writes
them when the buffer goes out, as one upsert per changed fact (engine.views.facts).

It runs after the SLA and timer hooks, so the case's SLA clocks are as this step left them.
Its rules mirror the reference replay (engine.kpis.replay); ``gridflow views check``
compares the two. See docs/READ_SIDE.md#read-models-views.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial

from sqlmodel import Session

from engine import rowbuffer
from engine.calendar import WorkCalendar
from engine.cases.hooks import Change, FollowUp
from engine.cases.models import Channel
from engine.cases.workflow import Workflow
from engine.city.directory import CityDirectory
from engine.knowledge.answers import ANSWER_ACTION
from engine.kpis.aggregate import callback_counts, micros
from engine.kpis.definitions import DONE_BY, STAGE_COUNTS
from engine.kpis.replay import TIMER_LIGHTS, is_rework, stronger
from engine.sla import runs
from engine.sla.calendars import CityCalendars
from engine.sla.clocks import yellow_point
from engine.sla.limits import SlaSettings
from engine.sla.runs import ClockRun
from engine.views.facts import Pending
from engine.views.models import ViewStageLight
from engine.views.statements import FILER_OF_CASE, LIGHTS_OF_CASE

ASSIGNING = ("dispatch", "redispatch")  # the actions that set the lead department
LIGHTS = ViewStageLight.__table__  # type: ignore[attr-defined]
# the counts of one event (never changed: Pending.add_day copies them)
RECEIVED, CLOSED, ASSIGNED = {"received": 1}, {"closed": 1}, {"assigned": 1}
REDISPATCHED, RETURNS, REWORKS = {"redispatched": 1}, {"returns": 1}, {"reworks": 1}
FILED, ANSWERED = {"hotline_cases": 1}, {"answered_at_intake": 1}


class ViewsHook:
    def __init__(self, workflow: Workflow, calendars: CityCalendars) -> None:
        self.workflow, self.calendars = workflow, calendars
        self._yellow_at: tuple[CityDirectory, float] | None = None
        self._rework: dict[tuple[str, str | None, str], bool] = {}

    def yellow_at(self, city: CityDirectory) -> float:
        """The city's yellow share of a limit, read again only when the city is reloaded."""
        if self._yellow_at is None or self._yellow_at[0] is not city:
            self._yellow_at = (city, SlaSettings.of(city).yellow_at)
        return self._yellow_at[1]

    def is_rework(self, action: str, from_state: str | None, to_state: str) -> bool:
        """engine.kpis.replay.is_rework, remembered per step kind (the workflow is fixed)."""
        key = (action, from_state, to_state)
        found = self._rework.get(key)
        if found is None:
            found = self._rework[key] = is_rework(self.workflow, action, from_state, to_state)
        return found

    def after_change(self, change: Change) -> Iterable[FollowUp]:
        session, case, event = change.session, change.case, change.event
        case_id, unit, state = case.id, case.owning_unit, case.state
        assert case_id is not None
        pending = Pending.of(session)
        if pending.zone_name is None:
            pending.set_zone(change.city.timezone)
        workflow = self.workflow
        data, action, from_state, to_state = (
            event.data,
            event.action,
            event.from_state,
            event.to_state,
        )
        before = workflow.states[from_state] if from_state else None
        stage_change = from_state != to_state or "from_department" in data
        lights = (
            self._lights(session, pending, case_id)
            if stage_change or "timer" in data or action == "approve_extension"
            else None
        )
        lead = self._lead_before(pending, change, lights, before.stage if before else None)
        category = case.category or ""
        day = pending.day_of(change.now)
        add_day = pending.add_day

        def count(department: str | None, counts: dict[str, int], on: datetime | None = None):  # type: ignore[no-untyped-def]
            when = day if on is None else pending.day_of(on)
            add_day((when, unit, department or "", category), counts)

        # the event's own facts (engine.kpis.replay: the same rules)
        if before is None:
            add_day((day, unit, "", category), RECEIVED)
        elif to_state == "closed" and from_state != "closed":
            add_day((day, unit, lead or "", category), CLOSED)
        if action in ASSIGNING and "department" in data:
            if data.get("from_department"):
                add_day((day, unit, data["from_department"], category), REDISPATCHED)
            add_day((day, unit, data["department"] or "", category), ASSIGNED)
        elif action == "return":
            add_day((day, unit, lead or "", category), RETURNS)
        elif action == "verify":
            passed = {"verifies": 1, "verifies_passed": int(bool(data.get("passed")))}
            add_day((day, unit, lead or "", category), passed)
        elif action == "callback":
            add_day((day, unit, lead or "", category), callback_counts(data))
        if self.is_rework(action, from_state, to_state):
            add_day((day, unit, lead or "", category), REWORKS)
        if lights is not None:
            if "timer" in data and data.get("stage") in lights:
                light = TIMER_LIGHTS.get(action)
                if light is not None:
                    row = lights[data["stage"]]
                    row["light"] = stronger(row["light"], light)
                    pending.keep_light(case_id, row)
            if stage_change or action == "approve_extension":
                self._runs(change, pending, lights, workflow.states[state].stage, count)
        if action == "escalate":
            pending.escalated(case, data.get("stage") or "", change.now)
        if case.channel == Channel.hotline and (before is None or action == ANSWER_ACTION):
            self._intake(change, pending, filed=before is None)
        # the open-case counts: leave the old key, enter the new one
        was_open = before is not None and not before.final
        if was_open:
            pending.add_open((str(from_state), unit, lead or ""), -1)
        lead_now = case.lead_department
        if not workflow.states[state].final:
            pending.add_open((state, unit, lead_now or ""), 1)
        elif was_open:
            pending.closed_case(case_id)
        pending.leads[case_id] = lead_now
        return ()

    @staticmethod
    def _intake(change: Change, pending: Pending, filed: bool) -> None:
        """直办率's facts: a hotline case filed, or answered at intake, counted on the day it
        was filed for the operator who filed it (engine.kpis.definitions.INTAKE_METRIC)."""
        case, session = change.case, change.session
        assert case.id is not None
        if filed:
            filer = pending.filers[case.id] = change.event.actor
        else:
            filer = pending.filers.get(case.id) or _filer(session, case.id)
        key = (pending.day_of(case.created_at), case.owning_unit, filer, case.category or "")
        pending.add_intake(key, FILED if filed else ANSWERED)

    @staticmethod
    def _lead_before(
        pending: Pending, change: Change, lights: dict[str, dict] | None, stage: str | None
    ) -> str | None:
        """The lead department before this step: an assignment names the one it replaced, or
        keeps the lead of the stage run it ends (a run keeps one lead from start to end)."""
        case, data = change.case, change.event.data
        if case.id in pending.leads:
            return pending.leads[case.id]
        if change.event.action not in ASSIGNING or "department" not in data:
            return case.lead_department
        if data.get("from_department"):
            return data["from_department"]
        run = (lights or {}).get(stage or "")
        if run is None:  # not a change of stage: the lead did not change either
            return case.lead_department if lights is None else None
        return run["department"] or None

    def _lights(self, session: Session, pending: Pending, case_id: int) -> dict[str, dict]:
        """The case's open stage runs as stored (and as this transaction changed them)."""
        found = pending.lights.get(case_id)
        if found is None:
            if rowbuffer.is_unwritten(session, case_id):
                found = {}
            else:
                rows = LIGHTS_OF_CASE.all(session.connection(), {"case_id": case_id})
                found = {row["stage"]: row for row in rows}
                pending.stored_lights.update((case_id, stage) for stage in found)
            pending.lights[case_id] = found
        return found

    def _runs(
        self, change: Change, pending: Pending, lights: dict[str, dict], stage: str | None, count
    ) -> None:  # type: ignore[no-untyped-def]
        """Follow the SLA clocks this step started, paused, moved or stopped."""
        case, now, action = change.case, change.now, change.event.action
        case_id = case.id
        assert case_id is not None
        clocks = runs.case_runs(change.session, case_id)
        current = {c.stage: c for c in clocks if c.stopped_at is None}
        handle = lights.get("handle")
        if handle is not None and handle["since"] is not None and stage != "handle":
            calendar = self._calendar(change, pending)
            handle["working_seconds"] += calendar.working_seconds_between(handle["since"], now)
            handle["since"] = None
        for name, row in list(lights.items()):
            clock = current.get(name)
            generation = row["generation"]
            if clock is not None and clock.generation == generation:
                continue
            del lights[name]
            pending.drop_light(case_id, name)
            for ended in clocks:
                if ended.stage == name and ended.generation == generation:
                    self._decide(pending, case_id, row, ended, action, now, count)
                    break
        for name, clock in current.items():
            row = lights.get(name)
            if row is None:
                row = lights[name] = {
                    "case_id": case_id, "stage": name, "generation": clock.generation,
                    "unit": case.owning_unit, "department": case.lead_department or "",
                    "category": case.category or "", "started_at": clock.started_at,
                    "light": "green", "working_seconds": 0.0, "since": None,
                }  # fmt: skip
            elif (row["due_at"], row["paused_at"]) == (clock.due_at, clock.paused_at):
                continue  # not moved
            row["due_at"], row["paused_at"] = clock.due_at, clock.paused_at
            # Worked out when written: a run a transaction starts and ends (register, then
            # dispatch) never needs it.
            calendar, share = self._calendar(change, pending), self.yellow_at(change.city)
            row["yellow_at"] = partial(yellow_point, clock, calendar, share)
            pending.keep_light(case_id, row)
        handle = lights.get("handle")
        if stage == "handle" and handle is not None and handle["since"] is None:
            handle["since"] = now
            pending.keep_light(case.id, handle)

    def _calendar(self, change: Change, pending: Pending) -> WorkCalendar:
        """The working calendar, read once per transaction (its steps share it)."""
        if pending.calendar is None:
            pending.calendar = self.calendars.get(change.session, change.now)
        return pending.calendar

    @staticmethod
    def _decide(
        pending: Pending,
        case_id: int,
        row: dict,
        clock: ClockRun,
        action: str,
        now: datetime,
        count,
    ) -> None:  # type: ignore[no-untyped-def]
        """An ended run's KPI facts: in time, late (on its deadline's day), or withdrawn."""
        stage, department = row["stage"], row["department"] or None
        ended_at = clock.stopped_at or now
        if stage == "handle" and action == "resolve":
            hours = row["working_seconds"] / 3600
            count(department, {"resolves": 1, "handled": 1, "handle_us": micros(hours)})
        if stage not in STAGE_COUNTS:
            return
        due, on_time = STAGE_COUNTS[stage]
        if ended_at <= clock.due_at:
            done = DONE_BY.get(stage)
            if done is None or action in done:
                count(department, {due: 1, on_time: 1}, ended_at)
            return
        count(department, {due: 1}, clock.due_at)
        pending.late_run(row, clock.generation, pending.day_of(clock.due_at))


def _filer(session: Session, case_id: int) -> str:
    """Who filed the case: the actor of its first audit event."""
    found = FILER_OF_CASE.first(session.connection(), {"case_id": case_id})
    return str(found["actor"]) if found else ""
