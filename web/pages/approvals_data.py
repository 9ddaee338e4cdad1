"""Requests waiting for a dispatcher's decision (延期, 挂起 and 作废申请): which cases have one,
the request itself (who asked, when, why, how long), and how many wait in a scope.

A request waits while the case's ``pending_request`` names its kind: the write path sets it
when the request is asked and clears it when it is decided or lapses
(engine/cases/requests.py). So the navigation's counts and the queue read the requests of a
scope from ``ix_case_pending_request`` (kind, then unit), never each open case or its events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, true
from sqlmodel import Session, col, select

from engine import access
from engine.cases.models import Case, CaseEvent
from engine.cases.requests import BY_ASK, KINDS, decided_request
from engine.city.directory import CityDirectory
from engine.users.models import Principal, Role

REQUEST_KINDS = tuple(KINDS)  # extension, suspension, void: the approvals page's order
ASKS = tuple(BY_ASK)  # the actions that ask
MAX_ITEMS = 200


@dataclass(frozen=True)
class PendingRequest:
    case: Case
    kind: str  # "extension" | "suspension" | "void"
    reason: str
    duration: str | None  # the extension asked for
    actor: str  # the username who asked
    at: datetime | None


def request_of(case: Case, events: list[CaseEvent]) -> PendingRequest | None:
    """The request waiting on ``case`` (its asking event among ``events``, oldest first)."""
    kind = KINDS.get(case.pending_request or "")
    if kind is None:
        return None
    event = next((e for e in reversed(events) if e.action == kind.ask), None)
    data = event.data if event is not None else {}
    return PendingRequest(
        case=case,
        kind=kind.kind,
        reason=str(data.get("reason") or ""),
        duration=case.pending_extension if kind.kind == "extension" else None,
        actor=event.actor if event is not None else "",
        at=event.at if event is not None else None,
    )


def hidden_decision(action: str, case: Case) -> bool:
    """Deciding a request is worth a button only while that request waits (a dispatcher may
    still suspend a case, or void a report before registration, on their own)."""
    kind = decided_request(action, case.state)
    if kind is None or action == "suspend":
        return False
    return case.pending_request != kind.kind


def _asks(session: Session, ids: list[int]) -> dict[int, list[CaseEvent]]:
    if not ids:
        return {}
    query = (
        select(CaseEvent)
        .where(col(CaseEvent.case_id).in_(ids), col(CaseEvent.action).in_(ASKS))
        .order_by(col(CaseEvent.case_id), col(CaseEvent.seq))
    )
    out: dict[int, list[CaseEvent]] = {}
    for event in session.exec(query):
        out.setdefault(event.case_id, []).append(event)
    return out


def _waiting(principal: Principal, city: CityDirectory, unit: str) -> list[ColumnElement[bool]]:
    """Cases of ``unit``'s area with a request waiting that ``principal`` may see: the
    kind first, then the unit (ix_case_pending_request); the whole city needs no unit."""
    area = true() if unit == city.root else col(Case.owning_unit).in_(city.subtree(unit))
    kinds = col(Case.pending_request).in_(REQUEST_KINDS)
    return [kinds, area, access.case_scope(principal, city)]


@dataclass(frozen=True)
class WaitingCounts:
    """How many requests wait for the person's decision in their scope (the navigation)."""

    extension: int = 0  # 延期申请
    suspension: int = 0  # 挂起申请
    void: int = 0  # 作废申请
    returned: int = 0  # 退单 (dispatchers: the returned cases of their command centers)

    @property
    def requests(self) -> int:
        return self.extension + self.suspension + self.void

    @property
    def total(self) -> int:
        return self.requests + self.returned


def waiting_counts(session: Session, principal: Principal, city: CityDirectory) -> WaitingCounts:
    """The requests waiting in ``principal``'s scope, per kind, in one index read
    (ix_case_pending_request), and for a dispatcher the returned cases of their command
    centers (ix_case_queue, index only): cheap enough for every page's navigation."""
    if principal.role not in (Role.dispatcher, Role.supervisor):
        return WaitingCounts()
    unit = principal.scope if principal.scope in city.units else city.root
    kinds = (
        select(Case.pending_request, func.count())
        .where(and_(*_waiting(principal, city, unit)))
        .group_by(col(Case.pending_request))
    )
    counts = {str(kind): int(n) for kind, n in session.exec(kinds)}
    returned = 0
    if principal.role is Role.dispatcher:
        queues = col(Case.dispatch_queue).in_(city.subtree(unit))
        scope = access.case_scope(principal, city)
        query = select(func.count()).select_from(Case)
        query = query.where(Case.state == "returned", queues, scope)
        returned = int(session.exec(query).one())
    return WaitingCounts(
        extension=counts.get("extension", 0),
        suspension=counts.get("suspension", 0),
        void=counts.get("void", 0),
        returned=returned,
    )


def pending_requests(
    session: Session, principal: Principal, city: CityDirectory, unit: str
) -> list[PendingRequest]:
    """The requests waiting on cases of ``unit``'s area that ``principal`` may see, oldest
    request first (at most MAX_ITEMS)."""
    query = select(Case).where(*_waiting(principal, city, unit))
    cases = list(session.exec(query.order_by(col(Case.id)).limit(MAX_ITEMS)))
    asks = _asks(session, [c.id or 0 for c in cases])
    items = [request_of(case, asks.get(case.id or 0, [])) for case in cases]
    found = [item for item in items if item is not None]
    return sorted(found, key=lambda r: r.at.timestamp() if r.at else 0.0)
