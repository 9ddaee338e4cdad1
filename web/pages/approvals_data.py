"""Requests waiting for a dispatcher's decision (延期 and 挂起申请): which cases have one, the
request itself (who asked, when, why, how long), and whether a case has one pending.

An extension request is pending while the case's ``pending_extension`` is set (the engine
clears it on approve or reject). A suspension request is pending while the case is still
being handled and nothing answered it since: no suspension, no rejection
(``reject_suspension``), no result, return or new assignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from engine import access
from engine.cases.models import Case, CaseEvent
from engine.city.directory import CityDirectory
from engine.users.models import Principal

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


def pending_requests(
    session: Session, principal: Principal, city: CityDirectory, unit: str
) -> list[PendingRequest]:
    """Extension and suspension requests on cases of ``unit``'s area that ``principal`` may
    see, oldest request first."""
    area = col(Case.owning_unit).in_(city.subtree(unit))
    scope = access.case_scope(principal, city)
    extensions = select(Case).where(
        col(Case.pending_extension).is_not(None),
        col(Case.state).in_(EXTENSION_STATES),
        area,
        scope,
    )
    asked = select(CaseEvent.case_id).where(CaseEvent.action == "request_suspension")
    suspensions = select(Case).where(
        Case.state == "in_progress", col(Case.id).in_(asked), area, scope
    )
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
