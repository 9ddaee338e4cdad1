"""The case service: the ONE write path for cases (docs/ARCHITECTURE.md#the-write-path).

Every change runs in one database transaction that checks the action (state, role, scope,
fields), updates the case row under an optimistic version check, appends the audit event
(hash-chained), and lets hooks add their rows (timers, outbox, dispatch) in that same
transaction. A hook may ask for follow-up system actions (e.g. dispatch after register),
which run in the same transaction and write their own events. The rows of all those steps
are written together before the commit (engine.rowbuffer, engine.cases.rows).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from transitions import MachineError

from engine import access, rowbuffer
from engine.audit import AuditKeys, NewEvent, new_event
from engine.cases import requests, rows
from engine.cases.effects import ActionEffects, EffectContext, apply_effects, task_departments
from engine.cases.fields import clean_fields
from engine.cases.group import StepGroup
from engine.cases.hooks import CaseHook, Change, FollowUp, IntakeResult, Locator
from engine.cases.intake_rules import filing_unit
from engine.cases.models import Case, CaseCreate, Urgency
from engine.cases.workflow import REPORT, Workflow
from engine.city.directory import CityDirectory
from engine.clock import Clock
from engine.db import new_session
from engine.errors import ActionNotAllowed, Conflict, Forbidden, InvalidInput, NotFound
from engine.records import from_valid
from engine.users.models import SYSTEM, Principal, Role

MAX_FOLLOW_UPS = 8
# SQLite has one writer: threads of one process take turns here instead of busy-waiting on
# the database lock (other processes still wait on SQLite's busy timeout).
_SQLITE_WRITER = threading.RLock()
_new_case = from_valid(Case)  # of a CaseCreate's fields (validated) and the service's own


class CaseService:
    def __init__(
        self,
        db: Engine,
        clock: Clock,
        workflow: Workflow,
        city: Callable[[], CityDirectory],
        hooks: Sequence[CaseHook] = (),
        locator: Locator | None = None,
        *,
        audit_keys: AuditKeys,
    ) -> None:
        self.db, self.clock, self.workflow = db, clock, workflow
        self._city = city
        self.hooks = list(hooks)
        self.effects = ActionEffects()  # the core's; each plugin hook adds its own
        for hook in self.hooks:
            register = getattr(hook, "register_effects", None)
            if register is not None:
                register(self.effects)
        self.locator = locator
        self.audit_keys = audit_keys  # the key each new audit event is MAC'd with
        self._group: StepGroup | None = None

    @property
    def city(self) -> CityDirectory:
        return self._city()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        group = self._group
        if group is not None and group.takes():
            with group.step() as session:
                yield session
            return
        writer = _SQLITE_WRITER if self.db.dialect.name == "sqlite" else nullcontext()
        with new_session(self.db) as session:
            # The connection first, the writer's turn second: whoever holds the turn never
            # waits on the connection pool, which other threads may have drained meanwhile.
            session.connection()
            with writer:
                try:
                    yield session
                    rowbuffer.flush(session)  # here, so a conflict in it rolls back
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise

    @contextmanager
    def grouped(self, size: int) -> Iterator[StepGroup]:
        """This thread's steps share a transaction, ``size`` at a time (engine.cases.group:
        for a driver that can replay its steps, such as the simulator)."""
        if self._group is not None:
            raise RuntimeError("the case service already has a step group open")
        writer = _SQLITE_WRITER if self.db.dialect.name == "sqlite" else nullcontext()
        with writer:
            group = self._group = StepGroup(self.db, size)
            ok = False
            try:
                yield group
                ok = True
            finally:
                self._group = None
                group.close(commit=ok)

    # ---------------------------------------------------------------- intake

    def intake(
        self, principal: Principal, data: CaseCreate, then: Sequence[FollowUp] = ()
    ) -> IntakeResult:
        """Register a report as a case; a repeat ``(channel, external_id)`` returns the first.

        ``then``: the channel's own next steps (e.g. a video alert's register or on-site check,
        a grid worker's self-handling), applied in the same transaction instead of the trusted
        channels' automatic register.
        """
        try:
            with self.transaction() as session:
                # A repeat is rare: the unique key on (channel, external_id) finds it.
                return self._intake_one(session, principal, data, self.city, then, look=False)
        except IntegrityError:
            existing = self._existing(data)
            if existing is None:
                raise
            return IntakeResult(self._repeat(principal, existing), created=False)

    def intake_batch(self, principal: Principal, items: list[CaseCreate]) -> list[IntakeResult]:
        """All or nothing: every item is checked before any is written."""
        city = self.city
        for index, item in enumerate(items):
            try:
                self.filing_unit(principal, item, city)
            except InvalidInput as exc:
                raise InvalidInput(
                    f"items[{index}].{exc.details[0]['field']}", exc.details[0]["reason"]
                ) from exc
            except Forbidden as exc:
                field = f"items[{index}].{exc.details[0]['field']}"
                reason = exc.details[0]["reason"]
                raise Forbidden(f"{field}: {reason}", [{"field": field, "reason": reason}]) from exc
        try:
            with self.transaction() as session:
                return [self._intake_one(session, principal, item, city) for item in items]
        except IntegrityError:
            # A concurrent writer took one of the keys: retry once, now seeing it.
            with self.transaction() as session:
                return [self._intake_one(session, principal, item, city) for item in items]

    def _existing(self, data: CaseCreate) -> Case | None:
        if data.external_id is None:
            return None
        with self.transaction() as session:  # a group's own session sees its steps
            return self._find_external(session, data)

    @staticmethod
    def _find_external(session: Session, data: CaseCreate) -> Case | None:
        params = {"channel": data.channel, "external_id": data.external_id}
        found = rows.BY_EXTERNAL_ID.first(session.connection(), params)  # mostly none
        return rows.load_case(session, found["id"]) if found is not None else None

    def filing_unit(
        self, principal: Principal, data: CaseCreate, city: CityDirectory | None = None
    ) -> str:
        """The unit a new case of ``data`` belongs to, once ``principal`` may file there
        (engine.cases.intake_rules: refused before anything is written)."""
        return filing_unit(principal, data, city or self.city, self.locator)

    def _repeat(self, principal: Principal, case: Case) -> Case:
        """A repeat of ``(channel, external_id)`` answers with the first case only to a
        caller who may see it; the key is taken either way, so that is a conflict."""
        if access.can_see(principal, case, set(), self.city):
            return case
        reason = "already used by a case outside your area"
        raise Conflict(f"external_id: {reason}", [{"field": "external_id", "reason": reason}])

    def _intake_one(
        self,
        session: Session,
        principal: Principal,
        data: CaseCreate,
        city: CityDirectory,
        then: Sequence[FollowUp] = (),
        look: bool = True,
    ) -> IntakeResult:
        """``look``: look for the external id first (a batch, whose repeats are common)."""
        unit = self.filing_unit(principal, data, city)
        if look and data.external_id is not None:
            existing = self._find_external(session, data)
            if existing is not None:
                return IntakeResult(self._repeat(principal, existing), created=False)
        category = city.categories.get(data.category) if data.category else None
        urgency = data.urgency or Urgency(category.default_urgency if category else "normal")
        now = self.clock.now()
        case = _new_case(
            data.model_dump(exclude={"urgency", "recording_url"})
            | {
                "urgency": urgency,
                "state": self.workflow.initial,
                "owning_unit": unit,
                "created_at": now,
                "updated_at": now,
            }
        )
        case.id = rows.insert_case(session, case)
        assert case.id is not None
        rowbuffer.buffer(session).unwritten.add(case.id)
        event = new_event(
            key=self.audit_keys.current(),
            case=case,
            seq=1,
            at=now,
            actor=principal.name,
            actor_role=principal.role,
            action=REPORT,
            from_state=None,
            to_state=case.state,
            data={"channel": case.channel, "external_id": case.external_id}
            | ({"recording_url": data.recording_url} if data.recording_url else {}),
            prev_hash="",
        )
        rowbuffer.add(session, rows.EVENTS, event.row())
        rows.keep_case(session, case)
        case.audit_head = event.hash
        follow_ups = list(self._run_hooks(session, case, event, principal, {}, now, city))
        if then:
            follow_ups.extend(then)
        elif case.channel in city.trusted_channels:
            follow_ups.insert(0, FollowUp("register", {}))
        self._follow(session, case, follow_ups, city)
        return IntakeResult(case, created=True)

    # ---------------------------------------------------------------- actions

    def act(
        self,
        principal: Principal,
        case_id: int,
        action: str,
        data: dict[str, Any],
        expected_version: int | None = None,
    ) -> Case:
        city = self.city
        with self.transaction() as session:
            case = self._load_visible(session, principal, case_id, city)
            if expected_version is not None and expected_version != case.version:
                raise Conflict(
                    f"case {case_id} is at version {case.version}, not {expected_version}",
                    {"version": case.version},
                )
            self._apply(session, case, principal, action, data, city)
            return case

    def allowed_actions(self, principal: Principal, case: Case) -> list[str]:
        return [
            action
            for action in self.workflow.actions_for(case.state, principal.role)
            if access.can_act(principal, case, action)
        ]

    def _load_visible(
        self, session: Session, principal: Principal, case_id: int, city: CityDirectory
    ) -> Case:
        case = rows.load_case(session, case_id)
        if case is None:
            raise NotFound(f"case {case_id} not found")
        # Only a handler's view depends on the case's tasks, and the lead department always
        # holds one (a dispatch writes the lead's task with it): only others need the query.
        tasks: set[str] = set()
        if principal.role is Role.handler:
            lead = case.lead_department
            tasks = {lead} if lead == principal.scope else task_departments(session, case_id)
        if not access.can_see(principal, case, tasks, city):
            raise NotFound(f"case {case_id} not found")
        return case

    def _apply(
        self,
        session: Session,
        case: Case,
        principal: Principal,
        action: str,
        data: dict[str, Any],
        city: CityDirectory,
    ) -> None:
        state = case.state
        if action not in self.workflow.actions_in(state):
            raise ActionNotAllowed(action, state, self.allowed_actions(principal, case))
        specs = self.workflow.specs(action, state)
        if not any(principal.role in spec.roles for spec in specs):
            raise Forbidden(f"role '{principal.role}' may not '{action}' a case")
        if not access.can_act(principal, case, action):
            raise Forbidden(f"'{action}' is for the lead department of case {case.id}")
        clean = clean_fields(action, specs, self.workflow.fields, data, city)
        try:
            spec = self.workflow.fire(state, action, clean)
        except (MachineError, LookupError) as exc:
            field = specs[0].requires[0] if specs[0].requires else action
            raise InvalidInput(field, str(exc)) from exc
        now = self.clock.now()
        context = EffectContext(session, case, clean, now, principal, city)
        lead = case.lead_department
        facts = apply_effects(context, action, self.effects)
        case.state = spec.dest or state
        if case.pending_request is not None:
            decidable = self.workflow.actions_in(case.state).__contains__
            facts |= requests.lapse(case, decidable, lead)
        if spec.rework:
            case.rework_count += 1
        if spec.dest and self.workflow.is_final(spec.dest):
            case.closed_at = now
        event = self._write(session, case, principal, action, state, clean | facts, now)
        follow_ups = self._run_hooks(session, case, event, principal, clean, now, city)
        self._follow(session, case, list(follow_ups), city)

    def _write(
        self,
        session: Session,
        case: Case,
        principal: Principal,
        action: str,
        from_state: str,
        data: dict[str, Any],
        now: datetime,
    ) -> NewEvent:
        assert case.id is not None
        version = case.version + 1
        event = new_event(
            key=self.audit_keys.current(),
            case=case,
            seq=version,
            at=now,
            actor=principal.name,
            actor_role=principal.role,
            action=action,
            from_state=from_state,
            to_state=case.state,
            data=data,
            prev_hash=case.audit_head,
        )
        rows.keep_case(session, case)
        rowbuffer.add(session, rows.EVENTS, event.row())
        case.version, case.audit_head, case.updated_at = version, event.hash, now
        return event

    def _run_hooks(
        self,
        session: Session,
        case: Case,
        event: NewEvent,
        principal: Principal,
        data: dict[str, Any],
        now: datetime,
        city: CityDirectory,
    ) -> Iterator[FollowUp]:
        change = Change(session, case, event, principal, data, now, city)
        for hook in self.hooks:
            yield from hook.after_change(change)

    def _follow(
        self, session: Session, case: Case, follow_ups: list[FollowUp], city: CityDirectory
    ) -> None:
        if len(follow_ups) > MAX_FOLLOW_UPS:
            raise RuntimeError(f"hooks asked for {len(follow_ups)} follow-ups on case {case.id}")
        for follow_up in follow_ups:
            by = follow_up.by or SYSTEM
            self._apply(session, case, by, follow_up.action, follow_up.data, city)
