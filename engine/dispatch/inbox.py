"""A department's inbox (待办箱): the cases dispatched to it as lead department (主办) waiting
to be accepted or being handled, and the open cases it co-handles (协办) with its report still
due. Urgent first, then the longest waiting; keyset-paginated (docs/SEARCH.md).

``due_inbox``: 待签收 and 办理中 due-soonest first, by the due time of the case's open SLA
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
from engine.keyset import Keyset, SortKey, partitioned_ids

OPEN_WORK = ("assigned", "in_progress", "suspended")
URGENT_FIRST = ("urgent", "normal")
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


def inbox(
    session: Session, department: str, section: Section, limit: int, cursor: str | None = None
) -> tuple[list[Case], int]:
    """A page of ``section`` of ``department``'s inbox after ``cursor``, and its size."""
    co_tasks = section is Section.co_tasks
    if co_tasks:
        where = [
            col(CaseTask.department) == department,
            col(CaseTask.lead) == False,  # noqa: E712
            col(CaseTask.done) == False,  # noqa: E712
            col(Case.state).in_(OPEN_WORK),
        ]
    else:
        where = [
            col(Case.lead_department) == department,
            col(Case.state).in_(_LEAD_STATES[section]),
        ]

    def joined(query: Any) -> Any:
        return query.join(CaseTask, col(CaseTask.case_id) == col(Case.id)) if co_tasks else query

    total = session.exec(joined(select(func.count()).select_from(Case)).where(*where)).one()
    if not co_tasks:  # one ordered walk of ix_case_inbox per state × urgency, merged
        partitions = [
            [col(Case.lead_department) == department, col(Case.state) == state]
            for state in _LEAD_STATES[section]
        ]
        ids = partitioned_ids(session, INBOX_ORDER, partitions, URGENT_FIRST, cursor, limit)
        found = {c.id: c for c in session.exec(select(Case).where(col(Case.id).in_(ids)))}
        return [found[i] for i in ids if i in found], total
    after = INBOX_ORDER.after(cursor)
    if after is not None:
        where.append(after)
    page = joined(select(Case)).where(*where).order_by(*INBOX_ORDER.order_by()).limit(limit)
    return list(session.exec(page)), total


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


def due_inbox(
    session: Session,
    runs: Any,
    department: str,
    section: Section,
    limit: int,
    cursor: str | None = None,
    where: Sequence[Any] = (),
    urgent_first: bool = False,
) -> tuple[list[tuple[Case, Any]], int, str | None]:
    """A page of 待签收 or 办理中 of ``department``, due-soonest first: (case, its open run
    or None) pairs, the list's size and the next page's cursor. ``runs`` is the open stage
    runs' table (``engine.views.models.ViewStageLight``: case_id, due_at, paused_at);
    ``where``: more conditions on the case (a list's filters, engine.cases.queries).

    The department's cases of the section come from ``ix_case_inbox`` (lead department,
    state), each joined to its run by the run's primary key; only that section is sorted,
    never the city's open runs."""
    if section is Section.co_tasks:
        raise ValueError("co-handler tasks have no stage run of their own")
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
    open_runs = {r.case_id: r for r in session.exec(select(runs).where(col(runs.case_id).in_(ids)))}
    page = [(found[i], open_runs.get(i)) for i in ids if i in found]
    return page, total, order.next_cursor(rows, limit)
