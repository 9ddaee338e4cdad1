"""The manual dispatch queue (待派遣) of a command center: cases waiting for a person, with
the rule's suggestion and, when the text router was asked and was not sure enough, its top 3
(from the case's dispatch decision record)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from engine.cases.models import Case, CaseEvent, Channel
from engine.city.directory import CityDirectory
from engine.dispatch.centers import COMMAND_TIERS
from engine.dispatch.models import DispatchDecisionRecord
from engine.errors import InvalidInput
from engine.keyset import Keyset, SortKey, partitioned_ids

QUEUE_STATES = ("dispatching", "returned")
# Urgent first, then the longest waiting. "urgent" sorts after "normal", so urgency
# descending is urgent first (tests/test_dispatch_queue.py holds a new level to that).
URGENT_FIRST = ("urgent", "normal")
QUEUE_ORDER = Keyset(
    "queue",
    (
        SortKey("urgency", col(Case.urgency), descending=True),
        SortKey("queued_at", col(Case.queued_at)),
        SortKey("id", col(Case.id)),
    ),
)
# The dispatcher's other order: urgent first, then the latest to arrive (the same index,
# walked backwards).
NEWEST_ORDER = Keyset(
    "queue-newest",
    (
        SortKey("urgency", col(Case.urgency), descending=True),
        SortKey("queued_at", col(Case.queued_at), descending=True),
        SortKey("id", col(Case.id), descending=True),
    ),
)
QUEUE_ORDERS = {"waiting": QUEUE_ORDER, "newest": NEWEST_ORDER}  # the sort choices, by name


@dataclass(frozen=True)
class RouterAdvice:
    """The text router's answer for a queued case: its top 3 (label, confidence), best first."""

    target: str  # "department" or "category": what the labels are
    candidates: list[tuple[str, float]]
    confidence: float | None  # of the best guess
    threshold: float | None  # the auto-dispatch threshold it fell short of
    model_version: str | None

    @classmethod
    def of(cls, record: DispatchDecisionRecord) -> RouterAdvice | None:
        if record.source != "router" or not record.candidates:
            return None
        ranked = [(str(c.get("label")), float(c.get("confidence") or 0)) for c in record.candidates]
        return cls(
            target=record.router_target or "department",
            candidates=ranked,
            confidence=record.confidence,
            threshold=record.threshold,
            model_version=record.model_version,
        )


@dataclass(frozen=True)
class QueueFilter:
    """What the dispatcher narrows the queue to. Each condition is checked on the rows of the
    ordered walk of ix_case_queue (state, dispatch_queue, urgency, queued_at): ``waited_before``
    bounds that index's last column; the others are checked on the rows the walk reaches,
    which stops at the page's limit. A filter few queued cases meet (and the total) reads the
    scope's whole queue, never the closed history."""

    categories: tuple[str, ...] = ()  # the category codes (a class is all of its codes)
    channel: str | None = None
    suggested: str | None = None  # the department the latest dispatch decision suggested
    waited_before: datetime | None = None  # queued at or before this time
    returned_only: bool = False  # the returns (退单) waiting for a decision, nothing else

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.returned_only:
            where.append(col(Case.state) == "returned")
        # The category and the channel are compared as expressions (coalesce(column, '')): no
        # index serves them. Given statistics, a planner would otherwise answer the count from
        # the category's or the channel's own index, i.e. every such case ever filed, instead of
        # the queue's rows (tests/test_search_explain.py; measured at 300k cases).
        if self.categories:
            where.append(_unindexed(Case.category).in_(self.categories))
        if self.channel:
            where.append(_unindexed(Case.channel) == self.channel)
        if self.waited_before is not None:
            where.append(col(Case.queued_at) <= self.waited_before)
        if self.suggested:
            where.append(_suggested(self.suggested))
        return where

    @classmethod
    def checked(
        cls,
        city: CityDirectory,
        *,
        category: str | None = None,
        channel: str | None = None,
        suggested: str | None = None,
        waited_before: datetime | None = None,
    ) -> QueueFilter:
        """The filter of these values; one the city does not know is bad input naming it."""
        codes: tuple[str, ...] = ()
        if category:
            codes = tuple(sorted(c for c in city.categories if c.startswith(category)))
            if not codes or len(category) not in (2, len(codes[0])):
                raise InvalidInput("category", f"no category or class {category!r}")
        if channel and channel not in {c.value for c in Channel}:
            raise InvalidInput("channel", f"unknown channel {channel!r}")
        if suggested and suggested not in city.departments:
            raise InvalidInput("suggested", f"unknown department {suggested!r}")
        return cls(codes, channel or None, suggested or None, waited_before)

    @property
    def active(self) -> bool:
        return self != NO_FILTER


