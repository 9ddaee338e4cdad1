"""What each action does to a case's own fields, beyond moving its state.

Each effect mutates the (detached) case and its tasks inside the case service's transaction
and returns extra facts for the audit event (e.g. the department a redispatch moved from).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete
from sqlmodel import Session, select

from engine import rowbuffer
from engine.cases.models import Case, CaseTask
from engine.city.directory import CityDirectory
from engine.city.models import Department, Unit
from engine.dispatch.effects import co_report, record_dispatch, record_queue, require_co_reports
from engine.errors import Conflict, InvalidInput
from engine.review.effects import rework_limit
from engine.sla import ladder
from engine.users.models import Principal


@dataclass
class EffectContext:
    session: Session
    case: Case
    data: dict[str, Any]
    now: datetime
    principal: Principal | None = None  # who acts (None: not known to the caller)
    city: CityDirectory | None = None  # the units' tiers and parents (None: read the table)

    def unit(self, code: str) -> Unit | None:
        """A unit of the city, from the loaded directory when there is one."""
        if self.city is not None:
            return self.city.units.get(code)
        return self.session.get(Unit, code)


Effect = Callable[[EffectContext], dict[str, Any]]
TASKS = CaseTask.__table__  # type: ignore[attr-defined]


def _add_task(session: Session, case_id: int, department: str, lead: bool) -> None:
    row = {"case_id": case_id, "department": department, "lead": lead, "done": False}
    rowbuffer.add(session, TASKS, row)


def _replace_tasks(session: Session, case_id: int) -> None:
    """Forget the case's tasks: those waiting to be written, and the stored ones."""
    rowbuffer.discard(session, TASKS, case_id, lambda row: True)
    if not rowbuffer.is_unwritten(session, case_id):
        session.execute(delete(TASKS).where(TASKS.c.case_id == case_id))


def _assign(ctx: EffectContext) -> dict[str, Any]:
    case, data = ctx.case, ctx.data
    previous = case.lead_department
    case.lead_department = data["department"]
    co = [d for d in data.get("co_handlers", []) if d != case.lead_department]
    assert case.id is not None
    _replace_tasks(ctx.session, case.id)
    _add_task(ctx.session, case.id, case.lead_department, lead=True)
    for department in co:
        _add_task(ctx.session, case.id, department, lead=False)
    if "limits" in data:
        case.sla_limits = data["limits"]
    if "urgency" in data:
        case.urgency = data["urgency"]
    facts: dict[str, Any] = {"co_handlers": co}
    if previous and previous != case.lead_department:
        facts["from_department"] = previous
    return facts


def _resolve(ctx: EffectContext) -> dict[str, Any]:
    ctx.case.resolution = ctx.data["result"]
    return {}


def _dispatch(ctx: EffectContext) -> dict[str, Any]:
    return _assign(ctx) | record_dispatch(ctx)


def _resolve_lead(ctx: EffectContext) -> dict[str, Any]:
    require_co_reports(ctx)  # every co-handler (协办) reports before the lead resolves
    return _resolve(ctx)


def _merge(ctx: EffectContext) -> dict[str, Any]:
    master_id = ctx.data["master_id"]
    if master_id == ctx.case.id:
        raise InvalidInput("master_id", "a case cannot be merged into itself")
    master = ctx.session.get(Case, master_id)
    if master is None:
        raise InvalidInput("master_id", f"case {master_id} does not exist")
    if master.state in ("closed", "voided", "merged"):
        raise InvalidInput("master_id", f"case {master_id} is {master.state}")
    ctx.case.merged_into = master_id
    return {}


def _request_extension(ctx: EffectContext) -> dict[str, Any]:
    if ctx.case.pending_extension:
        raise Conflict(f"an extension of {ctx.case.pending_extension} is already pending")
    ctx.case.pending_extension = ctx.data["duration"]
    return {}


def _decide_extension(ctx: EffectContext) -> dict[str, Any]:
    pending = ctx.case.pending_extension
    if not pending:
        raise Conflict("no extension request is pending")
    ctx.case.pending_extension = None
    return {"duration": pending}


