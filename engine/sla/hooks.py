"""Keeps a case's SLA clocks and their timers in step with its workflow state.

Entering a state whose ``stage`` is S starts S's clock (a new generation if S ran before, or
when a new lead department takes the case over); a state with ``paused = S`` pauses it and
leaving that state resumes it with the deadline moved by the paused time; any other change
stops it. An approved extension moves the running clock's deadline. Every clock change
rewrites the clock's pending timers in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.calendar import WorkCalendar
from engine.cases.effects import ActionEffects
from engine.cases.hooks import Change, FollowUp
from engine.cases.workflow import Workflow
from engine.durations import parse_duration
from engine.sla import clocks, runs
from engine.sla.calendars import CityCalendars
from engine.sla.effects import escalate
from engine.sla.limits import SlaSettings, stage_limit
from engine.sla.runs import ClockRun
from engine.timers.plan import drop_pending, plan_clock


class SlaHook:
    def __init__(self, workflow: Workflow, calendars: CityCalendars) -> None:
        self.workflow, self.calendars = workflow, calendars

    def register_effects(self, effects: ActionEffects) -> None:
        effects.register("escalate", escalate)  # 督办

    def after_change(self, change: Change) -> Iterable[FollowUp]:
        event = change.event
        if event.action == "approve_extension":
            self._extend(change)
        elif event.from_state != event.to_state or "from_department" in event.data:
            self._reconcile(change)
        return ()

    def _reconcile(self, change: Change) -> None:
        states, event = self.workflow.states, change.event
        before = states[event.from_state] if event.from_state else None
        after = states[event.to_state or ""]
        if not (after.stage or after.paused or (before and (before.stage or before.paused))):
            return
        session, case_id = change.session, change.case.id
        assert case_id is not None
        # A new lead department gets its own time for the stage.
        restart = "from_department" in event.data
        calendar: WorkCalendar | None = None
        current: ClockRun | None = None
        every = runs.case_runs(session, case_id)
        for clock in [c for c in every if c.stopped_at is None]:
            calendar = calendar or self.calendars.get(session, change.now)
            if clock.stage == after.stage and not restart:
                current = clock
                if clock.paused_at is not None:
                    clocks.resume_clock(clock, change.now, calendar)
                    self._plan(change, clock, calendar, "resumed")
            elif clock.stage == after.paused:
                clocks.pause_clock(clock, change.now)
                drop_pending(session, case_id, clock.stage, "paused")
            else:
                clocks.stop_clock(clock, change.now)
                drop_pending(session, case_id, clock.stage, "stage ended")
            runs.save(session, clock)
        if after.stage is not None and current is None:
            calendar = calendar or self.calendars.get(session, change.now)
            limit = stage_limit(change.case, after.stage, change.city, SlaSettings.of(change.city))
            generation = 1 + max((c.generation for c in every if c.stage == after.stage), default=0)
            clock = runs.start(
                session, case_id, after.stage, limit, change.now, calendar, generation
            )
            self._plan(change, clock, calendar, "started")

    def _extend(self, change: Change) -> None:
        stage = self.workflow.states[change.case.state].stage
        duration = change.event.data.get("duration")
        if stage is None or duration is None:
            return
        assert change.case.id is not None
        for clock in runs.open_runs(change.session, change.case.id):
            if clock.stage == stage and clock.paused_at is None:
                calendar = self.calendars.get(change.session, change.now)
                clocks.extend_clock(clock, parse_duration(duration), calendar)
                runs.save(change.session, clock)
                self._plan(change, clock, calendar, "extended")

    def _plan(self, change: Change, clock: ClockRun, calendar: WorkCalendar, reason: str) -> None:
        city = change.city
        plan_clock(
            change.session,
            clock,
            change.now,
            calendar,
            SlaSettings.of(city),
            at_top=change.case.supervision_unit == city.root,
            reason=reason,
        )
