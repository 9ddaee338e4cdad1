"""Read side of cases: scoped look-ups, filtered lists, audit trails, public views."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import field_validator
from sqlalchemy import bindparam, func
from sqlalchemy.engine import Connection
from sqlmodel import Session, SQLModel, col, select

from engine import access
from engine.cases.models import Case, CaseEvent, CasePublic, CaseTask
from engine.cases.requests import KINDS
from engine.city.directory import CityDirectory
from engine.errors import NotFound
from engine.keyset import Keyset, SortKey
from engine.prepared import Prepared
from engine.users.models import Principal


class CaseFilter(SQLModel):
    state: str | None = None
    channel: str | None = None
    external_id: str | None = None
    category: str | None = None  # a code prefix: "06" is the whole class
    department: str | None = None  # lead department
    unit: str | None = None  # owning unit's subtree
    urgency: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    q: str | None = None  # text in the description or address
    pending_request: str | None = None  # a request waiting for a decision (requests.KINDS)

    @field_validator("pending_request")
    @classmethod
    def _a_request_kind(cls, value: str | None) -> str | None:
        if value is not None and value not in KINDS:
            raise ValueError(f"one of {', '.join(KINDS)}")
        return value


def get_visible(session: Session, principal: Principal, case_id: int, city: CityDirectory) -> Case:
    case = session.get(Case, case_id)
    if case is None or not access.can_see(principal, case, departments_of(session, case_id), city):
        raise NotFound(f"case {case_id} not found")
    return case


def departments_of(session: Session, case_id: int) -> set[str]:
    return set(session.exec(select(CaseTask.department).where(CaseTask.case_id == case_id)))


_TASKS = CaseTask.__table__  # type: ignore[attr-defined]
_CO_HANDLERS = (
    select(_TASKS.c.case_id, _TASKS.c.department)
    .where(
        _TASKS.c.case_id.in_(bindparam("case_ids", expanding=True)),
        _TASKS.c.lead == False,  # noqa: E712
    )
    .order_by(_TASKS.c.id)
)
_CO_HANDLERS_OF_ONE = Prepared(
    select(_TASKS.c.department)
    .where(_TASKS.c.case_id == bindparam("case_id"), _TASKS.c.lead == False)  # noqa: E712
    .order_by(_TASKS.c.id)
)


def co_handlers(session: Session, case_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if case_ids:
        rows = session.connection().execute(_CO_HANDLERS, {"case_ids": case_ids})
        for case_id, department in rows:
            found[case_id].append(department)
    return found


# Newest first; a cursor continues below the last id shown (docs/SEARCH.md).
NEWEST_FIRST = Keyset("cases", (SortKey("id", col(Case.id), descending=True),))
# A handler's cases are those their department has a task on: the list walks the tasks'
# (department, case_id) index newest first and joins each case, so a page costs its own
# rows, not the department's whole history (an IN over it would be read in full first).
HANDLER_NEWEST_FIRST = Keyset("cases", (SortKey("id", col(CaseTask.case_id), descending=True),))
# Lists count their rows up to this many and say "more" beyond ("1000+"): a count over a
# million rows would cost many times the page itself.
COUNT_LIMIT = 1_000


def list_cases(
    session: Session,
    principal: Principal,
    city: CityDirectory,
    filters: CaseFilter,
    limit: int,
    offset: int = 0,
    *,
    cursor: str | None = None,
    where: Sequence[Any] = (),
) -> tuple[list[Case], int]:
    """A page of the cases ``principal`` may see that match ``filters`` and ``where`` (the
    search's conditions), newest first, after ``cursor`` or ``offset`` rows; and how many
    match, counted up to ``COUNT_LIMIT + 1``."""
    conditions = [*filter_conditions(filters, city), *where]
    department = access.handler_department(principal)
    # Requests waiting for a decision are few: ix_case_pending_request finds them, and a
    # handler's scope is checked on each by its task's key rather than by walking every task
    # the department ever had (at a million cases, 110 ms to find none).
    rare = filters.pending_request is not None
    if department is None or rare:
        base = select(Case).where(access.case_scope(principal, city, narrowed=rare))
        order = NEWEST_FIRST
    else:
        base = (
            select(Case)
            .join(CaseTask, col(CaseTask.case_id) == col(Case.id))
            .where(CaseTask.department == department)
        )
        order = HANDLER_NEWEST_FIRST
    total = count_capped(session, base.with_only_columns(col(Case.id)).where(*conditions))
    after = order.after(cursor)
    if after is not None:
        conditions.append(after)
    query = base.where(*conditions).order_by(*order.order_by()).limit(limit)
    return list(session.exec(query.offset(offset) if offset else query)), total


def count_capped(session: Session, ids: Any) -> int:
    """How many case ids the ``ids`` query finds, counted no further than ``COUNT_LIMIT + 1``."""
    matching = ids.limit(COUNT_LIMIT + 1).subquery()
    return session.exec(select(func.count()).select_from(matching)).one()


def filter_conditions(filters: CaseFilter, city: CityDirectory) -> list[Any]:
    """The WHERE conditions of ``filters`` (the lists' filters, also the inbox's)."""
    where: list[Any] = []
    for name in ("state", "channel", "urgency", "external_id", "pending_request"):
        value = getattr(filters, name)
        if value is not None:
            where.append(getattr(Case, name) == value)
    if filters.category:
        where.append(col(Case.category).startswith(filters.category))
    if filters.department:
        where.append(col(Case.lead_department) == filters.department)
    if filters.unit:
        where.append(col(Case.owning_unit).in_(city.subtree(filters.unit)))
    if filters.created_after:
        where.append(col(Case.created_at) >= filters.created_after)
    if filters.created_before:
        where.append(col(Case.created_at) < filters.created_before)
    if filters.q:  # the pages' plain text filter; the API searches through engine.search
        pattern = f"%{filters.q}%"
        where.append(col(Case.description).like(pattern) | col(Case.address).like(pattern))
    return where


def events(session: Session, case_id: int) -> list[CaseEvent]:
    query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.seq))
    return list(session.exec(query))


def present(case: Case, principal: Principal, co: list[str], allowed: list[str]) -> CasePublic:
    """The case as ``principal`` may see it: contact details masked unless their role needs them."""
    view = CasePublic.model_validate(case, update={"co_handlers": co, "allowed_actions": allowed})
    if not access.sees_contact(principal):
        view.reporter_phone = access.mask_phone(view.reporter_phone)
        view.reporter_name = access.mask_name(view.reporter_name)
    return view


def public_view(
    session: Session, principal: Principal, case: Case, allowed: list[str]
) -> CasePublic:
    """``present`` with the case's co-handlers read from its tasks."""
    return public_view_on(session.connection(), principal, case, allowed)


def public_view_on(
    connection: Connection, principal: Principal, case: Case, allowed: list[str]
) -> CasePublic:
    """``public_view`` on a Core connection (no ORM session: what a write route answers
    with after its transaction, web/api/cases.py)."""
    assert case.id is not None
    co = []
    if case.lead_department:
        found = _CO_HANDLERS_OF_ONE.all(connection, {"case_id": case.id})
        co = [row["department"] for row in found]
    return present(case, principal, co, allowed)
