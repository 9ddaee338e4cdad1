"""Requests waiting for a dispatcher's decision (延期 and 挂起申请): which cases have one, the
request itself (who asked, when, why, how long), and whether a case has one pending.

An extension request is pending while the case's ``pending_extension`` is set (the engine
clears it on approve or reject). A suspension request is pending while the case is still
being handled and nothing answered it since: no suspension, no rejection
(``reject_suspension``), no result, return or new assignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, Engine, and_, exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from engine import access
from engine.cases.models import Case, CaseEvent
from engine.city.directory import CityDirectory
from engine.users.models import Principal, Role

EXTENSION_STATES = ("assigned", "in_progress")
# Events after which a suspension request no longer waits.
ANSWERS_SUSPENSION = ("suspend", "reject_suspension", "resolve", "return", "redispatch", "accept")
EXTENSION_DECISIONS = ("approve_extension", "reject_extension")
SUSPENSION_DECISIONS = ("suspend", "reject_suspension")
MAX_ITEMS = 200


@dataclass(frozen=True)
class PendingRequest:
    case: Case
    kind: str  # "extension" | "suspension"
    reason: str
    duration: str | None  # the extension asked for
    actor: str  # the username who asked
    at: datetime | None


def pending_suspension(events: list[CaseEvent], state: str) -> CaseEvent | None:
    """The suspension request still waiting among a case's events (oldest first), if any."""
    if state != "in_progress":
        return None
    for event in reversed(events):
        if event.action == "request_suspension":
            return event
        if event.action in ANSWERS_SUSPENSION:
            return None
    return None


def latest_request(events: list[CaseEvent], action: str) -> CaseEvent | None:
    return next((e for e in reversed(events) if e.action == action), None)


def _events(session: Session, ids: list[int], actions: tuple[str, ...]) -> dict[int, list]:
    if not ids:
        return {}
    query = (
        select(CaseEvent)
        .where(col(CaseEvent.case_id).in_(ids), col(CaseEvent.action).in_(actions))
        .order_by(col(CaseEvent.case_id), col(CaseEvent.seq))
    )
    out: dict[int, list[CaseEvent]] = {}
    for event in session.exec(query):
        out.setdefault(event.case_id, []).append(event)
    return out


def _request(case: Case, kind: str, event: CaseEvent | None) -> PendingRequest:
    data = event.data if event is not None else {}
    return PendingRequest(
        case=case,
        kind=kind,
        reason=str(data.get("reason") or ""),
        duration=case.pending_extension if kind == "extension" else None,
        actor=event.actor if event is not None else "",
        at=event.at if event is not None else None,
    )


def suspension_waits() -> ColumnElement[bool]:
    """The case has a suspension request no later event answered (ANSWERS_SUSPENSION): read
    from the case's own events (the case_id index), never the whole audit trail."""
    asked, answer = aliased(CaseEvent), aliased(CaseEvent)
    answered = (
        exists()
        .where(
            answer.case_id == col(Case.id),
            answer.seq > asked.seq,
            col(answer.action).in_(ANSWERS_SUSPENSION),
        )
        .correlate_except(answer)
    )
    return exists().where(
        asked.case_id == col(Case.id), asked.action == "request_suspension", ~answered
    )


def _extensions(area: ColumnElement[bool], scope: ColumnElement[bool]) -> list:
    """Cases with an extension request pending: the open ones of the area (ix_case_state_unit),
    then their pending_extension."""
    return [
        col(Case.state).in_(EXTENSION_STATES),
        area,
        scope,
        col(Case.pending_extension).is_not(None),
    ]


def _suspensions(area: ColumnElement[bool], scope: ColumnElement[bool]) -> list:
    return [Case.state == "in_progress", area, scope, suspension_waits()]


