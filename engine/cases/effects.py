"""What each action does to a case's own fields, beyond moving its state.

Each effect mutates the (detached) case and its tasks inside the case service's transaction
and returns extra facts for the audit event (e.g. the department a redispatch moved from).
The core's effects are here (the requests' in ``engine.cases.requests``); plugins (dispatch,
review, SLA supervision) register theirs on the same ``ActionEffects`` table through their
hook's ``register_effects``, so this module imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete
from sqlmodel import Session, select

from engine import rowbuffer
from engine.cases import requests
from engine.cases.models import Case, CaseTask
from engine.city.directory import CityDirectory
from engine.city.models import Unit
from engine.errors import InvalidInput
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


# An effect returns facts for the audit event; a check that only refuses returns None.
Effect = Callable[[EffectContext], dict[str, Any] | None]
TASKS = CaseTask.__table__  # type: ignore[attr-defined]


def _add_task(session: Session, case_id: int, department: str, lead: bool) -> None:
    row = {"case_id": case_id, "department": department, "lead": lead, "done": False}
    rowbuffer.add(session, TASKS, row)


def _replace_tasks(session: Session, case_id: int) -> None:
    """Forget the case's tasks: those waiting to be written, and the stored ones."""
    rowbuffer.discard(session, TASKS, case_id, lambda row: True)
    if not rowbuffer.is_unwritten(session, case_id):
        session.execute(delete(TASKS).where(TASKS.c.case_id == case_id))


def assign(ctx: EffectContext) -> dict[str, Any]:
    """The lead department (and co-handlers, limits, urgency) the action names."""
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


def resolve(ctx: EffectContext) -> dict[str, Any]:
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


def _alert(ctx: EffectContext) -> dict[str, Any]:
    ctx.case.alert_count += 1
    if "snapshot" in ctx.data:
        ctx.case.latest_snapshot = ctx.data["snapshot"]
    return {"alert_count": ctx.case.alert_count}


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


CORE: dict[str, Effect] = {
    "alert": _alert,
    "flag_duplicate": _flag_duplicate,
    "dispatch": assign,
    "redispatch": assign,
    "resolve": resolve,
    "self_handle": resolve,
    "merge": _merge,
    **requests.EFFECTS,  # 延期, 挂起 and 作废 requests and their decisions
    "summon": _summon,
}


class ActionEffects:
    """Per action, the effects that run, in order: the core's, then each plugin's as it
    registered them (a check registered ``first`` runs before the others)."""

    def __init__(self, effects: Mapping[str, Effect] = CORE) -> None:
        self._by_action: dict[str, list[Effect]] = {}
        self.add(effects)

    def register(self, action: str, effect: Effect, *, first: bool = False) -> None:
        chain = self._by_action.setdefault(action, [])
        chain.insert(0, effect) if first else chain.append(effect)

    def add(self, effects: Mapping[str, Effect]) -> None:
        for action, effect in effects.items():
            self.register(action, effect)

    def actions(self) -> set[str]:
        return set(self._by_action)

    def apply(self, ctx: EffectContext, action: str) -> dict[str, Any]:
        facts: dict[str, Any] = {}
        for effect in self._by_action.get(action, ()):
            facts |= effect(ctx) or {}
        return facts


def apply_effects(ctx: EffectContext, action: str, effects: ActionEffects) -> dict[str, Any]:
    """Run the action's effects on the case; the facts they add to its audit event."""
    return effects.apply(ctx, action)


_DEPARTMENTS = select(TASKS.c.department).where(TASKS.c.case_id == bindparam("case_id"))


def task_departments(session: Session, case_id: int) -> set[str]:
    rowbuffer.flush(session, TASKS)  # a task added in this transaction counts
    return set(session.connection().execute(_DEPARTMENTS, {"case_id": case_id}).scalars())