def _unindexed(column: Any) -> ColumnElement[str]:
    return func.coalesce(col(column), "")


def _suggested(department: str) -> ColumnElement[bool]:
    """The case's latest dispatch decision names ``department`` (two look-ups of the
    decision's case_id index per case reached)."""
    decision, later = aliased(DispatchDecisionRecord), aliased(DispatchDecisionRecord)
    latest = (
        select(func.max(later.id))
        .where(later.case_id == col(Case.id))
        .correlate(Case)
        .scalar_subquery()
    )
    return exists().where(decision.id == latest, decision.department == department)


NO_FILTER = QueueFilter()


@dataclass
class QueueItem:
    case: Case
    suggestion: str | None  # the rule row's department, when it named one
    rule: str | None
    reason: str | None  # why it is in the queue (the queue action's reason)
    return_reason: str | None = None  # for returned cases: the department's reason
    returned_by: str | None = None  # … and that department
    returned_at: datetime | None = None
    router: RouterAdvice | None = None  # the text router's top 3, when it was asked


def manual_queue(
    session: Session,
    city: CityDirectory,
    unit: str,
    limit: int,
    offset: int = 0,
    *,
    cursor: str | None = None,
    only: QueueFilter = NO_FILTER,
    order: Keyset = QUEUE_ORDER,
) -> tuple[list[QueueItem], int]:
    """Cases in ``dispatching`` or ``returned`` queued at ``unit``'s command center or any
    below it, narrowed by ``only``; urgent first, then the longest waiting (``order``
    QUEUE_ORDER) or the latest to arrive (NEWEST_ORDER); after ``cursor`` or ``offset``."""
    where = [
        col(Case.state).in_(QUEUE_STATES),
        col(Case.dispatch_queue).in_(city.subtree(unit)),
        *only.conditions(),
    ]
    total = session.exec(select(func.count()).select_from(Case).where(*where)).one()
    if offset:
        query = select(Case).where(*where).order_by(*order.order_by())
        cases = list(session.exec(query.limit(limit).offset(offset)))
    else:
        cases = _page(session, city, unit, limit, cursor, only, order)
    ids = [c.id for c in cases if c.id is not None]
    decisions = _latest_decisions(session, ids)
    returns = _latest_returns(session, [c.id for c in cases if c.state == "returned" and c.id])
    items = []
    for case in cases:
        decision = decisions.get(case.id or 0)
        item = QueueItem(
            case,
            suggestion=decision.department if decision else None,
            rule=decision.rule_id if decision else case.dispatch_rule,
            reason=decision.reason if decision else None,
            router=RouterAdvice.of(decision) if decision else None,
        )
        returned = returns.get(case.id or 0)
        if returned is not None:
            item.return_reason = returned.data.get("reason")
            item.returned_by = returned.data.get("department") or case.lead_department
            item.returned_at = returned.at
        items.append(item)
    return items, total


def _page(
    session: Session,
    city: CityDirectory,
    unit: str,
    limit: int,
    cursor: str | None,
    only: QueueFilter,
    order: Keyset,
) -> list[Case]:
    """One ordered index walk (ix_case_queue) per command center × state × urgency,
    merged: a page costs the same however long the queue."""
    centers = [
        code
        for code in city.subtree(unit)
        if city.units[code].tier in COMMAND_TIERS or city.units[code].parent is None
    ]
    partitions = [
        [col(Case.state) == state, col(Case.dispatch_queue) == center, *only.conditions()]
        for center in centers
        for state in QUEUE_STATES
    ]
    ids = partitioned_ids(session, order, partitions, URGENT_FIRST, cursor, limit)
    found = {c.id: c for c in session.exec(select(Case).where(col(Case.id).in_(ids)))}
    return [found[i] for i in ids if i in found]


def _latest_decisions(session: Session, ids: list[int]) -> dict[int, DispatchDecisionRecord]:
    if not ids:
        return {}
    query = (
        select(DispatchDecisionRecord)
        .where(col(DispatchDecisionRecord.case_id).in_(ids))
        .order_by(col(DispatchDecisionRecord.id))
    )
    return {d.case_id: d for d in session.exec(query)}


def _latest_returns(session: Session, ids: list[int]) -> dict[int, CaseEvent]:
    if not ids:
        return {}
    query = (
        select(CaseEvent)
        .where(col(CaseEvent.case_id).in_(ids), CaseEvent.action == "return")
        .order_by(col(CaseEvent.seq))
    )
    return {e.case_id: e for e in session.exec(query)}
