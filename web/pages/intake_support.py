"""The operator's helpers: likely duplicates of a call before it is saved. (The text
router's category suggestions come from the shared ``AppContext.router``.)"""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, col, select

from engine import access
from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.users.models import Principal

FINAL = ("closed", "voided", "merged")


def likely_duplicates(
    session: Session,
    principal: Principal,
    city: CityDirectory,
    category: str | None,
    grid_code: str | None,
    phone: str | None,
    limit: int = 5,
) -> list[Case]:
    """Open cases the operator may see: the same category in the same grid, or the same
    caller's phone; newest first."""
    same = []
    if category and grid_code:
        same.append((col(Case.category) == category) & (col(Case.owning_unit) == grid_code))
    if phone:
        same.append(col(Case.reporter_phone) == phone)
    if not same:
        return []
    query = (
        select(Case)
        .where(or_(*same), col(Case.state).not_in(FINAL), access.case_scope(principal, city))
        .order_by(col(Case.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))
