"""A department's inbox (待办箱): the cases dispatched to it as lead department (主办) waiting
to be accepted or being handled, and the open cases it co-handles (协办) with its report still
due. Urgent first, then the longest waiting; keyset-paginated (docs/SEARCH.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import func
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
