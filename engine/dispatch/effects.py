"""What the dispatch actions record on a case, registered on the case core's ``ActionEffects``
(``register``, from ``DispatchHook.register_effects``).

* dispatch / redispatch: who chose the department (``dispatch_source``: "rule" for the
  rule hook, "router" for the text router, "person" for a dispatcher), the rule and
  table version of a rule decision, and ``dispatch_queue``, the command center a return
  goes back to (the hook's choice for a rule, the dispatcher's own command center).
* queue: the command center whose manual queue gets the case.
* co_report: a co-handler (协办) department reports its part; the lead's ``resolve`` is
  refused until every co-handler has reported.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, true, update

from engine import rowbuffer
from engine.cases.effects import ActionEffects, EffectContext
from engine.cases.models import CaseTask
from engine.city.models import Department
from engine.dispatch.centers import (
    COMMAND_TIERS,
    UnitLookup,
    center_at,
    command_center,
    return_center,
)
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.prepared import Prepared
from engine.users.models import Role

TASKS = CaseTask.__table__  # type: ignore[attr-defined]


def _unit(ctx: EffectContext) -> UnitLookup:
    return ctx.unit


def _by_person(ctx: EffectContext) -> bool:
    return ctx.principal is not None and ctx.principal.role is not Role.system


def record_dispatch(ctx: EffectContext) -> dict[str, Any]:
    """After the department is assigned: record who chose it and where returns go."""
    case, data, unit = ctx.case, ctx.data, _unit(ctx)
    if _by_person(ctx):
        assert ctx.principal is not None
        case.dispatch_source = "person"
        scope = ctx.principal.scope
        center = command_center(scope, unit) if scope else None
        case.dispatch_queue = (
            center or case.dispatch_queue or command_center(case.owning_unit, unit)
        )
    else:
        case.dispatch_source = data.get("source") or ("rule" if "rule" in data else "system")
        if "rule" in data:
            case.dispatch_rule, case.rules_version = data["rule"], data.get("rules_version")
        case.dispatch_queue = data.get("queue_unit")  # the rule hook always names it
        if case.dispatch_queue is None:
            department = ctx.session.get(Department, case.lead_department or "")
            lead_unit = department.unit if department else None
            case.dispatch_queue = return_center(case.owning_unit, lead_unit, unit)
    return {"dispatch_source": case.dispatch_source, "dispatch_queue": case.dispatch_queue}


def record_queue(ctx: EffectContext) -> dict[str, Any]:
    """The case goes to a command center's manual queue (待派遣)."""
    case, data, unit = ctx.case, ctx.data, _unit(ctx)
    target = data.get("queue_unit")
    if target is not None:
        found = unit(target)
        if found is None or found.tier not in COMMAND_TIERS:
            raise InvalidInput("queue_unit", f"{target!r} is not a command center")
    else:
        target = center_at(case.owning_unit, data.get("queue", "city"), unit)
    case.dispatch_queue, case.queued_at = target, ctx.now
    if _by_person(ctx):
        case.dispatch_source = "person"
    else:
        case.dispatch_source = data.get("source") or ("rule" if "rule" in data else "system")
        if "rule" in data:
            case.dispatch_rule, case.rules_version = data["rule"], data.get("rules_version")
    return {"dispatch_source": case.dispatch_source, "dispatch_queue": target}


_TASKS_OF = Prepared(
    select(TASKS.c.id, TASKS.c.department, TASKS.c.lead, TASKS.c.done)
    .where(TASKS.c.case_id == bindparam("case_id"))
    .order_by(TASKS.c.id)
)
_REPORTED = Prepared(update(TASKS).where(TASKS.c.id == bindparam("task_id")).values(done=true()))


def _tasks(ctx: EffectContext) -> list[dict[str, Any]]:
    """The case's tasks as stored, with those given in this transaction written first."""
    rowbuffer.flush(ctx.session, TASKS)
    return _TASKS_OF.all(ctx.session.connection(), {"case_id": ctx.case.id})


def co_report(ctx: EffectContext) -> dict[str, Any]:
    """协办反馈: the acting handler's co-handler task is done."""
    department = ctx.principal.scope if ctx.principal is not None else None
    tasks = _tasks(ctx)
    mine = next((t for t in tasks if t["department"] == department and not t["lead"]), None)
    if mine is None:
        co = [t["department"] for t in tasks if not t["lead"]]
        raise Forbidden(
            f"'co_report' is for the co-handlers of case {ctx.case.id} ({', '.join(co) or 'none'})"
        )
    if mine["done"]:
        raise Conflict(f"{department} has already reported on case {ctx.case.id}")
    _REPORTED.rowcount(ctx.session.connection(), {"task_id": mine["id"]})
    pending = [t["department"] for t in tasks if not (t["lead"] or t["done"] or t is mine)]
    return {"department": department, "pending_co_handlers": pending}


def require_co_reports(ctx: EffectContext) -> None:
    """The lead may resolve only once every co-handler has reported (co_report)."""
    pending = [t["department"] for t in _tasks(ctx) if not (t["lead"] or t["done"])]
    if pending:
        raise Conflict(
            f"case {ctx.case.id} cannot be resolved yet: co-handler(s) {', '.join(pending)} "
            "have not reported their part (co_report)",
            {"pending_co_handlers": pending},
        )


def record_return(ctx: EffectContext) -> dict[str, Any]:
    """退单: the case waits in its command center's queue again, from now."""
    ctx.case.queued_at = ctx.now
    return {}


def register(effects: ActionEffects) -> None:
    """Dispatch's part of the actions: after the core assigns the department, who chose it;
    the manual queue; co-handler reports, which the lead's resolve waits for."""
    effects.register("dispatch", record_dispatch)
    effects.register("redispatch", record_dispatch)
    effects.register("queue", record_queue)
    effects.register("return", record_return)
    effects.register("co_report", co_report)
    effects.register("resolve", require_co_reports, first=True)