@dataclass(frozen=True)
class WaitingCounts:
    """How many requests wait for the person's decision in their scope (the navigation)."""

    extension: int = 0  # 延期申请
    suspension: int = 0  # 挂起申请
    returned: int = 0  # 退单 (dispatchers: the returned cases of their command centers)

    @property
    def total(self) -> int:
        return self.extension + self.suspension + self.returned


# The navigation shows the requests' counts on every page; the two that read each open case
# of the scope are kept this long per database, role and scope (the approvals page itself,
# where requests are decided, always counts afresh).
KEEP_REQUEST_COUNTS = timedelta(seconds=30)
_kept: WeakKeyDictionary[Engine, dict[tuple[str, str | None], tuple[datetime, int, int]]]
_kept = WeakKeyDictionary()
_kept_lock = Lock()


def waiting_counts(
    session: Session,
    principal: Principal,
    city: CityDirectory,
    now: datetime | None = None,
    fresh: bool = True,
) -> WaitingCounts:
    """The requests waiting in ``principal``'s scope, one count each, read over the open cases
    of the scope only (ix_case_state_unit, ix_case_queue; a case's own events by case_id): the
    closed history, however long, is never read. 作废 is an action, not a request: no count.
    With ``now`` and not ``fresh``, the extension and suspension counts of the last
    KEEP_REQUEST_COUNTS are reused; the returned cases (an index-only count) are always read."""
    if principal.role not in (Role.dispatcher, Role.supervisor):
        return WaitingCounts()
    unit = principal.scope if principal.scope in city.units else city.root
    area = col(Case.owning_unit).in_(city.subtree(unit))
    scope = access.case_scope(principal, city)

    def count(*where: ColumnElement[bool]) -> int:
        return int(session.exec(select(func.count()).select_from(Case).where(and_(*where))).one())

    returned = 0
    if principal.role is Role.dispatcher:
        queues = col(Case.dispatch_queue).in_(city.subtree(unit))
        returned = count(Case.state == "returned", queues, scope)
    engine, key = session.get_bind(), (str(principal.role), principal.scope)
    with _kept_lock:
        kept = _kept.get(engine, {}).get(key) if isinstance(engine, Engine) else None
    if kept is not None and now is not None and not fresh and now - kept[0] < KEEP_REQUEST_COUNTS:
        extension, suspension = kept[1], kept[2]
    else:
        extension = count(*_extensions(area, scope))
        suspension = count(*_suspensions(area, scope))
        if now is not None and isinstance(engine, Engine):
            with _kept_lock:
                _kept.setdefault(engine, {})[key] = (now, extension, suspension)
    return WaitingCounts(extension=extension, suspension=suspension, returned=returned)


def pending_requests(
    session: Session, principal: Principal, city: CityDirectory, unit: str
) -> list[PendingRequest]:
    """Extension and suspension requests on cases of ``unit``'s area that ``principal`` may
    see, oldest request first."""
    area = col(Case.owning_unit).in_(city.subtree(unit))
    scope = access.case_scope(principal, city)
    extensions = select(Case).where(*_extensions(area, scope))
    suspensions = select(Case).where(*_suspensions(area, scope))
    ext_cases = list(session.exec(extensions.order_by(col(Case.id)).limit(MAX_ITEMS)))
    sus_cases = list(session.exec(suspensions.order_by(col(Case.id)).limit(MAX_ITEMS)))
    ext_events = _events(session, [c.id or 0 for c in ext_cases], ("request_extension",))
    sus_events = _events(
        session, [c.id or 0 for c in sus_cases], ("request_suspension", *ANSWERS_SUSPENSION)
    )
    items = [
        _request(c, "extension", latest_request(ext_events.get(c.id or 0, []), "request_extension"))
        for c in ext_cases
    ]
    for case in sus_cases:
        event = pending_suspension(sus_events.get(case.id or 0, []), case.state)
        if event is not None:
            items.append(_request(case, "suspension", event))
    return sorted(items, key=lambda r: r.at.timestamp() if r.at else 0.0)