def _alert(ctx: EffectContext) -> dict[str, Any]:
    ctx.case.alert_count += 1
    if "snapshot" in ctx.data:
        ctx.case.latest_snapshot = ctx.data["snapshot"]
    return {"alert_count": ctx.case.alert_count}


def _escalate(ctx: EffectContext) -> dict[str, Any]:
    """督办: a command center supervises the case; the card never gets milder."""
    case, data = ctx.case, ctx.data

    unit = ctx.unit
    previous = case.supervision_unit
    target = data.get("unit") or _supervisor_for(ctx, unit, data.get("tier"))
    found = unit(target)
    if found is None or found.tier not in ladder.COMMAND_TIERS:
        raise InvalidInput("unit", f"{target!r} is not a command center (city, district, street)")
    if previous is not None and ladder.tier_rank(target, unit) > ladder.tier_rank(previous, unit):
        raise InvalidInput("unit", f"case {case.id} is already supervised by {previous}, higher up")
    card = data.get("card") or ("red" if previous else "yellow")
    case.supervision_unit, case.card = target, ladder.stronger_card(case.card, card)
    return {"unit": target, "card": case.card, "tier": str(found.tier), "from_unit": previous}


def _supervisor_for(ctx: EffectContext, unit: ladder.UnitLookup, tier: str | None) -> str:
    case = ctx.case
    if tier is not None:
        for code in _chain(case.owning_unit, unit):
            if str(unit(code).tier) == tier:  # type: ignore[union-attr]
                return code
        raise InvalidInput("tier", f"no {tier} above unit {case.owning_unit}")
    if case.supervision_unit is not None:
        return ladder.command_center_above(case.supervision_unit, unit)
    department = ctx.session.get(Department, case.lead_department) if case.lead_department else None
    owner = ladder.owner_unit(department.unit if department else None, case.owning_unit, unit)
    return ladder.command_center_above(owner, unit)


def _chain(code: str, unit: ladder.UnitLookup) -> list[str]:
    chain, current = [], unit(code)
    while current is not None:
        chain.append(current.code)
        current = unit(current.parent) if current.parent else None
    return chain


def _summon(ctx: EffectContext) -> dict[str, Any]:
    """吹哨报到: the summoned departments join the case as co-handlers (协办)."""
    present = task_departments(ctx.session, ctx.case.id or 0)
    added = [d for d in ctx.data["departments"] if d not in present]
    for department in added:
        _add_task(ctx.session, ctx.case.id or 0, department, lead=False)
    return {"added": added}


def _flag_duplicate(ctx: EffectContext) -> dict[str, Any]:
    master_id = ctx.data["master_id"]
    if master_id == ctx.case.id:
        raise InvalidInput("master_id", "a case cannot duplicate itself")
    ctx.case.duplicate_of = master_id
    return {}


EFFECTS: dict[str, Effect] = {
    "alert": _alert,
    "flag_duplicate": _flag_duplicate,
    "dispatch": _dispatch,
    "redispatch": _dispatch,
    "queue": record_queue,
    "co_report": co_report,
    "resolve": _resolve_lead,
    "self_handle": _resolve,
    "merge": _merge,
    "request_extension": _request_extension,
    "approve_extension": _decide_extension,
    "reject_extension": _decide_extension,
    "escalate": _escalate,
    "summon": _summon,
    "rework": rework_limit,
    "verify": rework_limit,  # a failing 核查 reworks the case
}


def apply_effects(ctx: EffectContext, action: str) -> dict[str, Any]:
    effect = EFFECTS.get(action)
    return effect(ctx) if effect else {}


_DEPARTMENTS = select(TASKS.c.department).where(TASKS.c.case_id == bindparam("case_id"))


def task_departments(session: Session, case_id: int) -> set[str]:
    rowbuffer.flush(session, TASKS)  # a task added in this transaction counts
    return set(session.connection().execute(_DEPARTMENTS, {"case_id": case_id}).scalars())
