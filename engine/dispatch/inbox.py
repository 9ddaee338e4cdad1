"""A department's inbox (待办箱): the cases dispatched to it as lead department (主办) waiting
to be accepted or being handled, and the open cases it co-handles (协办) with its report still
due; keyset-paginated (docs/SEARCH.md). :func:`section_page` serves each list to the page
and the API.

待签收 and 办理中 come due-soonest first, by the due time of the case's open SLA
stage run (the read model ``view_stage_light``, which the caller hands in: the read models
sit above dispatch in the layers). Running clocks first, then paused ones (挂起: their time
does not run), then cases without a clock, longest waiting first; keyset pages on
(that group, due time, case id). Filtered (category, channel, urgency) it keeps that order;
``urgent_first`` puts the urgent cases before the others, each due-soonest first (the API)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from engine.cases.models import Case, CaseTask
from engine.keyset import Keyset, SortKey

OPEN_WORK = ("assigned", "in_progress", "suspended")
INBOX_ORDER = Keyset(
    "inbox",
    (
        SortKey("urgency", col(Case.urgency), descending=True),  # "urgent" > "normal"
        SortKey("updated_at", col(Case.updated_at)),
        SortKey("id", col(Case.id)),
    ),
)


class Section(StrEnum):
    to_accept = "to_accept"  # 待签收
    in_progress = "in_progress"  # 办理中 and 挂起
    co_tasks = "co_tasks"  # 协办: our report still due


_LEAD_STATES = {Section.to_accept: ("assigned",), Section.in_progress: ("in_progress", "suspended")}


def co_tasks(
    session: Session, department: str, limit: int, cursor: str | None = None
) -> tuple[list[Case], int]:
    """A page of the open cases ``department`` co-handles with its report still due (协办),
    urgent first, then the longest waiting, after ``cursor``; and how many there are."""
    where = [
        col(CaseTask.department) == department,
        col(CaseTask.lead) == False,  # noqa: E712
        col(CaseTask.done) == False,  # noqa: E712
        col(Case.state).in_(OPEN_WORK),
    ]
    joined = col(CaseTask.case_id) == col(Case.id)
    counted = select(func.count()).select_from(Case).join(CaseTask, joined)
    total = session.exec(counted.where(*where)).one()
    after = INBOX_ORDER.after(cursor)
    if after is not None:
        where.append(after)
    page = select(Case).join(CaseTask, joined).where(*where).order_by(*INBOX_ORDER.order_by())
    return list(session.exec(page.limit(limit))), total


def due_order(runs: Any, urgent_first: bool = False) -> Keyset:
    """The due-soonest order over ``case`` LEFT JOIN ``runs``: running, paused, no clock
    (``urgent_first``: the urgent cases in that order, then the others)."""
    due_at, paused_at = col(runs.due_at), col(runs.paused_at)
    group = case((due_at.is_(None), 2), (paused_at.is_not(None), 1), else_=0)
    due = func.coalesce(due_at, col(Case.updated_at))
    keys = (SortKey("group", group), SortKey("due_at", due), SortKey("id", col(Case.id)))
    if urgent_first:
        urgent = SortKey("urgency", col(Case.urgency), descending=True)  # "urgent" > "normal"
        return Keyset("inbox-urgent-due", (urgent, *keys))
    return Keyset("inbox-due", keys)


def section_page(
    session: Session,
    runs: Any,
    department: str,
    section: Section,
    limit: int,
    cursor: str | None = None,
    where: Sequence[Any] = (),
    urgent_first: bool = False,
) -> tuple[list[Case], int, str | None]:
    """One list of ``department``'s inbox, for the page and the API alike: a page of it, how
    many there are, the next page's cursor. 协办 comes urgent first, then the longest waiting
    (:func:`co_tasks`); 待签收 and 办理中 due-soonest first, filtered by ``where`` (more
    conditions on the case: a list's filters, engine.cases.queries). ``runs`` is the open
    stage runs' table (``engine.views.models.ViewStageLight``: case_id, due_at, paused_at).

    The department's cases of the section come from ``ix_case_inbox`` (lead department,
    state), each joined to its run by the run's primary key; only that section is sorted,
    never the city's open runs."""
    if section is Section.co_tasks:
        cases, total = co_tasks(session, department, limit, cursor)
        return cases, total, INBOX_ORDER.next_cursor(cases, limit)
    order = due_order(runs, urgent_first)
    states = col(Case.state).in_(_LEAD_STATES[section])
    where = [col(Case.lead_department) == department, states, *where]
    total = session.exec(select(func.count()).select_from(Case).where(*where)).one()
    after = order.after(cursor)
    if after is not None:
        where.append(after)
    keys = [key.column.label(key.name) for key in order.keys]
    query = (
        select(*keys)
        .select_from(Case)
        .outerjoin(runs, col(runs.case_id) == col(Case.id))
        .where(*where)
        .order_by(*order.order_by())
        .limit(limit)
    )
    rows = session.exec(query).all()
    ids = [row.id for row in rows]
    found = {c.id: c for c in session.exec(select(Case).where(col(Case.id).in_(ids)))}
    return [found[i] for i in ids if i in found], total, order.next_cursor(rows, limit)
