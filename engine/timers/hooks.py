"""Timer bookkeeping inside the case transaction.

- A system action carrying ``timer`` is that timer's effect: the timer is marked fired in
  the same transaction, so it fires once or not at all. A timer that is no longer pending
  (fired by another sweeper, or dropped meanwhile) makes the whole action roll back.
- An escalation of a breached stage schedules the next step of the ladder one grace period
  later, until the city supervises the case.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, update

from engine.cases.hooks import Change, FollowUp
from engine.cases.workflow import Workflow
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.sla.calendars import CityCalendars
from engine.sla.limits import SlaSettings
from engine.sla.runs import open_runs
from engine.timers.models import Timer, TimerKind, TimerStatus
from engine.timers.plan import drop_pending, plan_escalation
from engine.users.models import Role

TABLE = Timer.__table__  # type: ignore[attr-defined]
_MARK_FIRED = (
    update(TABLE)
    .where(
        TABLE.c.id == bindparam("timer_id"),
        TABLE.c.case_id == bindparam("of_case"),
        TABLE.c.status == TimerStatus.pending,
    )
    .values(
        status=TimerStatus.fired,
        fired_at=bindparam("now"),
        lease_until=None,
        outcome=bindparam("outcome"),
    )
)


class TimerHook:
    def __init__(self, workflow: Workflow, calendars: CityCalendars) -> None:
        self.workflow, self.calendars = workflow, calendars

    def after_change(self, change: Change) -> Iterable[FollowUp]:
        if "timer" in change.data:
            self._mark_fired(change)
        if change.event.action == "escalate":
            self._next_step(change)
        return ()

    def _mark_fired(self, change: Change) -> None:
        if change.principal.role is not Role.system:
            raise Forbidden("'timer' is set by gridflow's own timers only")
        try:
            timer_id = int(change.data["timer"])
        except ValueError:
            raise InvalidInput("timer", "must be a timer id") from None
        # A stored timer (it has an id): no need to write the transaction's waiting rows first.
        params = {"timer_id": timer_id, "of_case": change.case.id, "now": change.now}
        params["outcome"] = f"{change.event.action} (event {change.event.seq})"
        result = change.session.connection().execute(_MARK_FIRED, params)
        if result.rowcount != 1:
            raise Conflict(f"timer {timer_id} is no longer pending", {"timer": timer_id})

    def _next_step(self, change: Change) -> None:
        case, city = change.case, change.city
        assert case.id is not None
        stage = change.data.get("stage") or self.workflow.states[case.state].stage
        if stage is None:
            return
        if case.supervision_unit == city.root:
            drop_pending(change.session, case.id, stage, "city supervises", [TimerKind.escalate])
            return
        for clock in open_runs(change.session, case.id):
            breached = clock.paused_at is None and clock.due_at <= change.now
            if clock.stage == stage and breached:
                calendar = self.calendars.get(change.session, change.now)
                plan_escalation(change.session, clock, change.now, calendar, SlaSettings.of(city))
