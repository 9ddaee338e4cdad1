"""What each action does to a case's own fields, beyond moving its state.

Each effect mutates the (detached) case and its tasks inside the case service's transaction
and returns extra facts for the audit event (e.g. the department a redispatch moved from).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, delete, select

from engine.cases.models import Case, CaseTask
from engine.errors import Conflict, InvalidInput


@dataclass
class EffectContext:
    session: Session
    case: Case
    data: dict[str, Any]
    now: datetime


Effect = Callable[[EffectContext], dict[str, Any]]


def _assign(ctx: EffectContext) -> dict[str, Any]:
    case, data = ctx.case, ctx.data
    previous = case.lead_department
    case.lead_department = data["department"]
    co = [d for d in data.get("co_handlers", []) if d != case.lead_department]
    ctx.session.exec(delete(CaseTask).where(CaseTask.case_id == case.id))
    ctx.session.add(CaseTask(case_id=case.id, department=case.lead_department, lead=True))
    for department in co:
        ctx.session.add(CaseTask(case_id=case.id, department=department, lead=False))
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


def _flag_duplicate(ctx: EffectContext) -> dict[str, Any]:
    master_id = ctx.data["master_id"]
    if master_id == ctx.case.id:
        raise InvalidInput("master_id", "a case cannot duplicate itself")
    ctx.case.duplicate_of = master_id
    return {}


EFFECTS: dict[str, Effect] = {
    "alert": _alert,
    "flag_duplicate": _flag_duplicate,
    "dispatch": _assign,
    "redispatch": _assign,
    "resolve": _resolve,
    "self_handle": _resolve,
    "merge": _merge,
    "request_extension": _request_extension,
    "approve_extension": _decide_extension,
    "reject_extension": _decide_extension,
}


def apply_effects(ctx: EffectContext, action: str) -> dict[str, Any]:
    effect = EFFECTS.get(action)
    return effect(ctx) if effect else {}


def task_departments(session: Session, case_id: int) -> set[str]:
    return set(session.exec(select(CaseTask.department).where(CaseTask.case_id == case_id)))
