"""Who may see which case (scope), and what personal data a role may read.

Role × action permissions come from the workflow definition (each transition lists its
roles); this module adds the scope half: a unit subtree, a department, a grid.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, select, true
from sqlmodel import col

from engine.cases.models import Case, CaseTask
from engine.city.directory import CityDirectory
from engine.users.models import Principal, Role

UNRESTRICTED = {Role.admin, Role.system}
# Roles that call citizens back or route their calls see the contact in full.
CONTACT_ROLES = {Role.operator, Role.dispatcher, Role.admin, Role.system}
# Actions only the lead department (主办) may take; co-handlers act through their task.
LEAD_ONLY = {
    "accept",
    "return",
    "resolve",
    "request_extension",
    "request_suspension",
    "request_void",
}


def can_see(principal: Principal, case: Case, departments: set[str], city: CityDirectory) -> bool:
    """Whether ``principal`` may see ``case``; ``departments`` hold tasks on it."""
    if principal.role in UNRESTRICTED:
        return True
    if principal.scope is None:
        return False
    if principal.role is Role.handler:
        return principal.scope in departments
    return city.is_within(case.owning_unit, principal.scope)


def may_file_at(principal: Principal, unit: str, city: CityDirectory) -> bool:
    """Whether ``principal`` may file a case owned by ``unit``: a unit role within its
    subtree (a grid worker's grid or community, a dispatcher's command center, a gateway
    token scoped to the city), admins and the system anywhere, handlers nowhere."""
    if principal.role in UNRESTRICTED:
        return True
    if principal.scope is None or principal.role is Role.handler:
        return False
    return city.is_within(unit, principal.scope)


def can_act(principal: Principal, case: Case, action: str) -> bool:
    """The scope half of an action check, for a case the principal can already see."""
    if principal.role is Role.handler and action in LEAD_ONLY:
        return case.lead_department == principal.scope
    return True


def handler_department(principal: Principal) -> str | None:
    """The department whose tasks make a handler's scope (None: not a handler, or none)."""
    return principal.scope if principal.role is Role.handler else None


def case_scope(
    principal: Principal, city: CityDirectory, *, narrowed: bool = False
) -> ColumnElement[bool]:
    """A WHERE clause limiting a case query to what ``principal`` may see. A handler's scope
    is the department's tasks: a list walks them (their index drives the query), while a
    ``narrowed`` query, which another index already bounds to a few rows (a case's
    duplicates), checks each row's task by key instead of listing every task the department
    ever had."""
    if principal.role in UNRESTRICTED:
        return true()
    if principal.scope is None:
        return false()
    if principal.role is Role.handler:
        mine = col(CaseTask.department) == principal.scope
        if narrowed:
            return exists().where(col(CaseTask.case_id) == col(Case.id), mine)
        return col(Case.id).in_(select(CaseTask.case_id).where(mine))
    if principal.scope == city.root:
        return true()
    return col(Case.owning_unit).in_(city.subtree(principal.scope))


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.replace(" ", "")
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:]


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"


def sees_contact(principal: Principal) -> bool:
    return principal.role in CONTACT_ROLES
